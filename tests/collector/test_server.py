"""The collector as a real server process: wire framing real clients use, signals, durability, memory."""

from __future__ import annotations

import concurrent.futures
import ctypes.util
import datetime as dt
import gzip
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from crashcart.queue import open_queue
from crashcart.settings import load_settings
from crashcart.storage import open_storage
from tests.helpers.collector import CollectorProcess, raw_http, running_collector
from tests.helpers.shared import CORPUS, REALCLIENT

pytestmark = pytest.mark.slow


def _libcurl_present() -> bool:
    """Breakpad's uploader loads libcurl (or its GnuTLS build) at run time; `make test` installs it when it can."""
    return any(ctypes.util.find_library(name) for name in ("curl", "curl-gnutls"))


BOUNDARY = "----crashcart-test-boundary"
DUMP = b"MDMP" + os.urandom(150_000)


def body(fields: dict[str, str], dump: bytes = DUMP) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="upload_file_minidump"; filename="x.dmp"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + dump
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


CTYPE = f"multipart/form-data; boundary={BOUNDARY}"


def chunked(data: bytes, size: int = 8192) -> bytes:
    out = [b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size]) for i in range(0, len(data), size)]
    return b"".join(out) + b"0\r\n\r\n"


def crash_id_from(response: bytes) -> str:
    head, _, payload = response.partition(b"\r\n\r\n")
    assert b" 200 " in head.split(b"\r\n")[0], response[:300]
    text = payload.decode()
    assert text.startswith("CrashID=bp-"), text
    return text.strip()[len("CrashID=bp-") :]


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> CollectorProcess:
    with running_collector(tmp_path_factory.mktemp("collector")) as proc:
        yield proc


def stored(data_dir: Path, crash_id: str) -> bool:
    storage = open_storage(load_settings({"CRASHCART_DATA_DIR": str(data_dir)}), None)
    return storage.has_raw_crash(crash_id) and storage.get_dump(crash_id, "upload_file_minidump") == DUMP


def test_chunked_gzip_without_content_length(collector: CollectorProcess) -> None:
    data = gzip.compress(body({"prod": "TestApp", "ver": "1.0"}))
    request = (
        f"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: {CTYPE}\r\nContent-Encoding: gzip\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode() + chunked(data)
    crash_id = crash_id_from(raw_http(collector.port, request))
    assert stored(collector.data_dir, crash_id)


def test_http10_chunked_without_host(collector: CollectorProcess) -> None:
    """Crashpad's socket transport (Android): HTTP/1.0, chunked, no Host, no User-Agent."""
    data = gzip.compress(body({"prod": "TestApp", "ver": "1.0"}))
    request = (
        f"POST /submit HTTP/1.0\r\nContent-Type: {CTYPE}\r\nContent-Encoding: gzip\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode() + chunked(data)
    response = raw_http(collector.port, request)
    assert b"transfer-encoding: chunked" not in response.lower()  # an HTTP/1.0 client cannot de-chunk
    assert stored(collector.data_dir, crash_id_from(response))


def test_expect_100_continue(collector: CollectorProcess) -> None:
    data = body({"ProductName": "Test", "Version": "1.0"}, DUMP)
    head = (
        f"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: {CTYPE}\r\nContent-Length: {len(data)}\r\n"
        "Expect: 100-continue\r\nConnection: close\r\n\r\n"
    ).encode()
    import socket

    with socket.create_connection(("127.0.0.1", collector.port), timeout=10) as sock:
        sock.sendall(head)
        interim = sock.recv(100)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    if response.startswith(b"\r\n"):
        response = response[2:]
    assert stored(collector.data_dir, crash_id_from(response))


def test_truncated_body_is_refused_not_500(collector: CollectorProcess) -> None:
    data = body({"ProductName": "Test"})[:-200]
    response = httpx.post(f"{collector.url}/submit", content=data, headers={"content-type": CTYPE})
    assert response.status_code == 400
    assert response.text.startswith("Discarded=malformed_")


def test_big_dump_is_streamed_not_held(tmp_path: Path) -> None:
    """A 90 MiB dump grows the collector's RSS by far less than 90 MiB."""
    big = os.urandom(1024 * 1024) * 90
    with running_collector(tmp_path / "big") as proc:
        worker = psutil.Process(proc.proc.pid)  # one worker: uvicorn serves in the main process
        httpx.post(
            f"{proc.url}/submit",
            content=body({"ProductName": "Big"}, b"MDMP"),
            headers={"content-type": CTYPE},
        )
        before = worker.memory_info().rss

        def gen() -> object:
            data = body({"ProductName": "Big"}, big)
            for i in range(0, len(data), 1 << 20):
                yield data[i : i + (1 << 20)]

        response = httpx.post(f"{proc.url}/submit", content=gen(), headers={"content-type": CTYPE}, timeout=120)
        after = worker.memory_info().rss
        crash_id = response.text.strip()[len("CrashID=bp-") :]
        assert response.status_code == 200, response.text
        storage = open_storage(load_settings({"CRASHCART_DATA_DIR": str(proc.data_dir)}), None)
        path = storage.get_dump_path(crash_id, "upload_file_minidump", tmp_path)
        assert path.stat().st_size == len(big)
    growth = after - before
    assert growth < 30 * 1024 * 1024, f"RSS grew by {growth / 2**20:.1f} MiB"


def test_sigterm_finishes_upload_in_flight(tmp_path: Path) -> None:
    proc = CollectorProcess(tmp_path / "term").start()
    data = body({"ProductName": "Test", "Version": "1.0"})
    head = (
        f"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: {CTYPE}\r\nContent-Length: {len(data)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    import socket

    try:
        sock = socket.create_connection(("127.0.0.1", proc.port), timeout=20)
        sock.sendall(head + data[:1000])
        time.sleep(0.3)
        proc.signal(signal.SIGTERM)
        time.sleep(0.5)
        # new connections are refused while the upload in flight may finish
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{proc.url}/__lbheartbeat__", timeout=2)
        sock.sendall(data[1000:])
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        sock.close()
        crash_id = crash_id_from(b"".join(chunks))
        assert proc.proc is not None
        # uvicorn re-raises the signal after its graceful shutdown, so the exit reports SIGTERM
        assert proc.proc.wait(30) in (0, -signal.SIGTERM)
        assert stored(proc.data_dir, crash_id)
    finally:
        proc.kill()


def test_sigkill_during_concurrent_uploads_loses_nothing(tmp_path: Path) -> None:
    """Every id answered 200 before a SIGKILL is complete in storage and reaches the queue."""
    data_dir = tmp_path / "kill"
    env = {"CRASHCART_SWEEP_INTERVAL": "1", "CRASHCART_SWEEP_MIN_AGE": "0"}
    proc = CollectorProcess(data_dir, env, workers=2).start()
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    payload = body({"ProductName": "Test", "Version": "1.0"})

    def uploader() -> None:
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                try:
                    r = client.post(f"{proc.url}/submit", content=payload, headers={"content-type": CTYPE})
                except httpx.HTTPError:
                    continue
                if r.status_code == 200 and r.text.startswith("CrashID=bp-"):
                    with lock:
                        answered.append(r.text.strip()[len("CrashID=bp-") :])

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(uploader) for _ in range(8)]
        time.sleep(3)
        proc.kill()  # supervisor and workers, mid-request
        time.sleep(0.5)
        stop.set()
        for f in futures:
            f.result()
    killed_ids = list(answered)
    assert len(killed_ids) > 20, "the load never got going"

    settings = load_settings({"CRASHCART_DATA_DIR": str(data_dir)})
    storage = open_storage(settings, None)
    for crash_id in killed_ids:
        assert storage.has_raw_crash(crash_id), crash_id
        assert storage.get_dump(crash_id, "upload_file_minidump") == DUMP

    # restart: the sweep publishes whatever was stored but not queued when the process died
    restarted = CollectorProcess(data_dir, env).start()
    try:
        queue = open_queue(settings)
        seen: set[str] = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not set(killed_ids) <= seen:
            msg = queue.consume()
            if msg is None:
                time.sleep(0.2)
                continue
            seen.add(msg.body)
            queue.ack(msg)
        missing = set(killed_ids) - seen
        assert not missing, f"{len(missing)} answered crash ids never reached the queue"
    finally:
        restarted.stop()
        restarted.kill()


@pytest.mark.skipif(not (REALCLIENT / "crashpad_upload.sh").exists(), reason="../shared/tools/realclient absent")
@pytest.mark.skipif(shutil.which("g++") is None, reason="the crasher needs g++")
def test_real_crashpad_handler_upload(collector: CollectorProcess, tmp_path: Path) -> None:
    out = subprocess.run(
        [
            str(REALCLIENT / "crashpad_upload.sh"),
            f"{collector.url}/submit",
            str(tmp_path / "cp"),
            "prod=TestApp",
            "ver=2.5",
            "channel=beta",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    crash_id = out.stdout.split("CrashID=bp-")[1].split()[0]
    storage = open_storage(load_settings({"CRASHCART_DATA_DIR": str(collector.data_dir)}), None)
    raw = storage.get_raw_crash(crash_id)
    assert raw["prod"] == "TestApp" and raw["ver"] == "2.5"
    assert raw["metadata"]["payload_compressed"] == "1"
    assert storage.get_dump(crash_id, "upload_file_minidump")[:4] == b"MDMP"


@pytest.mark.skipif(not (REALCLIENT / "breakpad_upload.sh").exists(), reason="../shared/tools/realclient absent")
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus absent")
@pytest.mark.skipif(
    not _libcurl_present(),
    reason="minidump_upload dlopen()s libcurl, which is not installed (apt-get install libcurl4)",
)
def test_real_breakpad_minidump_upload(collector: CollectorProcess) -> None:
    dump = CORPUS / "BugSplat-Git__node-minidump-stackwalk" / "dumps" / "minidump.dmp"
    out = subprocess.run(
        [str(REALCLIENT / "breakpad_upload.sh"), f"{collector.url}/submit", str(dump), "QtCrasher", "1.0"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    crash_id = out.stdout.split("CrashID=bp-")[1].split()[0]
    storage = open_storage(load_settings({"CRASHCART_DATA_DIR": str(collector.data_dir)}), None)
    assert storage.get_raw_crash(crash_id)["prod"] == "QtCrasher"
    assert storage.get_dump(crash_id, "upload_file_minidump") == dump.read_bytes()
    assert dt.datetime.fromisoformat(storage.get_raw_crash(crash_id)["submitted_timestamp"]).date() == (
        dt.datetime.now(dt.UTC).date()
    )
