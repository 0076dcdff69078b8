"""No secret reaches what Crashcart prints (issue #9, point 6).

The unit tests cover ``redact`` on the shapes a secret arrives in; the last test runs every role as a user
would, with every URL credentialed and unreachable, and searches all it prints for the passwords.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crashcart.crashid import create_crash_id
from crashcart.logs import setup_logging
from crashcart.queue import open_queue
from crashcart.redact import MASK, mask_url, passwords_in, redact
from crashcart.settings import load_settings
from crashcart.storage import open_storage
from crashcart.storage.interfaces import DumpFile
from tests.helpers.shared import REPO

MARK = "S3cr3t"  # in every password below: one search finds any of them


def test_the_password_of_a_url_is_masked_wherever_it_stands() -> None:
    assert mask_url("amqp://guest:S3cr3tQ@host:5672/") == f"amqp://guest:{MASK}@host:5672/"
    assert mask_url("https://host/path") == "https://host/path"
    assert mask_url("https://token@host/") == "https://token@host/"  # no password: nothing to hide
    # a list of URLs (CRASHCART_SYMBOLS_URLS), the second one credentialed
    urls = "https://symbols.example/ https://u:S3cr3tA@b.example/x,s3://bucket/p"
    assert mask_url(urls) == f"https://symbols.example/ https://u:{MASK}@b.example/x,s3://bucket/p"
    # free text, as a library's exception message embeds it; an unencoded "@" in the password too
    text = "ConnectionError: HTTPConnectionPool(url='http://me:S3cr3t@x@127.0.0.1:1/a.sym') refused"
    assert MARK not in redact(text)
    assert "127.0.0.1:1/a.sym" in redact(text)


def test_known_secrets_are_masked_in_every_spelling() -> None:
    secret = 'S3cr3t"p@ss w/'
    for shown in (secret, json.dumps(secret), repr(secret), "p=" + "S3cr3t%22p%40ss%20w%2F"):
        assert MARK not in redact(f"x {shown} y", [secret]), shown
    assert set(passwords_in("postgresql://u:S3cr3t%40x@h/db")) == {"S3cr3t%40x", "S3cr3t@x"}


def test_settings_know_every_secret_they_hold(tmp_path: Path) -> None:
    settings = load_settings(ENV | {"CRASHCART_DATA_DIR": str(tmp_path)})
    secrets = settings.secret_values()
    for value in ENV.values():
        for password in passwords_in(value) or ([value] if MARK in value else []):
            assert password in secrets, password


def test_log_lines_are_redacted_message_extras_and_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    import io

    for fmt in ("json", "text"):
        stream = io.StringIO()
        setup_logging(fmt, "INFO", stream, secrets=["S3cr3tTok"])
        log = logging.getLogger("crashcart.test")
        log.warning("cannot reach %s", "http://u:S3cr3tPw@127.0.0.1:1/", extra={"token": "S3cr3tTok"})
        failure = ConnectionError("amqp://guest:S3cr3tQ@127.0.0.1:1/ refused")
        log.error("queue down", exc_info=(ConnectionError, failure, None))
        out = stream.getvalue()
        assert "127.0.0.1:1" in out and "queue down" in out
        assert MARK not in out, out
    setup_logging("json", "INFO")


# --- every role, run as a user would ---------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_PORT = _closed_port()
ENV = {
    "CRASHCART_STORAGE_URL": "s3://crash-bucket/prefix",
    "CRASHCART_S3_ENDPOINT_URL": f"http://minio:S3cr3tEndpoint@127.0.0.1:{_PORT}/",
    "CRASHCART_S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "CRASHCART_S3_SECRET_ACCESS_KEY": "S3cr3tS3Key",
    "CRASHCART_QUEUE_URL": f"amqp://guest:S3cr3tQueue@127.0.0.1:{_PORT}/",
    "CRASHCART_DATABASE_URL": f"postgresql://postgres:S3cr3tDb@127.0.0.1:{_PORT}/crashcart",
    "CRASHCART_SYMBOLS_URLS": f"http://a:S3cr3tSymA@127.0.0.1:{_PORT}/ https://b:S3cr3tSymB@127.0.0.1:{_PORT}/s",
    "CRASHCART_SYMBOLS_S3_ENDPOINT_URL": f"http://c:S3cr3tSymS3@127.0.0.1:{_PORT}/",
    "CRASHCART_SYMBOLS_S3_SECRET_ACCESS_KEY": "S3cr3tSymKey",
    "CRASHCART_SYMBOLS_S3_ACCESS_KEY_ID": "AKIASYMBOLS",
    "CRASHCART_SUBMITTER_TOKEN": "S3cr3tToken",
    "CRASHCART_LOG_LEVEL": "DEBUG",
}
DUMP = REPO / "tests" / "fixtures" / "minidump" / "linux-mini.dmp"


def _start(args: list[str], data_dir: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CRASHCART_")}
    return subprocess.Popen(
        [sys.executable, "-m", "crashcart.cli", *args],
        env={**base, "CRASHCART_DATA_DIR": str(data_dir), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _seed_crash(data_dir: Path) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(data_dir)})
    storage, queue = open_storage(settings, None), open_queue(settings)
    crash_id = create_crash_id(dt.datetime.now(dt.UTC))
    data = DUMP.read_bytes()
    dump = DumpFile("upload_file_minidump", len(data), hashlib.sha256(data).hexdigest(), data=data)
    storage.save_raw_crash(crash_id, {"uuid": crash_id, "ProductName": "Test"}, [dump])
    queue.declare()
    queue.publish("standard", [crash_id])
    queue.close()
    storage.close()


def test_no_role_prints_a_password_when_every_backend_is_down(tmp_path: Path) -> None:
    """Servers run a few seconds so their connection errors are logged, then get SIGTERM; commands run out."""
    port = str(_closed_port())
    bad_storage = {"CRASHCART_STORAGE_URL": "s3://admin:S3cr3tBad@my.bucket/x"}
    runs = {
        "collector": (["collector", "--host", "127.0.0.1", "--port", port], ENV),
        "processor": (["processor", "--host", "127.0.0.1", "--port", "0"], ENV),
        "run": (["run", "--port", str(_closed_port())], ENV),
        "config": (["config"], ENV),
        "config --json": (["config", "--json"], ENV),
        "queue status": (["queue", "status"], ENV),
        "stackwalk": (
            ["stackwalk", str(DUMP), "--symbols-url", f"http://user:S3cr3tPw@127.0.0.1:{_PORT}/"],
            {"CRASHCART_LOG_LEVEL": "DEBUG"},
        ),
        "stackwalk (settings)": (["stackwalk", str(DUMP)], ENV),
        "invalid storage url": (["config"], {**ENV, **bad_storage}),
        "invalid storage url (collector)": (["collector", "--port", port], {**ENV, **bad_storage}),
        "invalid queue url": (["queue", "status"], {**ENV, "CRASHCART_QUEUE_URL": "ftp://u:S3cr3tFtp@h/"}),
    }
    # A processor on embedded backends with a crash to walk, so it reaches the credentialed symbol servers.
    symbols_only = {k: v for k, v in ENV.items() if "SYMBOLS" in k or k == "CRASHCART_SUBMITTER_TOKEN"}
    runs["processor (walking)"] = (["processor", "--host", "127.0.0.1", "--port", "0", "--workers", "1"], symbols_only)
    _seed_crash(tmp_path / "processor_(walking)")
    procs = {name: _start(args, tmp_path / name.replace(" ", "_"), env) for name, (args, env) in runs.items()}
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and any(p.poll() is None for p in procs.values()):
        time.sleep(0.2)
    outputs = {}
    for name, proc in procs.items():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            outputs[name] = proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            outputs[name] = proc.communicate()[0]
    # each run printed something (a log, a table or an error): the search is over real output
    for name, out in outputs.items():
        assert out.strip(), name
    for walked in ("stackwalk", "processor (walking)"):  # the symbol servers were tried, and refused
        assert f"127.0.0.1:{_PORT}" in outputs[walked] and "unavailable" in outputs[walked], outputs[walked]
    assert "CRASHCART_STORAGE_URL" in outputs["invalid storage url"]
    leaks = {name: [line for line in out.splitlines() if MARK in line] for name, out in outputs.items()}
    assert {name: lines for name, lines in leaks.items() if lines} == {}


def test_the_heartbeat_never_shows_a_password_even_when_it_cuts_a_long_message() -> None:
    from crashcart.service.health import MAX_MESSAGE, describe_failure

    url = "http://u:S3cr3tHb@127.0.0.1:1/"
    for padding in (0, MAX_MESSAGE - 30, MAX_MESSAGE - 12):
        text = describe_failure(ConnectionError("x" * padding + f"Could not connect to the endpoint URL: {url}"))
        assert MARK not in text and "S3cr" not in text, text
