"""``crashcart user …`` and ``crashcart token …`` exactly as scripts call them (issue #10, point 9)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.helpers.web import crashcart


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path


def ok(*args: str, data_dir: Path, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    result = crashcart(*args, data_dir=data_dir, stdin=stdin, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def fails(*args: str, data_dir: Path, env: dict[str, str] | None = None) -> str:
    """The one-line error of a command that must fail with status 1 (no traceback)."""
    result = crashcart(*args, data_dir=data_dir, env=env)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_token_create_prints_the_token_alone_on_the_last_line(data_dir: Path) -> None:
    ok("user", "create", "alice", "--permissions", "view_pii,view_rawdump", data_dir=data_dir)
    out = ok(
        "token", "create", "alice", "--permissions", "view_pii", "--days", "7", "--notes", "tools", data_dir=data_dir
    )
    key = out.splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{40}", key), out
    listed = ok("token", "list", data_dir=data_dir)
    assert key[:8] in listed and key[8:] not in listed
    assert "alice" in listed and "active" in listed and "view_pii" in listed and "# tools" in listed
    assert ok("token", "list", "alice", data_dir=data_dir).count(key[:8]) == 1


def test_a_token_cannot_carry_a_permission_its_user_lacks(data_dir: Path) -> None:
    ok("user", "create", "bob", "--permissions", "view_pii", data_dir=data_dir)
    error = fails("token", "create", "bob", "--permissions", "view_pii,reprocess_crashes", data_dir=data_dir)
    assert error.startswith("Error: account_error: ") and "reprocess_crashes" in error and "view_pii," not in error
    assert "bob" not in ok("token", "list", data_dir=data_dir)  # nothing made


def test_unknown_permissions_users_and_ids_are_named(data_dir: Path) -> None:
    assert "view_everything" in fails("user", "create", "c", "--permissions", "view_everything", data_dir=data_dir)
    assert "'nobody'" in fails("token", "create", "nobody", data_dir=data_dir)
    assert "'nobody'" in fails("token", "list", "nobody", data_dir=data_dir)
    assert "'ffffffff'" in fails("token", "revoke", "ffffffff", data_dir=data_dir)
    ok("user", "create", "dup", data_dir=data_dir)
    assert "already exists" in fails("user", "create", "dup", data_dir=data_dir)


def test_revoke_shows_in_the_list(data_dir: Path) -> None:
    ok("user", "create", "carol", data_dir=data_dir)
    key = ok("token", "create", "carol", data_dir=data_dir).splitlines()[-1]
    assert f"revoked token {key[:8]} of carol" in ok("token", "revoke", key[:8], data_dir=data_dir)
    assert "revoked" in ok("token", "list", "carol", data_dir=data_dir)


def test_default_expiry_is_the_setting(data_dir: Path) -> None:
    ok("user", "create", "dave", data_dir=data_dir)
    out = ok("token", "create", "dave", data_dir=data_dir, env={"CRASHCART_TOKEN_DAYS": "3"})
    created, expires = re.findall(r"\d{4}-\d{2}-\d{2}", ok("token", "list", data_dir=data_dir))[:2]
    from datetime import date

    assert (date.fromisoformat(expires) - date.fromisoformat(created)).days == 3, out


def test_superuser_and_password_from_stdin_never_printed_or_stored_plain(data_dir: Path) -> None:
    password = "correct horse battery staple 42"
    out = ok("user", "create", "root", "--superuser", "--password-stdin", data_dir=data_dir, stdin=password + "\n")
    assert "superuser" in out and password not in out
    key = ok(
        "token",
        "create",
        "root",
        "--permissions",
        "view_pii,view_rawdump,reprocess_crashes,upload_symbols",
        data_dir=data_dir,
    ).splitlines()[-1]
    assert len(key) == 40
    with sqlite3.connect(data_dir / "crashcart.sqlite3") as conn:
        (stored, superuser) = conn.execute(
            "SELECT password, is_superuser FROM auth_user WHERE username='root'"
        ).fetchone()
    assert superuser and stored.startswith(("pbkdf2_", "argon2", "scrypt")) and password not in stored
    assert password.encode() not in (data_dir / "crashcart.sqlite3").read_bytes()
    assert (
        "empty password" in crashcart("user", "create", "e", "--password-stdin", data_dir=data_dir, stdin="\n").stderr
    )


def test_user_and_token_commands_on_postgresql(pg_database: str, tmp_path: Path) -> None:
    env = {"CRASHCART_DATABASE_URL": pg_database}
    ok("user", "create", "pg", "--permissions", "view_pii", data_dir=tmp_path, env=env)
    key = ok("token", "create", "pg", "--permissions", "view_pii", data_dir=tmp_path, env=env).splitlines()[-1]
    assert key[:8] in ok("token", "list", "pg", data_dir=tmp_path, env=env)
    ok("token", "revoke", key[:8], data_dir=tmp_path, env=env)
    import psycopg

    with psycopg.connect(pg_database) as conn:
        rows = conn.execute("SELECT public_id, key_hash, revoked FROM accounts_token").fetchall()
    assert [(r[0], r[2]) for r in rows] == [(key[:8], True)]
    assert key not in repr(rows)


def test_revoke_never_echoes_a_whole_token_pasted_as_its_id(data_dir: Path) -> None:
    ok("user", "create", "erin", data_dir=data_dir)
    key = ok("token", "create", "erin", data_dir=data_dir).splitlines()[-1]
    error = fails("token", "revoke", key, data_dir=data_dir)
    assert key not in error and key[8:] not in error and "8 hex digits" in error
    assert "active" in ok("token", "list", "erin", data_dir=data_dir)
