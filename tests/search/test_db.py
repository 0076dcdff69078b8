"""The crash index on SQLite (embedded) and on the PostgreSQL server on localhost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crashcart.database import database_config
from crashcart.errors import ConfigError
from crashcart.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def _scenario(url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRASHCART_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "tests.search.scenario", url, str(data_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_sqlite_index_migrates_idempotently_and_upserts(tmp_path: Path) -> None:
    db_path = tmp_path / "index" / "crashcart.sqlite3"
    result = _scenario(f"sqlite://{db_path}", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert db_path.is_file()


def test_postgresql_index_migrates_idempotently_and_upserts(pg_database: str, tmp_path: Path) -> None:
    result = _scenario(pg_database, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_concurrent_starts_migrate_once(pg_database: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRASHCART_", "DJANGO_"))}
    code = (
        "import sys; from crashcart import database as db; from crashcart.settings import load_settings;"
        "db.migrate(load_settings(environ={}, data_dir=sys.argv[2], database_url=sys.argv[1])); print('ok')"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, pg_database, str(tmp_path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outputs]


def test_default_database_is_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path)
    config = database_config(settings.database_url.get_secret_value())
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(config["NAME"]).resolve() == (tmp_path / "crashcart.sqlite3").resolve()


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite:relative.db"])
def test_bad_database_url_fails_at_start_naming_the_setting(url: str) -> None:
    with pytest.raises(SettingsError, match="CRASHCART_DATABASE_URL"):
        load_settings({"CRASHCART_DATABASE_URL": url})


def test_database_config_refuses_unknown_schemes() -> None:
    with pytest.raises(ConfigError):
        database_config("oracle://db")
    pg = database_config("postgresql://u:p%40ss@db.example:6543/crashes")
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "u",
        "p@ss",
        "db.example",
        "6543",
        "crashes",
    )
