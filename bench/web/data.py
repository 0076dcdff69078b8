"""The web benchmark's data: the search benchmark's crashes in PostgreSQL's index, and a few hundred of them stored.

- **Index**: ``bench/search/generate.py``'s N crashes (the search benchmark's generator, same seed), written
  through the real index writer (``CrashIndex.upsert_many``), then ``VACUUM ANALYZE`` as in
  ``bench/search/backend.py``. One difference: the 28 days end at ``end`` (the start of the run, to the
  minute), not at the search benchmark's fixed date, because the pages ask for "the last 7 days" of the
  server's clock and have no other "now".
- **Storage**: ``stored`` of those crashes (every N/stored-th row, so spread over the 28 days), each written
  with ``open_storage(settings, None)`` (every role) as the collector and processor write them: a raw crash (the
  load generator's 44 Firefox annotations, ``../shared/tools/loadgen``, with the crash's product, version,
  channel and build, plus the collector's ``metadata``) with its dump (the corpus dump that was walked), and the
  processed crash: the generated document (the same one the index holds) with a ``json_dump`` that is a real
  walk of a corpus dump (``crashcart stackwalk --json``, cached under ``bench/.work/web/``; the dumps of
  ``bench/search/rebuild_rate.py``, 58 to 217 modules), its ``crashing_thread`` and ``cpu_info``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import itertools
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "search"))
sys.path.insert(0, str(ROOT / "bench"))  # bench/measure.py: what the benchmarks share

import generate  # noqa: E402
from rebuild_rate import CORPUS, DUMPS, _walks  # noqa: E402

from crashcart.settings import Settings  # noqa: E402
from crashcart.storage import open_storage  # noqa: E402
from crashcart.storage.interfaces import DumpFile  # noqa: E402

LOADGEN = ROOT.parent / "shared" / "tools" / "loadgen" / "build_payload.py"
WALKS = ROOT / "bench" / ".work" / "web"


def log(message: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def firefox_annotations() -> dict[str, str]:
    """The load generator's 44 Firefox annotations (as the collector and processor benchmarks use them)."""
    if not LOADGEN.is_file():
        return {"ProductName": "Firefox", "Version": "120.0", "ReleaseChannel": "release", "BuildID": "20231116134553"}
    spec = importlib.util.spec_from_file_location("build_payload", LOADGEN)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    annotations: dict[str, str] = module.annotations(random.Random(8))
    return annotations


def load_index(settings: Settings, n: int, seed: int, end: dt.datetime, stored: int) -> dict[str, Any]:
    """Write the N crashes through the index writer; the documents of the ``stored`` to put in storage."""
    from django.db import connection  # noqa: PLC0415  (after Django's set-up)

    from crashcart.search.writer import CrashIndex  # noqa: PLC0415  (imports models)

    index = CrashIndex(settings)
    step = max(1, n // stored)
    keep: list[dict[str, Any]] = []
    written = 0
    writer_seconds = 0.0
    started = time.perf_counter()
    crashes = generate.crashes(n, seed, end)
    row = 0
    while chunk := list(itertools.islice(crashes, generate.CHUNK)):
        for crash in chunk:
            if row % step == 0 and len(keep) < stored:
                keep.append(crash)
            row += 1
        t0 = time.perf_counter()
        written += index.upsert_many([(c["uuid"], c) for c in chunk])
        writer_seconds += time.perf_counter() - t0
        if written % 100_000 == 0 or written == n:
            log(f"index: {written:,} written, {written / writer_seconds:,.0f}/s in the writer")
    wall = time.perf_counter() - started
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        vacuum = time.perf_counter() - t0
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0]
    return {
        "rows": written,
        "writer_seconds": writer_seconds,
        "wall_seconds": wall,
        "rate": written / writer_seconds,
        "vacuum_analyze_seconds": vacuum,
        "database_bytes": size,
        "server": server,
        "kept": keep,
    }


def store(settings: Settings, documents: list[dict[str, Any]]) -> dict[str, Any]:
    """Store each document as a crash: raw crash + dump, processed crash with a real walk's ``json_dump``."""
    walks = _walks(WALKS)
    dumps = [(CORPUS / name).read_bytes() for name in DUMPS if (CORPUS / name).exists()]
    annotations = firefox_annotations()
    storage = open_storage(settings, None)  # every role: raw crashes (collector) and processed (processor)
    started = time.perf_counter()
    sizes = []
    by_walk: dict[int, list[str]] = {}
    for number, doc in enumerate(documents):
        crash_id = doc["uuid"]
        which = number % len(walks)
        walk = walks[which]
        data = dumps[which % len(dumps)]
        sha = hashlib.sha256(data).hexdigest()
        raw = {
            **annotations,
            "ProductName": doc["product"],
            "Version": doc["version"],
            "ReleaseChannel": doc["release_channel"],
            "BuildID": doc["build"],
            "submitted_timestamp": doc["submitted_timestamp"],
            "uuid": crash_id,
            "version": 2,
            "metadata": {
                "payload": "multipart",
                "payload_compressed": "0",
                "payload_size": len(data) + 20_000,
                "collector_notes": [],
                "dump_checksums": {"upload_file_minidump": sha},
                "user_agent": "crashcart-bench",
                "throttle_rule": "accept_everything",
                "throttle_result": "accept",
            },
        }
        storage.save_raw_crash(crash_id, raw, [DumpFile("upload_file_minidump", len(data), sha, data=data)])
        info = walk.get("crash_info") or {}
        processed = {
            **{k: v for k, v in doc.items() if v is not None},
            "crash_id": crash_id,
            "crashing_thread": info.get("crashing_thread", doc.get("crashing_thread")),
            "cpu_info": (walk.get("system_info") or {}).get("cpu_info") or "family 6 model 158 stepping 10",
            "json_dump": walk,
        }
        storage.save_processed_crash(crash_id, processed)
        sizes.append(len(json.dumps(processed)))
        by_walk.setdefault(which, []).append(crash_id)
    storage.close()
    return {
        "stored": len(documents),
        "seconds": time.perf_counter() - started,
        "processed_kib_mean": sum(sizes) / len(sizes) / 1024,
        "walks": [
            {
                "dump": DUMPS[i],
                "threads": len(w.get("threads") or []),
                "modules": len(w.get("modules") or []),
                "json_dump_kib": len(json.dumps(w)) / 1024,
            }
            for i, w in enumerate(walks)
        ],
        "by_walk": {DUMPS[i]: ids for i, ids in sorted(by_walk.items())},
    }
