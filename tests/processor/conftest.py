"""Processor tests share one crash-index database: Django is configured once per process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crashcart import database as db
from crashcart.search.writer import CrashIndex
from crashcart.settings import load_settings


@pytest.fixture(scope="session")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The session's SQLite index database URL, migrated; every in-process processor test must use it."""
    data_dir: Path = tmp_path_factory.mktemp("index")
    settings = load_settings(environ={}, data_dir=data_dir)
    db.migrate(settings)
    return settings.database_url.get_secret_value()


@pytest.fixture(scope="session")
def crash_index(index_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashIndex]:
    """A migrated SQLite crash index for the whole test session (rows are keyed by fresh crash ids)."""
    index = CrashIndex(load_settings(environ={}, data_dir=tmp_path_factory.mktemp("x"), database_url=index_url))
    yield index
    index.close()
