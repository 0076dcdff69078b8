"""The ``crashcart`` command, run as a user would (a subprocess with its own environment)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crashcart.crashid import create_crash_id
from crashcart.queue import open_queue
from crashcart.settings import load_settings
from crashcart.storage import open_storage
from crashcart.storage.interfaces import DumpFile


def crashcart(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CRASHCART_")}
    return subprocess.run(
        [sys.executable, "-m", "crashcart.cli", *args],
        env={**base, "CRASHCART_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_config_lists_every_setting_with_secrets_masked(tmp_path: Path) -> None:
    out = crashcart("config", "--json", data_dir=tmp_path, CRASHCART_S3_SECRET_ACCESS_KEY="hunter2")
    assert out.returncode == 0, out.stderr
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    assert rows["CRASHCART_S3_SECRET_ACCESS_KEY"]["value"] == "**********"
    assert rows["CRASHCART_DATA_DIR"]["value"] == str(tmp_path)
    assert "hunter2" not in out.stdout
    text = crashcart("config", data_dir=tmp_path)
    assert "CRASHCART_MAX_REQUEST_SIZE = 104857600" in text.stdout


def test_invalid_setting_fails_at_start_naming_it(tmp_path: Path) -> None:
    out = crashcart("config", data_dir=tmp_path, CRASHCART_STORAGE_URL="s3://my.crashes")
    assert out.returncode != 0
    assert "CRASHCART_STORAGE_URL" in out.stderr
    assert "period" in out.stderr


def test_queue_status_and_republish(tmp_path: Path) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path)})
    storage = open_storage(settings, None)
    today = dt.datetime.now(dt.UTC)
    stranded = create_crash_id(today)
    queued = create_crash_id(today)
    dump = DumpFile("upload_file_minidump", 4, "0" * 64, data=b"MDMP")
    storage.save_raw_crash(stranded, {"uuid": stranded}, [dump], pending_queue="standard")
    storage.save_raw_crash(queued, {"uuid": queued}, [dump])
    queue = open_queue(settings)
    queue.declare()

    status = crashcart("queue", "status", "--json", data_dir=tmp_path)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["standard"]["ready"] == 0

    out = crashcart("queue", "republish", "--since", f"{today:%Y-%m-%d}", data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "published 1, failed 0" in out.stdout
    msg = queue.consume()
    assert msg is not None and msg.body == stranded
    queue.ack(msg)
    assert list(storage.list_pending()) == []

    everything = crashcart("queue", "republish", "--since", f"{today:%Y-%m-%d}", "--all", data_dir=tmp_path)
    assert everything.returncode == 0, everything.stderr
    assert "published 2, failed 0" in everything.stdout
    status = crashcart("queue", "status", data_dir=tmp_path)
    assert "standard" in status.stdout
    assert json.loads(crashcart("queue", "status", "--json", data_dir=tmp_path).stdout)["standard"]["ready"] == 2


def test_bad_throttle_rules_stop_the_collector_at_start(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: Bad Name\n    result: maybe\n")
    out = crashcart("collector", "--port", "1", data_dir=tmp_path, CRASHCART_THROTTLE_RULES=str(rules))
    assert out.returncode != 0
    assert "cannot start" in out.stderr
    assert "Bad Name" in out.stderr


def test_storage_policy_reads_bucket_and_prefix_from_settings(tmp_path: Path) -> None:
    out = crashcart(
        "storage", "policy", "--role", "processor", data_dir=tmp_path, CRASHCART_STORAGE_URL="s3://crashes/prod"
    )
    assert out.returncode == 0, out.stderr
    statements = {s["Sid"]: s for s in json.loads(out.stdout)["Statement"]}
    assert statements["WriteProcessedCrashes"]["Resource"] == ["arn:aws:s3:::crashes/prod/v1/processed_crash/*"]
    assert "WriteRawCrashes" not in statements
    on_files = crashcart("storage", "policy", "--role", "webapp", data_dir=tmp_path)
    assert on_files.returncode == 2
    assert "--bucket is needed" in on_files.stderr


def _drain(queue_name: str, settings_dir: Path) -> list[str]:
    queue = open_queue(load_settings({"CRASHCART_DATA_DIR": str(settings_dir)}))
    bodies = []
    while (msg := queue.consume([queue_name])) is not None:
        bodies.append(msg.body)
        queue.ack(msg)
    queue.close()
    return bodies


def test_reprocess_by_ids_date_and_signature(tmp_path: Path) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path)})
    storage = open_storage(settings, None)
    today = dt.datetime.now(dt.UTC)
    first, second = create_crash_id(today), create_crash_id(today)
    dump = DumpFile("upload_file_minidump", 4, "0" * 64, data=b"MDMP")
    for crash_id in (first, second):
        storage.save_raw_crash(crash_id, {"uuid": crash_id}, [dump])

    out = crashcart("reprocess", first, f"bp-{second}", "--ruleset", "regenerate_signature", data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "published 2" in out.stdout
    assert _drain("reprocessing", tmp_path) == [f"{first}:regenerate_signature", f"{second}:regenerate_signature"]

    out = crashcart("reprocess", "--since", f"{today:%Y-%m-%d}", data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert sorted(_drain("reprocessing", tmp_path)) == sorted([first, second])

    seed = (
        "import sys; from crashcart import database as db; from crashcart.search.writer import CrashIndex;"
        "from crashcart.settings import load_settings;"
        "s = load_settings(environ={}, data_dir=sys.argv[1]); db.migrate(s);"
        "CrashIndex(s).upsert(sys.argv[2], {'signature': 'abort | main'}, {})"
    )
    subprocess.run([sys.executable, "-c", seed, str(tmp_path), second], check=True, timeout=60)
    out = crashcart("reprocess", "--signature", "abort | main", data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert _drain("reprocessing", tmp_path) == [second]

    refused = crashcart("reprocess", "not-an-id", data_dir=tmp_path)
    assert refused.returncode == 2 and "not a crash id" in refused.stderr
    both = crashcart("reprocess", first, "--since", "2026-01-01", data_dir=tmp_path)
    assert both.returncode == 2


def test_signature_shows_stored_and_regenerated_with_the_debug_log(tmp_path: Path) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path)})
    storage = open_storage(settings, None)
    crash_id = create_crash_id(dt.datetime.now(dt.UTC))
    frames = [("libc.so.6", "pthread_key_delete"), ("libc.so.6", "raise"), ("configd", "ValidateConfig")]
    json_dump = {
        "status": "OK",
        "system_info": {"os": "Linux"},
        "crash_info": {"type": "SIGABRT", "crashing_thread": 0},
        "threads": [{"frames": [{"frame": i, "module": m, "function": f} for i, (m, f) in enumerate(frames)]}],
    }
    storage.save_processed_crash(crash_id, {"signature": "pthread_key_delete", "json_dump": json_dump})
    out = crashcart("signature", f"bp-{crash_id}", data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "stored:          pthread_key_delete" in lines
    assert "regenerated:     abort | ValidateConfig   (differs)" in lines
    assert lines.index("debug log:") < len(lines) - 1  # the generator's log follows
    missing = crashcart("signature", create_crash_id(dt.datetime.now(dt.UTC)), data_dir=tmp_path)
    assert missing.returncode == 1 and "no processed crash" in missing.stderr


def test_run_refuses_a_bad_processor_configuration_at_start(tmp_path: Path) -> None:
    out = crashcart("run", "--port", "0", data_dir=tmp_path, CRASHCART_PROCESSOR_OPTIONAL_RULES="no_such_rule")
    assert out.returncode == 1
    assert "CRASHCART_PROCESSOR_OPTIONAL_RULES" in out.stderr and "no_such_rule" in out.stderr


# --- operator commands fail with one line, never a traceback ------------------------------------------

BROKER_DOWN = "amqp://guest:guest@127.0.0.1:1/"  # nothing listens on port 1
DATABASE_DOWN = "postgresql://postgres:hunter2@127.0.0.1:1/crashcart"


def _one_line_failure(out: subprocess.CompletedProcess[str], code: str, exit_code: int = 1) -> str:
    """The failure's only stderr line, after checking it is one line naming ``code`` and no traceback."""
    assert out.returncode == exit_code, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"Error: {code}: "), lines[0]
    return lines[0]


def test_queue_commands_on_a_fresh_data_directory(tmp_path: Path) -> None:
    status = crashcart("queue", "status", "--json", data_dir=tmp_path / "new")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) == {
        name: {"ready": 0, "in_flight": 0, "delayed": 0, "dead": 0} for name in ("priority", "standard", "reprocessing")
    }
    dead = crashcart("queue", "dead-letters", "reprocessing", data_dir=tmp_path / "other")
    assert (dead.returncode, dead.stdout, dead.stderr) == (0, "", "")
    requeue = crashcart("queue", "requeue", data_dir=tmp_path / "third")
    assert (requeue.returncode, requeue.stdout) == (0, "requeued 0\n"), requeue.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("queue", "status"),
        ("queue", "dead-letters"),
        ("queue", "requeue", "priority"),
        ("reprocess", "de1bb258-cbbf-4589-a673-34f800160918"),
        ("reprocess", "--since", "2026-01-01"),
        ("queue", "republish", "--since", "2026-01-01"),
    ],
)
def test_queue_commands_with_the_broker_down(args: tuple[str, ...], tmp_path: Path) -> None:
    out = crashcart(*args, data_dir=tmp_path, CRASHCART_QUEUE_URL=BROKER_DOWN)
    line = _one_line_failure(out, "queue_unavailable")
    # the password is "guest", a known secret, masked wherever it appears: the user name "guest" too
    assert "cannot connect to amqp://****:****@127.0.0.1:1/" in line
    assert "Connection refused" in line


def test_a_malformed_id_is_a_usage_error_before_any_backend_is_touched(tmp_path: Path) -> None:
    out = crashcart("reprocess", "bp-nope", data_dir=tmp_path, CRASHCART_QUEUE_URL=BROKER_DOWN)
    assert _one_line_failure(out, "not_a_crash_id", exit_code=2) == "Error: not_a_crash_id: not a crash id: 'bp-nope'"


def test_reprocess_by_signature_on_an_index_never_created(tmp_path: Path) -> None:
    out = crashcart("reprocess", "--signature", "abort | main", data_dir=tmp_path)
    line = _one_line_failure(out, "index_unavailable")
    assert "no tables yet, so nothing is indexed" in line
    assert _drain("reprocessing", tmp_path) == []


def test_reprocess_by_signature_with_the_database_down(tmp_path: Path) -> None:
    out = crashcart("reprocess", "--signature", "abort | main", data_dir=tmp_path, CRASHCART_DATABASE_URL=DATABASE_DOWN)
    line = _one_line_failure(out, "index_unavailable")
    assert '"127.0.0.1", port 1 failed' in line
    assert "hunter2" not in out.stderr


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (("reprocess", "--since", "2026-01-01"), "list raw crashes of 2026-01-01"),
        (("crash", "show", "de1bb258-cbbf-4589-a673-34f800160918"), "read processed crash"),
    ],
)
def test_storage_down_is_one_line(args: tuple[str, ...], what: str, tmp_path: Path) -> None:
    closed = {
        "CRASHCART_STORAGE_URL": "s3://crashes",
        "CRASHCART_S3_ENDPOINT_URL": "http://127.0.0.1:1",  # nothing listens on port 1
        "CRASHCART_S3_ACCESS_KEY_ID": "key",
        "CRASHCART_S3_SECRET_ACCESS_KEY": "secret",
        "CRASHCART_S3_MAX_ATTEMPTS": "1",
    }
    line = _one_line_failure(crashcart(*args, data_dir=tmp_path, **closed), "storage_unavailable")
    assert what in line and "Could not connect" in line


def test_reprocess_counts_then_shows_progress_without_spamming_a_log(tmp_path: Path) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path)})
    storage = open_storage(settings, None)
    today = dt.datetime.now(dt.UTC)
    dump = DumpFile("upload_file_minidump", 4, "0" * 64, data=b"MDMP")
    ids = [create_crash_id(today) for _ in range(1200)]  # three publish batches
    for crash_id in ids:
        storage.save_raw_crash(crash_id, {"uuid": crash_id}, [dump])
    out = crashcart("reprocess", "--since", f"{today:%Y-%m-%d}", data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "published 1200 to the reprocessing queue\n"
    assert out.stderr.splitlines() == ["1200 crash(es) to publish", "publishing"]  # not a tty: no redraws
    assert sorted(_drain("reprocessing", tmp_path)) == sorted(ids)
    none = crashcart("reprocess", "--since", "2020-01-01", "--ruleset", "x", data_dir=tmp_path / "empty")
    assert (none.returncode, none.stderr) == (0, "0 crash(es) to publish\n")


# --- crash show: the answers that are not a crash ----------------------------------------------------------


def test_crash_show_unknown_unprocessed_and_malformed_ids(tmp_path: Path) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path)})
    storage = open_storage(settings, None)
    unknown, stored = create_crash_id(dt.datetime.now(dt.UTC)), create_crash_id(dt.datetime.now(dt.UTC))
    storage.save_raw_crash(stored, {"uuid": stored}, [DumpFile("upload_file_minidump", 4, "0" * 64, data=b"MDMP")])

    line = _one_line_failure(crashcart("crash", "show", unknown, data_dir=tmp_path), "crash_not_found")
    assert line == f"Error: crash_not_found: no crash {unknown} in storage"
    line = _one_line_failure(crashcart("crash", "show", f"bp-{stored}", data_dir=tmp_path), "crash_not_processed")
    assert line.endswith(f"is stored but not processed yet; queue it with: crashcart reprocess {stored}")
    hostile = "\x1b[2J\x1b]0;pwned\x07" + unknown
    line = _one_line_failure(crashcart("crash", "show", hostile, data_dir=tmp_path), "not_a_crash_id", exit_code=2)
    assert "\x1b" not in line and "\\x1b[2J" in line


def test_crash_show_neutralises_control_characters_in_a_signature(tmp_path: Path) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path)})
    crash_id = create_crash_id(dt.datetime.now(dt.UTC))
    payload = "abort\x1b[31m\r\x9b2Jmain\u202e"
    open_storage(settings, None).save_processed_crash(crash_id, {"signature": payload, "processor_notes": payload})
    out = crashcart("crash", "show", crash_id, data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "signature  abort\\x1b[31m\\r\\x9b2Jmain\\u202e" in out.stdout.splitlines()
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 for c in out.stdout)
    as_json = crashcart("crash", "show", crash_id, "--json", data_dir=tmp_path)
    assert json.loads(as_json.stdout)["signature"] == payload
    assert as_json.stdout.isascii() and "\x1b" not in as_json.stdout


# --- crashcart run: one component dies, all die (issue #9, point 11) -----------------------------------------


def _start_run(data_dir: Path, port: int, **env: str) -> tuple[subprocess.Popen[str], Path]:
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "run.log"
    base = {k: v for k, v in os.environ.items() if not k.startswith("CRASHCART_")}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crashcart.cli", "run", "--port", str(port)],
            env={**base, "CRASHCART_DATA_DIR": str(data_dir), "CRASHCART_LOG_FORMAT": "json", **env},
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    return proc, log


def _finish(proc: subprocess.Popen[str], timeout: float) -> str:
    """``run``'s stderr once it exits within ``timeout`` (else it is killed and the test fails)."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"crashcart run still running after {timeout} s")
    return err


def test_run_exits_when_its_processor_cannot_start(tmp_path: Path) -> None:
    from tests.helpers.collector import free_port

    database = f"postgresql://postgres@127.0.0.1:{free_port()}/crashcart"  # nothing listens there
    proc, log = _start_run(tmp_path, free_port(), CRASHCART_DATABASE_URL=database)
    err = _finish(proc, timeout=60)
    assert proc.returncode == 1, (err, log.read_text())
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: processor stopped"), lines[0]


def test_run_stops_the_collector_when_its_processor_dies_later(tmp_path: Path) -> None:
    import httpx

    from tests.helpers.collector import free_port

    port = free_port()
    proc, log = _start_run(tmp_path, port)
    deadline = time.monotonic() + 60
    processor_pid = None
    while processor_pid is None or not _answers(f"http://127.0.0.1:{port}/__lbheartbeat__"):
        assert proc.poll() is None, (proc.stderr.read() if proc.stderr else "", log.read_text())
        assert time.monotonic() < deadline, log.read_text()
        for line in log.read_text().splitlines():
            if '"processor running"' in line:
                processor_pid = json.loads(line)["pid"]
        time.sleep(0.2)
    os.kill(processor_pid, signal.SIGKILL)  # the processor's supervisor, as the OOM killer would
    err = _finish(proc, timeout=60)
    assert proc.returncode == 1, (err, log.read_text())
    assert err.strip().splitlines()[-1].startswith("Error: processor stopped"), err
    with pytest.raises(httpx.TransportError):  # the collector went with it
        httpx.get(f"http://127.0.0.1:{port}/__lbheartbeat__", timeout=2)


def _processor_pids(proc: subprocess.Popen[str], log: Path) -> set[int]:
    """The processor's supervisor and at least one worker, once they have logged that they run."""
    deadline = time.monotonic() + 60
    pids: set[int] = set()
    while len(pids) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        pids = {
            json.loads(line)["pid"]
            for line in log.read_text().splitlines()
            if '"processor running"' in line or ("processor worker" in line and 'ready"' in line)
        }
        time.sleep(0.2)
    return pids


def test_run_asked_to_stop_stops_everything_and_exits_0(tmp_path: Path) -> None:
    from tests.helpers.collector import free_port

    proc, log = _start_run(tmp_path, free_port())
    pids = _processor_pids(proc, log)
    proc.send_signal(signal.SIGTERM)
    err = _finish(proc, timeout=90)
    assert proc.returncode == 0, (err, log.read_text())
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def test_the_processor_of_a_killed_run_does_not_outlive_it(tmp_path: Path) -> None:
    from tests.helpers.collector import free_port

    proc, log = _start_run(tmp_path, free_port())
    pids = _processor_pids(proc, log)
    proc.kill()  # run alone, SIGKILL: no clean-up code of its own runs
    proc.wait(30)
    try:
        deadline = time.monotonic() + 30
        while alive := [pid for pid in pids if Path(f"/proc/{pid}").exists()]:
            assert time.monotonic() < deadline, f"processes of the killed run's processor still alive: {alive}"
            time.sleep(0.2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # uvicorn's collector workers outlive a SIGKILLed parent
        proc.communicate(timeout=30)


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_crash_open_prints_the_report_url_and_hands_it_to_the_browser(tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf %s "$1" > {opened}\n')
    browser.chmod(0o755)
    crash_id = "de1bb258-cbbf-4589-a673-34f800160918"
    out = crashcart(
        "crash", "open", f"bp-{crash_id}", data_dir=tmp_path, BROWSER=str(browser),
        CRASHCART_SITE_URL="https://crash-stats.example.org/",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    url = f"https://crash-stats.example.org/report/index/{crash_id}"
    assert out.stdout.strip().splitlines()[-1] == url
    for _ in range(50):  # webbrowser starts the command in the background
        if opened.exists() and opened.read_text():
            break
        time.sleep(0.1)
    assert opened.read_text() == url
    quiet = crashcart("crash", "open", crash_id, "--no-browser", data_dir=tmp_path, BROWSER="/bin/false")
    assert quiet.stdout.strip() == "http://127.0.0.1:8000/report/index/" + crash_id
    refused = crashcart("crash", "open", "not-an-id", data_dir=tmp_path)
    assert refused.returncode != 0 and "not a crash id" in refused.stderr
