"""Index rebuild rate (issue #10 point 4): ``crashcart index rebuild``'s crashes per second on PostgreSQL.

A fresh data directory gets ``--count`` crashes in file storage, spread over 7 days: a raw crash each and a
processed crash whose ``json_dump`` is a real walk of a corpus dump (``../shared/corpus``; rust-minidump's JSON
as our stack walker writes it, 100-280 KB, as Socorro's are) and whose top-level fields are realistic (Zipf-ish
signatures, a few products, versions, platforms, process types, memory measures, add-ons, module lists). Then it
times, in the same process and run:

- ``rebuild``: ``search.rebuild.Rebuild`` over the 7 days into an empty index with ``--readers`` reader
  processes (what ``crashcart index rebuild`` runs, without the progress bar) — the result;
- ``read floor``: listing the days, reading + decoding every processed crash and making its row, in this one
  process, nothing else (storage's and ``index_row``'s share, single-threaded);
- ``write floor``: ``CrashIndex.write_rows`` of the same rows, made beforehand (the database's share);
- ``rebuild again``: the same rebuild over the now-full index (every row an update).

It prints the rates and their ratios and writes a JSON result under ``bench/results/``. The database is a new one
on the PostgreSQL server given by ``--admin-url`` (dropped afterwards), or any ``--database-url``.

usage: .venv/bin/python bench/search/rebuild_rate.py [--count N] [--admin-url URL] [--out FILE]
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
from crashcart.search.rebuild import Rebuild, days
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
    parser.add_argument("--readers", type=int, default=2, help="Reader processes (the CLI's --readers).")
    args = parser.parse_args()

    created = None
    url = args.database_url
    if url is None:
        created = f"crashcart_bench_rebuild_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{created}"')
        url = args.admin_url.rsplit("/", 1)[0] + f"/{created}"
    try:
        result = _run(url, args.count, args.seed, args.readers)
    finally:
        if created is not None:
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')
    out = args.out or ROOT / "bench" / "results" / f"search-rebuild-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


def _run(url: str, count: int, seed: int, readers: int) -> dict[str, Any]:
    rng = random.Random(seed)
    walks = _walks(ROOT / "bench" / ".work" / "search-rebuild")
    with tempfile.TemporaryDirectory(prefix="crashcart-bench-rebuild-") as tmp:
        settings = load_settings(environ={}, data_dir=tmp, database_url=url)
        db.migrate(settings)
        writer = open_storage(settings, None)
        first = dt.date(2026, 11, 23)
        span = days(first, first + dt.timedelta(days=6))
        sizes = []
        started = time.perf_counter()
        for n in range(count):
            day = span[n % len(span)]
            moment = dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(seconds=rng.randrange(86_400))
            crash_id = create_crash_id(moment)
            writer.save_raw_crash(
                crash_id, {"uuid": crash_id}, [DumpFile("upload_file_minidump", 4, "0" * 64, data=b"MDMP")]
            )
            processed = {
                k: v for k, v in _processed(crash_id, moment, walks[n % len(walks)], rng).items() if v is not None
            }
            writer.save_processed_crash(crash_id, processed)
            sizes.append(len(json.dumps(processed)))
        writer.close()
        took = time.perf_counter() - started
        print(f"stored {count} crashes ({sum(sizes) / count / 1024:.0f} KiB processed each) in {took:.1f} s")

        storage = open_storage(settings, Role.WEBAPP)
        index = CrashIndex(settings)

        backend = _backend_pid()
        started, cpu_before = time.perf_counter(), _cpu(backend)
        result = Rebuild(storage, index, span[0], span[-1], readers=readers, settings=settings).run()
        rebuild_s = time.perf_counter() - started
        cpu = {k: v - cpu_before[k] for k, v in _cpu(backend).items()}
        assert result.indexed == count, result

        started = time.perf_counter()
        rows = [
            index.row(crash_id, storage.get_processed_crash(crash_id))
            for day in span
            for crash_id in storage.list_raw_crash_ids(day)
        ]
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        for start in range(0, len(rows), 500):
            index.write_rows(rows[start : start + 500])
        write_s = time.perf_counter() - started

        started = time.perf_counter()
        again = Rebuild(storage, index, span[0], span[-1], readers=readers, settings=settings).run(restart=True)
        again_s = time.perf_counter() - started
        assert again.indexed == count

        from django.db import connection  # noqa: PLC0415 - only after db.configure

        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), pg_total_relation_size('search_crash_p20261123') FROM search_crash")
            (rows_in_index, partition_bytes) = cursor.fetchone()
        index.close()
        storage.close()

    cpu_per_crash_ms = {k: round(v / count * 1000, 3) for k, v in cpu.items()}
    total_ms = sum(cpu_per_crash_ms.values())
    print(f"rebuild CPU per crash (ms): {cpu_per_crash_ms}; total {total_ms:.2f}")
    print(f"machine load while rebuilding: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rates = {
        "rebuild_crashes_per_s": count / rebuild_s,
        "rebuild_again_crashes_per_s": count / again_s,
        "read_and_row_floor_crashes_per_s": count / read_s,
        "write_floor_crashes_per_s": count / write_s,
    }
    for name, rate in rates.items():
        print(f"{name:36} {rate:10,.0f}")
    print(
        f"rebuild / read floor {rates['rebuild_crashes_per_s'] / rates['read_and_row_floor_crashes_per_s']:.2f}, "
        f"rebuild / write floor {rates['rebuild_crashes_per_s'] / rates['write_floor_crashes_per_s']:.2f}; "
        f"target >= 1,000 crashes/s: {'met' if rates['rebuild_crashes_per_s'] >= 1000 else 'NOT met'}"
    )
    return {
        "benchmark": "search index rebuild rate (issue #10 point 4)",
        "command": f".venv/bin/python bench/search/rebuild_rate.py --count {count} --seed {seed} --readers {readers}",
        "readers": readers,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "database": "postgresql (local)" if url.startswith("postgres") else "other",
        "crashes": count,
        "days": 7,
        "processed_kib_mean": round(sum(sizes) / count / 1024, 1),
        "rows_in_index": rows_in_index,
        "one_week_partition_bytes": partition_bytes,
        "load_average_1m_after_rebuild": os.getloadavg()[0],
        "rebuild_cpu_ms_per_crash": cpu_per_crash_ms,
        "rebuild_cpu_ms_per_crash_total": round(total_ms, 3),
        "rebuild_crashes_per_cpu_second": round(1000 / total_ms, 1),
        "seconds": {"rebuild": rebuild_s, "rebuild_again": again_s, "read_and_row": read_s, "write": write_s},
        **{k: round(v, 1) for k, v in rates.items()},
        "target_crashes_per_s": 1000,
    }


if __name__ == "__main__":
    main()
