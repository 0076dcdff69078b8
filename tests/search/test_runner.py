"""Super Search executed on SQLite and on the local PostgreSQL, checked against an independent Python reference.

Each database gets the same seeded rows once per module; every case parses real request parameters with the
real catalogue, runs ``SqlSearchBackend`` and compares the whole answer (hits in order, total, facets) with
``searchdb.reference`` over the same rows.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from crashcart.errors import BadArgumentError
from crashcart.search.fields import catalogue
from crashcart.search.query import parse
from crashcart.search.runner import SqlSearchBackend
from tests.helpers.postgres import PG_ADMIN
from tests.search import searchdb
from tests.search.searchdb import NOW

INDEX_ROWS = searchdb.index_rows(searchdb.generate(seed=10, count=700))
ROWS = [searchdb.flat(row) for row in INDEX_ROWS]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def alias(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated index database holding ``ROWS``, as a Django connection alias."""
    searchdb.ensure_django(tmp_path_factory.mktemp("django"))
    name = f"search_{request.param}_{uuid.uuid4().hex[:8]}"
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('index') / 'search.sqlite3'}"
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    searchdb.add_database(name, url)
    searchdb.insert(name, INDEX_ROWS)
    yield name
    searchdb.drop_database(name)
    if request.param == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _params(**kw: str | Sequence[str]) -> dict[str, list[str]]:
    return {k.replace("__", "."): [v] if isinstance(v, str) else list(v) for k, v in kw.items()}


def _run(alias: str, params: Mapping[str, Sequence[str]], *, allow_protected: bool = True) -> tuple[Any, Any]:
    query = parse(params, catalogue(), allow_protected=allow_protected, now=NOW)
    answer = SqlSearchBackend(alias=alias, timeout=10).search(query)
    return query, answer


def _check(alias: str, params: Mapping[str, Sequence[str]], *, allow_protected: bool = True) -> dict[str, Any]:
    query, answer = _run(alias, params, allow_protected=allow_protected)
    expected = searchdb.reference(query, ROWS)
    got = {k: v for k, v in answer.items() if k != "next_cursor"}
    assert got["total"] == expected["total"]
    assert got["hits"] == expected["hits"]
    assert got["facets"] == expected["facets"]
    assert got == expected
    return answer


def test_smoke(alias: str) -> None:
    answer = _check(alias, {})
    assert answer["total"] > 50
    assert answer["facets"]["signature"]


WEEK = {"date": [">=2031-03-08", "<2031-03-15 12:00:00"]}

CASES: list[dict[str, Any]] = [
    # has terms: words for text fields, whole values (case-insensitive) for keywords and enums
    {"signature": "OOM"},
    {"signature": "oom Send"},
    {"signature": "école"},
    {"signature": ["markDelayedChildren", "shutdownhang"]},
    {"product": "Firefox"},
    {"product": "firefox"},
    {"product": "=Firefox"},  # '=' is not an enum operator: it stays in the value and matches nothing
    {"product": ["Firefox", "Fenix"]},
    {"product": "!Firefox"},
    {"release_channel": "release"},
    {"platform": "windows nt"},
    {"adapter_vendor_id": "nvidia"},
    {"moz_crash_reason": "oom"},
    {"version": "120.0b"},
    {"version": "!120.0b"},
    {"version": ["120.0", "121.0a1"]},
    # exact, contains, starts/ends with, regex, null, with SQL metacharacters
    {"signature": "=OOM | small"},
    {"signature": "!=OOM | small"},
    {"signature": "~GCMarker"},
    {"signature": "~gcmarker"},
    {"signature": "~100%"},
    {"signature": "~_odd_"},
    {"signature": "~\\"},
    {"signature": "~;--"},
    {"signature": "~'"},
    {"signature": "~%"},
    {"signature": "~_"},
    {"signature": "^OOM"},
    {"signature": "$Send"},
    {"signature": "$;--"},
    {"signature": ["^OOM", "$Send"]},
    {"signature": ["!~OOM", "!~js"]},
    {"signature": "@OOM.*"},
    {"signature": "@.*\\(a\\+\\)\\+\\$"},
    {"signature": "@[a-z]+"},
    {"signature": "!@OOM.*"},
    {"signature": "__null__"},
    {"signature": "!__null__"},
    {"moz_crash_reason": "~50%"},
    {"moz_crash_reason": "__null__"},
    # numbers: ranges AND'ed, plain values OR'ed
    {"build_id": ">20231201093000"},
    {"build_id": [">=20231201093000", "<=20231215000000"]},
    {"build_id": "20240101120000"},
    {"uptime": [">100", "<2000"]},
    {"uptime": "!>100"},
    {"uptime": "__null__"},
    {"uptime": ["<0", "!__null__"]},
    {"cpu_count": ">4"},
    {"cpu_count": ["8", "2"]},
    {"uptime_ts": ">1.5"},
    {"uptime_ts": ["<=0", "__null__"]},
    {"major_version": ">=120"},
    # booleans
    {"startup_crash": "__true__"},
    {"startup_crash": "!__true__"},
    {"startup_crash": "__null__"},
    # list fields: element match
    {"addons": "ext@a:1.0"},
    {"addons": "EXT@A:1.0"},
    {"addons": "=ext@a:1.0"},
    {"addons": "=EXT@A:1.0"},
    {"addons": "~100%"},
    {"addons": "^ext"},
    {"addons": "!~ext"},
    {"addons": "__null__"},
    {"addons": "!__null__"},
    {"addons": "@ext@[ab]:.*"},
    {"modules_in_stack": "XUL.DLL"},
    # several fields AND'ed
    {"product": "Firefox", "platform": "Linux", "uptime": ">10"},
    {"signature": "~OOM", "addons": "ext@b:2.0", "startup_crash": "!__true__"},
    # dates: tightest bounds, default 7 days back from the upper bound, formats
    {"date": [">=2031-03-10", "<2031-03-12"]},
    {"date": [">=2031-03-01", ">2031-03-10T00:00:00Z", "<2031-03-14", "<=2031-03-13 06:30:00"]},
    {"date": "<2031-03-05"},
    {"date": [">2031-03-10T02:00:00+02:00", "<=2031-03-11T00:00:00.250000"]},
    {"date": ["!<2031-03-10", "!>=2031-03-12"]},
    # columns, sort, paging
    {"_columns": ["uuid", "date", "addons", "startup_crash", "uptime_ts", "url", "build_id", "install_age"]},
    {"_sort": "-uptime", "_columns": ["uuid", "uptime"]},
    {"_sort": ["product", "-date"]},
    {"_sort": ["-startup_crash", "uptime_ts"], "_columns": ["uuid", "startup_crash", "uptime_ts"]},
    {"_sort": "signature", "_results_number": "40"},
    {"_sort": "-signature", "_results_offset": "30", "_results_number": "25"},
    {"_results_number": "0"},
    {"_results_number": "1000", "date": ">=2031-02-24"},
    {"_results_offset": "10", "_results_number": "5"},
    # facets and aggregations
    {"_facets": ["product", "platform", "startup_crash", "addons", "uptime_ts"]},
    {"_facets": ["signature", "_cardinality.install_time", "_histogram.date", "_cardinality.addons"]},
    {"_facets": ["version", "release_channel"], "_facets_size": "3"},
    {"_facets_size": "0", "_facets": ["product"]},
    {"_aggs.product.version": "_cardinality.install_time"},
    {"_aggs.product.platform.version": ["signature"], "_facets_size": "2"},
    {"_aggs.signature": ["_histogram.uptime", "product"], "_histogram_interval.uptime": "1000"},
    {"_aggs.addons": "startup_crash"},
    {"_histogram.date": "product"},
    {"_histogram.date": ["_cardinality.signature"], "_histogram_interval.date": "hour", **WEEK},
    {"_histogram.date": "platform", "_histogram_interval.date": "week", "date": ">=2031-01-01"},
    {"_histogram.date": "platform", "_histogram_interval.date": "month", "date": ">=2031-01-01"},
    {"_histogram.date": "product", "_histogram_interval.date": "6h", **WEEK},
    {"_histogram.uptime": "_cardinality.cpu_count", "_histogram_interval.uptime": "100"},
    {"_histogram.uptime_ts": "startup_crash", "_histogram_interval.uptime_ts": "2.5"},
    {"_histogram.build_id": "product"},
]


@pytest.mark.parametrize("params", CASES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items())[:80])
def test_search_matches_the_reference(alias: str, params: dict[str, Any]) -> None:
    _check(alias, _params(**{k.replace(".", "__"): v for k, v in params.items()}))
