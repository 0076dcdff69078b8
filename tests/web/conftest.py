"""A real web server (``tests.web.serve``: ``crashcart web`` plus the test models) per database backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.postgres import PG_ADMIN
from tests.helpers.web import WebServer


@dataclass
class Site:
    server: WebServer
    data_dir: Path
    env: dict[str, str]
    database: str  # "sqlite" or "postgresql"
    database_url: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A running server on SQLite (embedded default) and on the local PostgreSQL (its own database)."""
    import psycopg

    data_dir = tmp_path_factory.mktemp(f"web-{request.param}")
    env: dict[str, str] = {}
    name = ""
    url = f"sqlite:///{data_dir / 'crashcart.sqlite3'}"
    if request.param == "postgresql":
        name = f"crashcart_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        env = {"CRASHCART_DATABASE_URL": url, "CRASHCART_SECRET_KEY": "test-secret-key-" + uuid.uuid4().hex}
    server = WebServer(data_dir, env).start()
    try:
        yield Site(server, data_dir, env, request.param, url)
    finally:
        server.stop()
        if name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
