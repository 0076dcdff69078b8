"""A fresh PostgreSQL database per test, on the server running on localhost (``.ci/run`` starts it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_database() -> Iterator[str]:
    """The URL of a new, empty database, dropped (connections and all) after the test."""
    import psycopg

    name = f"crashcart_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
