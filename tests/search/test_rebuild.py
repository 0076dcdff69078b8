"""``crashcart index rebuild``: the index rebuilt from storage, resumable, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crashcart.search.rebuild import Rebuild, days
from crashcart.settings import load_settings
from tests.search.scenarios import ROOT, run_scenario, store_crashes


def test_days_are_inclusive() -> None:
    assert days(dt.date(2026, 11, 30), dt.date(2026, 12, 2)) == [
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 2),
    ]
    with pytest.raises(ValueError, match="before"):
        Rebuild(None, None, dt.date(2026, 12, 2), dt.date(2026, 12, 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="settings"):
        Rebuild(None, None, dt.date(2026, 12, 1), dt.date(2026, 12, 1), readers=2)  # type: ignore[arg-type]


def test_rebuild_resumes_on_sqlite(tmp_path: Path) -> None:
    result = run_scenario("rebuild_resumes", f"sqlite://{tmp_path}/index.sqlite3", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_rebuild_resumes_on_postgresql(pg_database: str, tmp_path: Path) -> None:
    result = run_scenario("rebuild_resumes", pg_database, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def _crashcart(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRASHCART_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "crashcart.cli", *args],
        cwd=ROOT,
        env={**env, "CRASHCART_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_index_rebuild_command(tmp_path: Path) -> None:
    today = dt.datetime.now(dt.UTC).date()
    settings = load_settings(environ={}, data_dir=tmp_path)
    stored = store_crashes(settings, [today - dt.timedelta(days=40), today - dt.timedelta(days=2), today], per_day=4)
    out = _crashcart("index", "rebuild", "--readers", "0", data_dir=tmp_path)  # default range: the last 30 days
    assert out.returncode == 0, out.stderr
    assert "8 stored crash(es)" in out.stderr
    assert "indexed 6, without a processed crash 2, unreadable 0" in out.stdout
    old = today - dt.timedelta(days=40)
    out = _crashcart("index", "rebuild", "--since", f"{old}", "--until", f"{old}", data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "indexed 3, without a processed crash 1" in out.stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "crashcart.sqlite3") as db:
        (rows,) = db.execute("SELECT count(*) FROM search_crash").fetchone()
    assert rows == sum(1 for doc in stored.values() if doc is not None) == 9
    bad = _crashcart("index", "rebuild", "--since", "2026-12-02", "--until", "2026-12-01", data_dir=tmp_path)
    assert bad.returncode == 2 and "before" in bad.stderr
