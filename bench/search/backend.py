"""One search backend of the benchmark, in its own process (Django is configured once per process, for one URL).

``run.py`` starts one of these per database URL and drives it with JSON lines on stdin; each answer is one line
on stdout starting with ``@@`` (anything else a library prints is passed through to stderr by the parent).

- ``load``: migrate, then regenerate the benchmark's crashes (``generate.crashes``, same N and seed as the parent)
  and write them **through the real index writer** (``CrashIndex.upsert_many``), one generated chunk per call;
  the clock runs only inside ``upsert_many`` (shaping the row and the database's work), never in the generator.
  Then, on PostgreSQL, ``VACUUM ANALYZE`` (timed apart): what autovacuum would do in the minutes after such a
  load, done at once so it does not land in the middle of the measurements.
- ``run``: ``crashcart.search.query.supersearch(params, allow_protected=True, now=…)``, the function the API calls,
  ``times`` times; the seconds of each call, and the response of the first if asked.
- ``explain``: run the question once with every SQL statement Django sends recorded, then each statement again
  under ``EXPLAIN (ANALYZE, BUFFERS)`` (PostgreSQL) or timed with ``EXPLAIN QUERY PLAN`` (SQLite): where the
  time goes.

usage (by run.py): .venv/bin/python bench/search/backend.py --url URL --n N --seed S --data-dir DIR
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import inspect
import itertools
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import generate

from crashcart import database as db
from crashcart.settings import Settings, load_settings


def say(message: dict[str, Any]) -> None:
    sys.stdout.write("@@" + json.dumps(message, default=str) + "\n")
    sys.stdout.flush()


class Backend:
    def __init__(
        self, url: str, n: int, seed: int, data_dir: Path, batch: int | None, search_timeout: float | None
    ) -> None:
        overrides: dict[str, Any] = {}
        if search_timeout and "search_timeout" in Settings.model_fields:
            overrides["search_timeout"] = search_timeout
        self.settings = load_settings(environ={}, data_dir=data_dir, database_url=url, **overrides)
        self.n = n
        self.seed = seed
        self.batch = batch
        db.migrate(self.settings)
        from django.db import connection  # noqa: PLC0415  (Django is set up by db.migrate first)

        self.vendor = connection.vendor

    def load(self, reuse: bool = False) -> dict[str, Any]:
        """Write the crashes, or with ``reuse`` keep what a kept database holds (migrated at start, then
        analysed: for trying a change of the runner or the schema without a new load; not a run of record)."""
        from django.db import connection  # noqa: PLC0415  (Django is set up by db.migrate first)

        from crashcart.search.writer import CrashIndex  # noqa: PLC0415  (imports models: after Django's set-up)

        if reuse:
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM search_crash")
                out: dict[str, Any] = {"rows": cursor.fetchone()[0], "reused": True}
            return self._after_load(out)
        index = CrashIndex(self.settings)
        written = 0
        writer_seconds = 0.0
        started = time.perf_counter()
        crashes = generate.crashes(self.n, self.seed)
        kwargs = {"batch": self.batch} if self.batch else {}
        while chunk := [(c["uuid"], c) for c in itertools.islice(crashes, generate.CHUNK)]:
            t0 = time.perf_counter()
            written += index.upsert_many(chunk, **kwargs)
            writer_seconds += time.perf_counter() - t0
            print(f"{self.vendor}: {written:,} written, {written / writer_seconds:,.0f}/s", file=sys.stderr, flush=True)
        wall = time.perf_counter() - started
        out = {
            "rows": written,
            "writer_seconds": writer_seconds,
            "wall_seconds": wall,
            "rate": written / writer_seconds,
        }
        return self._after_load(out)

    def _after_load(self, out: dict[str, Any]) -> dict[str, Any]:
        from django.db import connection  # noqa: PLC0415  (Django is set up by db.migrate first)

        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute("VACUUM ANALYZE")
                out["vacuum_analyze_seconds"] = time.perf_counter() - t0
                cursor.execute("SELECT pg_database_size(current_database())")
                out["database_bytes"] = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT c.relname, c.reltuples::bigint, pg_relation_size(c.oid), pg_table_size(c.oid), "
                    "pg_indexes_size(c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'search_crash'::regclass ORDER BY c.relname"
                )
                out["partitions"] = [
                    {"name": name, "rows": rows, "heap_bytes": heap, "table_bytes": table, "index_bytes": index}
                    for name, rows, heap, table, index in cursor.fetchall()
                ]
                cursor.execute(
                    "SELECT COALESCE(SUM(pg_relation_size(c.oid)), 0)::bigint, "
                    "COALESCE(SUM(pg_table_size(c.oid)), 0)::bigint "
                    "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'search_crashdata'::regclass"
                )
                data_heap, data_table = cursor.fetchone()
                out["data_table"] = {"heap_bytes": data_heap, "table_bytes": data_table}
                cursor.execute("SHOW shared_buffers")
                out["shared_buffers"] = cursor.fetchone()[0]
                cursor.execute("SHOW work_mem")
                out["work_mem"] = cursor.fetchone()[0]
                cursor.execute("SHOW max_parallel_workers_per_gather")
                out["max_parallel_workers_per_gather"] = cursor.fetchone()[0]
                cursor.execute("SELECT version()")
                out["server"] = cursor.fetchone()[0]
            else:
                cursor.execute("PRAGMA page_count")
                pages = cursor.fetchone()[0]
                cursor.execute("PRAGMA page_size")
                out["database_bytes"] = pages * cursor.fetchone()[0]
                cursor.execute("SELECT sqlite_version()")
                out["server"] = "SQLite " + cursor.fetchone()[0]
        return out

    def _search(self) -> Callable[..., dict[str, Any]]:
        """``supersearch`` with this backend's settings (their search timeout) when it takes them."""
        try:
            from crashcart.search.query import supersearch  # noqa: PLC0415  (after Django's set-up)
        except ImportError:
            from crashcart.search.runner import supersearch  # noqa: PLC0415  (after Django's set-up)
        if "settings" in inspect.signature(supersearch).parameters:
            return functools.partial(supersearch, settings=self.settings)
        return supersearch

    def run(self, params: dict[str, list[str]], now: str, times: int, answer: bool) -> dict[str, Any]:
        search = self._search()
        when = dt.datetime.fromisoformat(now)
        seconds = []
        body: dict[str, Any] | None = None
        for _ in range(times):
            t0 = time.perf_counter()
            result = search(params, allow_protected=True, now=when)
            seconds.append(time.perf_counter() - t0)
            if body is None and answer:
                body = result
        return {"seconds": seconds, "body": body}

    def explain(self, params: dict[str, list[str]], now: str) -> dict[str, Any]:
        from django.db import connection  # noqa: PLC0415  (Django is set up by db.migrate first)

        search = self._search()
        with _recording() as statements:
            t0 = time.perf_counter()
            search(params, allow_protected=True, now=dt.datetime.fromisoformat(now))
            total = time.perf_counter() - t0
        out = []
        for sql, sql_params, seconds in statements:
            head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
            entry: dict[str, Any] = {"sql": sql, "params": sql_params, "seconds": seconds}
            if head in ("SELECT", "WITH") and "set_config(" not in sql:
                with connection.cursor() as cursor:
                    if self.vendor == "postgresql":
                        _search_settings(cursor)
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, sql_params)
                    else:
                        cursor.execute("EXPLAIN QUERY PLAN " + sql, sql_params)
                    entry["plan"] = "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())
                    if self.vendor == "postgresql":
                        cursor.execute("RESET work_mem")
                        cursor.execute("RESET parallel_tuple_cost")
            out.append(entry)
        return {"total_seconds": total, "statements": out}


def _search_settings(cursor: Any) -> None:
    """The planner settings a search runs its statements under (the runner sets them for its transaction), so
    the plans explained are the plans run."""
    from crashcart.search import runner  # noqa: PLC0415  (after Django's set-up)

    for name, value in (("work_mem", getattr(runner, "WORK_MEM", None)),
                        ("parallel_tuple_cost", getattr(runner, "PARALLEL_TUPLE_COST", None))):  # fmt: skip
        if value is not None:
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])


@contextmanager
def _recording() -> Iterator[list[tuple[str, Any, float]]]:
    """Every statement Django executes meanwhile, with its parameters and seconds."""
    from django.db import connection  # noqa: PLC0415  (Django is set up by db.migrate first)

    statements: list[tuple[str, Any, float]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((sql, params, time.perf_counter() - t0))

    with connection.execute_wrapper(wrapper):
        yield statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--batch", type=int, default=None, help="upsert_many's batch (default: the writer's)")
    parser.add_argument("--search-timeout", type=float, default=None, help="CRASHCART_SEARCH_TIMEOUT (s)")
    args = parser.parse_args()
    backend = Backend(args.url, args.n, args.seed, args.data_dir, args.batch, args.search_timeout)
    say({"ready": backend.vendor})
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        try:
            if op == "load":
                say(backend.load(request.get("reuse", False)))
            elif op == "run":
                say(backend.run(request["params"], request["now"], request["times"], request.get("answer", False)))
            elif op == "explain":
                say(backend.explain(request["params"], request["now"]))
            elif op == "quit":
                say({"bye": True})
                return
            else:
                say({"error": f"unknown op {op}"})
        except Exception as exc:  # reported to the parent, which records the question as failed here
            say({"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main()
