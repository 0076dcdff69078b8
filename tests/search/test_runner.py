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

ROWS = searchdb.generate(seed=10, count=700)


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
    searchdb.insert(name, ROWS)
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
