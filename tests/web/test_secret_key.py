"""The secret key: generated once in the data dir for SQLite, required for ``crashcart web`` on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crashcart.database import database_config, secret_key
from crashcart.settings import load_settings
from tests.helpers.web import ROOT, clean_env, crashcart


def test_embedded_key_is_made_once_private_and_reused(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path)
    database = database_config(settings.database_url.get_secret_value())
    first = secret_key(settings, database)
    assert len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert secret_key(settings, database) == first


def test_a_configured_key_wins_and_is_never_written(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path, secret_key="configured-key-123456")
    assert secret_key(settings, database_config(settings.database_url.get_secret_value())) == "configured-key-123456"
    assert not (tmp_path / "secret_key").exists()


def test_crashcart_web_on_postgresql_needs_the_key(pg_database: str, tmp_path: Path) -> None:
    result = crashcart("web", "--port", "1", data_dir=tmp_path, env={"CRASHCART_DATABASE_URL": pg_database})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: cannot start: CRASHCART_SECRET_KEY is required when the database is PostgreSQL "
        "(every web node must share it)"
    )


def test_the_key_is_never_in_the_log_or_config_output(tmp_path: Path) -> None:
    key = "a-very-secret-django-key-0123456789"
    shown = crashcart("config", data_dir=tmp_path, env={"CRASHCART_SECRET_KEY": key})
    assert shown.returncode == 0 and key not in shown.stdout and "CRASHCART_SECRET_KEY" in shown.stdout
    code = "from crashcart.settings import load_settings; print(load_settings().secret_values())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(tmp_path, {"CRASHCART_SECRET_KEY": key}),
        capture_output=True,
        text=True,
        check=True,
    )
    assert key in out.stdout  # so the log handler masks it like any secret
