"""The submission handler in a real collector: hostile bodies that cost CPU to parse stall nothing else."""

from __future__ import annotations

import json
import os
import threading
import time
import zlib
from pathlib import Path

import httpx
import psutil
import pytest

from tests.helpers.collector import running_collector

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
WORKERS = 2
BOUNDARY = "----crashcart-submit-test"
CTYPE = f"multipart/form-data; boundary={BOUNDARY}"


def ordinary_body() -> bytes:
    fields = {"ProductName": "Test", "Version": "1.0"}
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="upload_file_minidump"; filename="x.dmp"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + b"MDMP"
        + os.urandom(150_000)
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def hostile_gzip(inflated_mib: int, line: bytes, part: bytes) -> bytes:
    """The issue's attack: a small gzip body inflating to lines that start like the delimiter (boundary ``b``)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = b'--b\r\nContent-Disposition: form-data; name="ProductName"\r\n\r\nTest\r\n--b\r\n' + part + b"\r\n\r\n"
    out = [compressor.compress(head)]
    block = line * (MiB // len(line))
    out.extend(compressor.compress(block) for _ in range(inflated_mib))
    out.append(compressor.compress(b"\r\n--b--\r\n"))
    out.append(compressor.flush())
    return b"".join(out)


DUMP_PART = b'Content-Disposition: form-data; name="upload_file_minidump"; filename="x.dmp"'
TEXT_PART = b'Content-Disposition: form-data; name="Comments"'


@pytest.mark.parametrize(
    ("budget", "mib", "line", "part", "answer"),
    [
        # Over a second of parsing each (several before the linear scan), a dump spooled as it inflates: the
        # budget stops each one after 0.05 s of CPU and removes its spool file.
        ("0.05", 256, b"--bX", DUMP_PART, (413, "Discarded=too_large_parse_time")),
        # Within the default budget, ~1 s of parsing each, most of it inside single 64 KiB gzip chunks (each
        # inflating to ~64 MiB): parsed in slices, so nothing waits for a whole chunk. The over-long field is
        # dropped with a note and the report accepted.
        ("10", 64, b"--b X", TEXT_PART, (200, "CrashID=bp-")),
    ],
    ids=["over-budget", "within-budget"],
)
def test_hostile_parse_work_stalls_no_one(
    budget: str, mib: int, line: bytes, part: bytes, answer: tuple[int, str], tmp_path: Path
) -> None:
    # Meanwhile heartbeats and an ordinary upload, on every worker, answer within a second.
    hostile = hostile_gzip(mib, line, part)
    assert len(hostile) < 512 * 1024
    ordinary = ordinary_body()
    env = {"CRASHCART_COLLECTOR_PARSE_BUDGET": budget}
    with running_collector(tmp_path / "data", env, workers=WORKERS) as proc:
        stop = threading.Event()
        answers: list[tuple[int, str]] = []
        errors: list[BaseException] = []

        def attack() -> None:
            with httpx.Client(timeout=60) as client:
                while not stop.is_set():
                    try:
                        response = client.post(
                            f"{proc.url}/submit",
                            content=hostile,
                            headers={
                                "content-type": "multipart/form-data; boundary=b",
                                "content-encoding": "gzip",
                                "connection": "close",  # a new connection each time: any worker may take it
                            },
                        )
                    except httpx.HTTPError as exc:  # pragma: no cover - reported below
                        errors.append(exc)
                        return
                    answers.append((response.status_code, response.text[: len(answer[1])]))

        assert proc.proc is not None
        children = psutil.Process(proc.proc.pid).children()
        workers = [child for child in children if not any("resource_tracker" in arg for arg in child.cmdline())]
        assert len(workers) == WORKERS
        cpu_before = [sum(worker.cpu_times()[:2]) for worker in workers]

        def busy() -> list[float]:
            """CPU seconds each worker spent since the attack started."""
            return [sum(worker.cpu_times()[:2]) - before for worker, before in zip(workers, cpu_before, strict=True)]

        attackers = [threading.Thread(target=attack) for _ in range(2 * WORKERS)]
        for thread in attackers:
            thread.start()
        heartbeats: list[float] = []
        uploads: list[tuple[float, int, str]] = []
        try:
            time.sleep(0.5)  # the attack is under way
            # At least 4 s, and until every worker has spent 0.5 s of CPU on the attack (how the kernel hands
            # connections to the workers is not ours to choose): heartbeats and uploads cost milliseconds.
            deadline, give_up = time.monotonic() + 4, time.monotonic() + 30
            with httpx.Client(timeout=30) as client:
                while time.monotonic() < deadline or (min(busy()) < 0.5 and time.monotonic() < give_up):
                    started = time.monotonic()
                    assert client.get(f"{proc.url}/__lbheartbeat__", headers={"connection": "close"}).status_code == 200
                    heartbeats.append(time.monotonic() - started)
                    if len(heartbeats) % 10 == 0:
                        started = time.monotonic()
                        response = client.post(
                            f"{proc.url}/submit",
                            content=ordinary,
                            headers={"content-type": CTYPE, "connection": "close"},
                        )
                        uploads.append((time.monotonic() - started, response.status_code, response.text))
                    time.sleep(0.05)
            spent = busy()
        finally:
            stop.set()
            for thread in attackers:
                thread.join(60)
        log = proc.log()
        spool = sorted((proc.data_dir / "spool").iterdir())

    assert not errors, errors
    assert len(heartbeats) >= 10
    assert max(heartbeats) < 1.0, sorted(heartbeats)[-5:]
    assert uploads and all(status == 200 and text.startswith("CrashID=bp-") for _, status, text in uploads), uploads
    assert max(seconds for seconds, _, _ in uploads) < 1.0, uploads
    assert len(answers) >= 2 * WORKERS
    assert set(answers) == {answer}
    # The hostile requests kept every worker busy while the heartbeats and uploads were answered.
    assert min(spent) >= 0.5, spent
    if answer[0] == 413:
        refused_by = {
            record["pid"]
            for text in log.splitlines()
            if text.startswith("{") and (record := json.loads(text))["event"] == "refused: too_large_parse_time"
        }
        assert len(refused_by) == WORKERS
    assert spool == []
