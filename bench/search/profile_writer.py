"""Where the index writer's time goes: cProfile of ``CrashIndex.upsert_many`` on PostgreSQL.

Loads ``--n`` of the benchmark's generated crashes into a scratch database on the local server (created and
dropped here) with the first half unprofiled (so the table is not empty), profiles the second half and prints
the functions with the most time of their own. The profiler slows Python code more than the time spent waiting
for the server, so read the shares, not the rate.

usage: .venv/bin/python bench/search/profile_writer.py [--n 20000] [--top 15]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time

import generate
import psycopg

from crashcart import database as db
from crashcart.settings import load_settings

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
NAME = "crashcart_bench_profile"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--admin-url", default=ADMIN)
    args = parser.parse_args()
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{NAME}"')
    try:
        url = f"{args.admin_url.rsplit('/', 1)[0]}/{NAME}"
        settings = load_settings(environ={}, data_dir=tempfile.mkdtemp(), database_url=url)
        db.migrate(settings)
        from crashcart.search.writer import CrashIndex  # noqa: PLC0415  (imports models: after Django's set-up)

        index = CrashIndex(settings)
        items = [(crash["uuid"], crash) for crash in generate.crashes(args.n, generate.DEFAULT_SEED)]
        half = len(items) // 2
        index.upsert_many(items[:half])
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.runcall(index.upsert_many, items[half:])
        print(f"{len(items) - half:,} crashes in {time.perf_counter() - started:.1f} s under the profiler")
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
        index.close()
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
