"""Index rebuild rate (issue #10 point 4): ``crashcart index rebuild``'s crashes per second on PostgreSQL.

A data directory gets ``--count`` crashes in file storage, spread over 7 days (one ISO week): a raw crash each and
a processed crash whose ``json_dump`` is a real walk of a corpus dump (``../shared/corpus``; rust-minidump's JSON
as our stack walker writes it, 100-280 KB, as Socorro's are) and whose top-level fields are realistic (Zipf-ish
signatures, a few products, versions, platforms, process types, memory measures, add-ons, module lists). Then, in
the same process and run, it times:

- ``search.rebuild.Rebuild`` over the 7 days into an empty index (what ``crashcart index rebuild`` runs, without
  the progress bar), once per ``--readers`` count (0: one reading thread in this process);
- the same over the full index (every row an update);
- the floors: reading + decoding the catalogue's fields of every processed crash and making its row in this one
  process, nothing else (storage's and ``index_row``'s share; also with the whole document decoded, as before
  ``get_processed_crash(fields=…)``), and ``CrashIndex.write_rows`` of those rows into an empty index (the
  database's share).

CPU per crash is measured for this process, the reader processes and the PostgreSQL backend (from /proc), so a
run on a busy machine still says what a rebuild costs. It prints the rates and writes a JSON result under
``bench/results/``. The database is a new one on the server of ``--admin-url`` (dropped afterwards), or
``--database-url``; ``--data-dir`` keeps the stored crashes for another run.

usage: .venv/bin/python bench/search/rebuild_rate.py [--count N] [--readers 0,2] [--data-dir DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from crashcart import database as db
from crashcart.crashid import create_crash_id
from crashcart.search.rebuild import Rebuild, days, read_rows
from crashcart.search.writer import CrashIndex
from crashcart.settings import load_settings
from crashcart.storage import Role, open_storage
from crashcart.storage.interfaces import DumpFile

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
DUMPS = (
    "electron__node-minidump/dumps/linux.dmp",
    "electron__node-minidump/dumps/windows.dmp",
    "electron__node-minidump/dumps/mac.dmp",
    "BugSplat-Git__node-minidump-stackwalk/dumps/minidump.dmp",
)
PRODUCTS = [("Firefox", 0.7), ("Fenix", 0.2), ("Thunderbird", 0.1)]
PLATFORMS = [("Windows NT", "10.0.19045"), ("Linux", "6.8.0"), ("Mac OS X", "14.5.0"), ("Android", "34")]
PROCESS_TYPES = ["parent", "content", "gpu", "rdd", "utility", "socket"]


def _walks(cache: Path) -> list[dict[str, Any]]:
    """``json_dump`` documents from walking corpus dumps (cached under bench/.work/, gitignored)."""
    walks = []
    for name in DUMPS:
        target = cache / (name.replace("/", "__") + ".json")
        if not target.exists():
            dump = CORPUS / name
            if not dump.exists():
                continue
            out = subprocess.run(
                [sys.executable, "-m", "crashcart.cli", "stackwalk", "--json", str(dump)],
                capture_output=True,
                check=True,
                timeout=600,
            ).stdout
            cache.mkdir(parents=True, exist_ok=True)
            target.write_bytes(out)
        walks.append(json.loads(target.read_text()))
    if not walks:
        raise SystemExit(f"no corpus dumps under {CORPUS}")
    return walks


def _processed(crash_id: str, moment: dt.datetime, walk: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    product = rng.choices([p for p, _ in PRODUCTS], [w for _, w in PRODUCTS])[0]
    os_name, os_version = rng.choice(PLATFORMS)
    major = rng.choice([138, 139, 140, 141])
    rank = min(int(rng.paretovariate(1.1)), 20_000)
    modules = [m.get("filename", "") for m in walk.get("modules", [])[:40]]
    return {
        "uuid": crash_id,
        "crash_id": crash_id,
        "date_processed": moment.isoformat(),
        "submitted_timestamp": moment.isoformat(),
        "signature": f"mozilla::dom::Thing{rank}::Method | js::RunScript | {rank % 97}",
        "proto_signature": " | ".join(f"frame{rank}_{i}" for i in range(12)),
        "product": product,
        "version": f"{major}.0",
        "major_version": major,
        "release_channel": rng.choice(["release", "beta", "nightly"]),
        "build": str(20261100000000 + rng.randrange(10**6)),
        "os_name": os_name,
        "os_version": os_version,
        "os_pretty_version": f"{os_name} {os_version}",
        "cpu_arch": rng.choice(["amd64", "arm64", "x86"]),
        "cpu_count": rng.choice([2, 4, 8, 16]),
        "cpu_info": "family 6 model 158 stepping 10",
        "process_type": rng.choice(PROCESS_TYPES),
        "report_type": "crash",
        "reason": rng.choice(["EXCEPTION_ACCESS_VIOLATION_READ", "SIGSEGV /SEGV_MAPERR", "SIGABRT"]),
        "address": hex(rng.randrange(2**32)),
        "uptime": rng.randrange(10**5),
        "install_age": rng.randrange(10**7),
        "install_time": 1_700_000_000 + rng.randrange(10**7),
        "last_crash": rng.randrange(10**6),
        "startup_crash": rng.random() < 0.1,
        "safe_mode": False,
        "addons": [f"addon{i}@example.com:{i}.0" for i in range(rng.randrange(12))],
        "crash_report_keys": sorted(f"Annotation{i}" for i in range(44)),
        "modules_in_stack": ";".join(f"{m}/ABCDEF0123456789" for m in modules[:8]),
        "missing_symbols": ";".join(f"{m}/1.0/ABCDEF0123456789" for m in modules[8:14]),
        "topmost_filenames": "dom/base/Thing.cpp",
        "memory_measures": {"explicit": rng.randrange(2**31), "resident": rng.randrange(2**32), "vsize": 2**40},
        "user_comments": "it crashed while I was typing" if rng.random() < 0.05 else None,
        "url": "https://example.com/private/page" if rng.random() < 0.3 else None,
        "processor_notes": "signature generator ran",
        "json_dump": walk,
        "stackwalk_version": "crashcart 0.1",
    }


def _backend_pid() -> int | None:
    """The PostgreSQL backend serving this process's Django connection, if it runs on this machine."""
    from django.db import connection  # noqa: PLC0415 - only after db.configure

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return int(pid) if Path(f"/proc/{pid}/stat").exists() else None


def _cpu(backend: int | None) -> dict[str, float]:
    """CPU seconds so far of this process, of its finished children (the reader processes), and of the
    database backend (from /proc, so only for a local server)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {"rebuild_process": own.ru_utime + own.ru_stime, "readers": children.ru_utime + children.ru_stime}
    if backend is not None:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        out["postgresql_backend"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5_000)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database-url", default=None, help="Use this database instead of a new one.")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--readers", default="0,2", help="Reader process counts to time (the CLI's --readers).")
    parser.add_argument("--data-dir", type=Path, default=None, help="Keep (or reuse) the stored crashes here.")
    args = parser.parse_args()
    readers = [int(n) for n in args.readers.split(",")]

    created = None
    url = args.database_url
    if url is None:
        created = f"crashcart_bench_rebuild_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{created}"')
        url = args.admin_url.rsplit("/", 1)[0] + f"/{created}"
    try:
        if args.data_dir is not None:
            args.data_dir.mkdir(parents=True, exist_ok=True)
            result = _run(url, args.data_dir, args.count, args.seed, readers)
        else:
            with tempfile.TemporaryDirectory(prefix="crashcart-bench-rebuild-") as tmp:
                result = _run(url, Path(tmp), args.count, args.seed, readers)
    finally:
        if created is not None:
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')
    result["command"] = (
        f".venv/bin/python bench/search/rebuild_rate.py --count {args.count} --seed {args.seed} "
        f"--readers {args.readers}"
    )
    out = args.out or ROOT / "bench" / "results" / f"search-rebuild-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


FIRST_DAY = dt.date(2026, 11, 23)
SPAN = days(FIRST_DAY, FIRST_DAY + dt.timedelta(days=6))


def _store(settings: Any, count: int, seed: int) -> float:
    """Store ``count`` crashes over ``SPAN`` unless they are there; the mean processed size in KiB."""
    storage = open_storage(settings, None)
    stored = [crash_id for day in SPAN for crash_id in storage.list_raw_crash_ids(day)]
    if len(stored) == count:
        sample = stored[:: max(1, count // 50)]
        return sum(len(json.dumps(storage.get_processed_crash(c))) for c in sample) / len(sample) / 1024
    if stored:
        raise SystemExit(f"{settings.data_dir} holds {len(stored)} crashes, not {count}: use another --data-dir")
    rng = random.Random(seed)
    walks = _walks(ROOT / "bench" / ".work" / "search-rebuild")
    sizes = []
    started = time.perf_counter()
    for n in range(count):
        day = SPAN[n % len(SPAN)]
        moment = dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(seconds=rng.randrange(86_400))
        crash_id = create_crash_id(moment)
        storage.save_raw_crash(
            crash_id, {"uuid": crash_id}, [DumpFile("upload_file_minidump", 4, "0" * 64, data=b"MDMP")]
        )
        doc = _processed(crash_id, moment, walks[n % len(walks)], rng)
        processed = {k: v for k, v in doc.items() if v is not None}
        storage.save_processed_crash(crash_id, processed)
        sizes.append(len(json.dumps(processed)))
    storage.close()
    mean = sum(sizes) / count / 1024
    print(f"stored {count} crashes ({mean:.0f} KiB processed each) in {time.perf_counter() - started:.1f} s")
    return mean


def _empty_index() -> None:
    from django.db import connection  # noqa: PLC0415 - only after db.configure

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE search_crash, search_signature")


def _timed_rebuild(storage: Any, index: CrashIndex, settings: Any, readers: int, count: int) -> dict[str, Any]:
    backend = _backend_pid()
    started, cpu_before = time.perf_counter(), _cpu(backend)
    result = Rebuild(storage, index, SPAN[0], SPAN[-1], readers=readers, settings=settings).run(restart=True)
    seconds = time.perf_counter() - started
    cpu = {k: round((v - cpu_before[k]) / count * 1000, 3) for k, v in _cpu(backend).items()}
    assert result.indexed == count, result
    load = os.getloadavg()[0]
    print(
        f"rebuild, {readers} reader process(es): {count / seconds:7,.0f} crashes/s; CPU ms per crash {cpu} "
        f"(total {sum(cpu.values()):.2f}); machine load {load:.1f} on {os.cpu_count()} CPUs"
    )
    return {
        "readers": readers,
        "seconds": round(seconds, 3),
        "crashes_per_s": round(count / seconds, 1),
        "cpu_ms_per_crash": cpu,
        "cpu_ms_per_crash_total": round(sum(cpu.values()), 3),
        "load_average_1m_after": load,
    }


def _run(url: str, data_dir: Path, count: int, seed: int, reader_counts: list[int]) -> dict[str, Any]:
    settings = load_settings(environ={}, data_dir=data_dir, database_url=url)
    db.migrate(settings)
    kib = _store(settings, count, seed)
    storage = open_storage(settings, Role.WEBAPP)
    index = CrashIndex(settings)

    runs = []
    for readers in reader_counts:
        _empty_index()
        runs.append(_timed_rebuild(storage, index, settings, readers, count))
    again = _timed_rebuild(storage, index, settings, reader_counts[0], count)  # every row an update

    ids = [crash_id for day in SPAN for crash_id in storage.list_raw_crash_ids(day)]
    started = time.perf_counter()
    for crash_id in ids:
        index.row(crash_id, storage.get_processed_crash(crash_id))
    whole_s = time.perf_counter() - started  # what reading cost before the fields-only decode
    started = time.perf_counter()
    rows, _, _ = read_rows(storage, ids, index.fields)
    read_s = time.perf_counter() - started
    _empty_index()
    started = time.perf_counter()
    for at in range(0, len(rows), 500):
        index.write_rows(rows[at : at + 500])
    write_s = time.perf_counter() - started
    index.close()
    storage.close()

    best = max(runs, key=lambda run: run["crashes_per_s"])
    floors = {
        "read_and_row_crashes_per_s": round(count / read_s, 1),
        "read_whole_document_and_row_crashes_per_s": round(count / whole_s, 1),
        "write_crashes_per_s": round(count / write_s, 1),
    }
    print(
        f"floors: read+decode+row {floors['read_and_row_crashes_per_s']:,.0f}/s (one process), "
        f"write {floors['write_crashes_per_s']:,.0f}/s; best rebuild {best['crashes_per_s']:,.0f}/s with "
        f"{best['readers']} reader(s): target >= 1,000 crashes/s {'met' if best['crashes_per_s'] >= 1000 else 'NOT met'}"  # noqa: E501
    )
    return {
        "benchmark": "search index rebuild rate (issue #10 point 4)",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "database": "postgresql, local",
        "crashes": count,
        "days": len(SPAN),
        "processed_kib_mean": round(kib, 1),
        "rebuilds_into_an_empty_index": runs,
        "rebuild_over_a_full_index": again,
        "floors": floors,
        "best_crashes_per_s": best["crashes_per_s"],
        "target_crashes_per_s": 1000,
    }


if __name__ == "__main__":
    main()
