"""The columnar reference: the same generated crashes in DuckDB, asked the same questions in hand-written SQL.

The rows are flattened to Super Search's names (``date`` = ``date_processed``, ``platform`` = ``os_name``,
``build_id`` = ``build`` as an integer, ``modules_in_stack`` split on ``;`` into a list, …), written to a
newline-delimited JSON file and read by DuckDB's own reader into a native table (its storage is columnar and
compressed, and it scans with every core it is given). ``date`` is kept as naive UTC.

A question is answered by the statements a person would write for it (a count, one ``GROUP BY`` per facet,
the hits with ``ORDER BY date DESC, uuid`` and ``LIMIT/OFFSET``, ``count(DISTINCT …)`` for a cardinality), run
one after the other; the time of the question is the time of all of them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb
from queries import Facet, Question

from crashcart.crashid import date_of

#: Reference table columns: Super Search name → (DuckDB type, how to get it from a processed crash).
COLUMNS: dict[str, str] = {
    "uuid": "VARCHAR",
    "date": "TIMESTAMP",
    "product": "VARCHAR",
    "version": "VARCHAR",
    "major_version": "INTEGER",
    "release_channel": "VARCHAR",
    "build_id": "BIGINT",
    "platform": "VARCHAR",
    "platform_version": "VARCHAR",
    "platform_pretty_version": "VARCHAR",
    "cpu_arch": "VARCHAR",
    "process_type": "VARCHAR",
    "report_type": "VARCHAR",
    "signature": "VARCHAR",
    "reason": "VARCHAR",
    "address": "VARCHAR",
    "uptime": "BIGINT",
    "install_age": "BIGINT",
    "install_time": "BIGINT",
    "startup_crash": "BOOLEAN",
    "safe_mode": "BOOLEAN",
    "accessibility": "BOOLEAN",
    "dom_fission_enabled": "BOOLEAN",
    "useragent_locale": "VARCHAR",
    "addons": "VARCHAR[]",
    "modules_in_stack": "VARCHAR[]",
    "url": "VARCHAR",
}
_RENAMED = {"platform": "os_name", "platform_version": "os_version", "platform_pretty_version": "os_pretty_version"}


def flat(crash: Mapping[str, Any]) -> dict[str, Any]:
    """One reference row from a processed crash (absent fields: null)."""
    row: dict[str, Any] = {}
    for name in COLUMNS:
        row[name] = crash.get(_RENAMED.get(name, name))
    when = dt.datetime.fromisoformat(crash["date_processed"]).astimezone(dt.UTC)
    if date_of(crash["uuid"]) != when.date():  # the index partitions by date: a generator bug must not hide
        raise ValueError(f"crash id {crash['uuid']} disagrees with date_processed {crash['date_processed']}")
    row["date"] = when.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    row["build_id"] = int(crash["build"]) if crash.get("build") else None
    modules = crash.get("modules_in_stack")
    row["modules_in_stack"] = modules.split(";") if modules else None
    return row


def load(crashes: Iterable[Mapping[str, Any]], threads: int | None = None) -> tuple[duckdb.DuckDBPyConnection, float]:
    """An in-memory DuckDB with table ``crashes`` holding ``crashes``; and the seconds DuckDB took to load it."""
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    fd, name = tempfile.mkstemp(prefix="crashcart-bench-", suffix=".ndjson")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for crash in crashes:
                out.write(json.dumps(flat(crash)))
                out.write("\n")
        columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"
        started = time.perf_counter()
        con.execute(
            f"CREATE TABLE crashes AS SELECT * FROM read_json(?, format = 'newline_delimited', columns = {columns})",
            [name],
        )
        seconds = time.perf_counter() - started
    finally:
        Path(name).unlink(missing_ok=True)
    return con, seconds


def _terms(con: duckdb.DuckDBPyConnection, facet: Facet, where: str) -> list[list[Any]]:
    rows = con.execute(
        f"SELECT {facet.expr} AS term, count(*) AS n FROM crashes WHERE {where} AND {facet.expr} IS NOT NULL "
        f"GROUP BY term ORDER BY n DESC, term LIMIT {facet.size}"
    ).fetchall()
    return [[_term(t), n] for t, n in rows]


def _term(value: Any) -> str:
    if isinstance(value, bool):
        return "T" if value else "F"
    return str(value)


def answer(con: duckdb.DuckDBPyConnection, question: Question) -> dict[str, Any]:
    """The reference answer to ``question``, in :func:`queries.from_supersearch`'s shape."""
    where = question.where
    result: dict[str, Any] = {"total": con.execute(f"SELECT count(*) FROM crashes WHERE {where}").fetchone()[0]}  # type: ignore[index]
    for facet in question.facets:
        result[f"facet:{facet.field}"] = _terms(con, facet, where)
    if question.histogram_sub is not None:
        sub = question.histogram_sub.expr
        rows = con.execute(
            f"SELECT date_trunc('day', date) AS day, {sub} AS term, count(*) AS n FROM crashes WHERE {where} "
            f"GROUP BY ALL"
        ).fetchall()
        days: dict[str, list[list[Any]]] = {}
        for day, term, n in rows:
            days.setdefault(day.date().isoformat(), []).append([_term(term), n])
        result["histogram"] = [
            [
                day,
                sum(n for _, n in terms),
                sorted(terms, key=lambda tn: (-tn[1], tn[0]))[: question.histogram_sub.size],
            ]
            for day, terms in sorted(days.items())
        ]
    if question.cardinality:
        result["cardinality"] = con.execute(
            f"SELECT count(DISTINCT {question.cardinality}) FROM crashes WHERE {where}"
        ).fetchone()[0]  # type: ignore[index]
    if question.per_term_cardinality:
        facet, fld = question.per_term_cardinality
        rows = con.execute(
            f"SELECT {facet.expr} AS term, count(*) AS n, count(DISTINCT {fld}) FROM crashes "
            f"WHERE {where} AND {facet.expr} IS NOT NULL GROUP BY term ORDER BY n DESC, term LIMIT {facet.size}"
        ).fetchall()
        result["per_term_cardinality"] = [[_term(t), n, c] for t, n, c in rows]
    if question.hits:
        rows = con.execute(
            f"SELECT {', '.join(question.hits)} FROM crashes WHERE {where} "
            f"ORDER BY date DESC, uuid LIMIT {question.limit} OFFSET {question.offset}"
        ).fetchall()
        result["hits"] = [[row[0], row[1].isoformat(timespec="microseconds")] for row in rows]
    return result


def pick_subjects(con: duckdb.DuckDBPyConnection, where_window: str) -> tuple[str, str]:
    """The signature the report and page questions are about (Firefox's third most frequent in the window, the
    report a developer opens from the top-crashers list), and a class name for the contains search (one that
    occurs in about 1 to 3% of the window's crashes, as a search for a component does)."""
    top = con.execute(
        f"SELECT signature, count(*) AS n FROM crashes WHERE product = 'Firefox' AND {where_window} "
        "GROUP BY signature ORDER BY n DESC, signature LIMIT 3"
    ).fetchall()
    report = top[-1][0]
    candidates = ("GLContext", "MessageChannel", "WorkerPrivate", "nsRefreshDriver", "ScriptLoader")
    total = con.execute(f"SELECT count(*) FROM crashes WHERE {where_window}").fetchone()[0]  # type: ignore[index]
    best, best_gap = candidates[0], float("inf")
    for name in candidates:
        share = con.execute(
            f"SELECT count(*) FROM crashes WHERE contains(signature, ?) AND {where_window}", [name]
        ).fetchone()[0] / max(total, 1)  # type: ignore[index]
        gap = abs(share - 0.02)
        if gap < best_gap:
            best, best_gap = name, gap
    return report, best
