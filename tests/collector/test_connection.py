"""The collector's HTTP connections as a real server process sees them: head size and time, keep-alive, the cap.

Each hostile client here is one real socket against a real ``crashcart collector`` with small limits, because
what is tested (timers, the bytes a worker holds, the answer before a close) only exists on a real server.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.helpers.collector import CollectorProcess, raw_http, running_collector

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 2.0
KEEPALIVE_TIMEOUT = 1
MAX_CONNECTIONS = 3
MAX_HEADER_SIZE = 16 * 1024
SUBMIT = b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    env = {
        "CRASHCART_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "CRASHCART_KEEPALIVE_TIMEOUT": str(KEEPALIVE_TIMEOUT),
        "CRASHCART_COLLECTOR_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "CRASHCART_MAX_HEADER_SIZE": str(MAX_HEADER_SIZE),
    }
    with running_collector(tmp_path_factory.mktemp("connection"), env) as proc:
        yield proc


def _connect(collector: CollectorProcess, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", collector.port), timeout=timeout)


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; a timeout (``sock``'s) means it never closed."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length, leaving the connection open (the head and body may come apart)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _status_and_body(response: bytes) -> tuple[int, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _send_all_tolerating_close(sock: socket.socket, data: bytes, piece: int = 1 << 16) -> int:
    """Send ``data`` until the server stops reading (it refused us); return how much went out."""
    sent = 0
    with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
        while sent < len(data):
            sent += sock.send(data[sent : sent + piece])
    return sent


# --- head size ------------------------------------------------------------------------------------------


def test_a_1_mib_header_gets_431(collector: CollectorProcess) -> None:
    request = SUBMIT + b"X-Big: " + b"a" * (1 << 20) + b"\r\nContent-Length: 0\r\n\r\n"
    with _connect(collector) as sock:
        _send_all_tolerating_close(sock, request)
        response = _read_until_closed(sock)
    assert _status_and_body(response) == (431, b"Discarded=too_large_headers")


def test_a_head_just_over_the_limit_in_one_piece_gets_431(collector: CollectorProcess) -> None:
    """A complete head over the limit, read in one go, is refused too (not only one still arriving)."""
    filler = b"X-Fill: " + b"b" * (MAX_HEADER_SIZE - len(SUBMIT)) + b"\r\n"
    response = raw_http(collector.port, SUBMIT + filler + b"Content-Length: 4\r\n\r\nMDMP")
    assert _status_and_body(response) == (431, b"Discarded=too_large_headers")


def test_a_head_under_the_limit_is_served(collector: CollectorProcess) -> None:
    filler = b"X-Fill: " + b"c" * (MAX_HEADER_SIZE // 2) + b"\r\n"
    response = raw_http(collector.port, b"GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\n" + filler + b"\r\n", 3)
    assert _status_and_body(response) == (200, b"{}")


def test_an_endless_header_does_not_grow_the_worker(collector: CollectorProcess) -> None:
    """An unfinished 64 MiB header value: the worker stops reading at the limit instead of holding it all."""
    worker = psutil.Process(collector.proc.pid if collector.proc else 0)  # one worker: uvicorn serves in-process
    before = worker.memory_info().rss
    with _connect(collector) as sock:
        _send_all_tolerating_close(sock, SUBMIT + b"X-Endless: " + b"d" * (64 << 20))
        with contextlib.suppress(ConnectionResetError):
            _read_until_closed(sock)
    growth = worker.memory_info().rss - before
    assert growth < 8 << 20, f"RSS grew by {growth / 2**20:.1f} MiB"


# --- head time ------------------------------------------------------------------------------------------


def test_a_half_sent_request_line_is_refused_after_the_header_timeout(collector: CollectorProcess) -> None:
    with _connect(collector, timeout=HEADER_TIMEOUT + 5) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /subm")
        response = _read_until_closed(sock)
        waited = time.monotonic() - started
    assert _status_and_body(response) == (408, b"Discarded=header_timeout")
    assert HEADER_TIMEOUT - 0.5 < waited < HEADER_TIMEOUT + 3


def test_a_head_sent_one_byte_at_a_time_still_ends_at_the_header_timeout(collector: CollectorProcess) -> None:
    """Trickling bytes (slowloris) does not reset the clock, unlike an idle timer would."""
    with _connect(collector, timeout=HEADER_TIMEOUT + 5) as sock:
        started = time.monotonic()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for byte in SUBMIT:
                sock.sendall(bytes([byte]))
                time.sleep(0.2)
                if time.monotonic() - started > HEADER_TIMEOUT + 3:
                    break
        response = _read_until_closed(sock)
        waited = time.monotonic() - started
    assert _status_and_body(response) == (408, b"Discarded=header_timeout")
    assert waited < HEADER_TIMEOUT + 3


def test_a_connection_that_sends_nothing_is_closed_silently(collector: CollectorProcess) -> None:
    with _connect(collector, timeout=HEADER_TIMEOUT + 5) as sock:
        started = time.monotonic()
        assert _read_until_closed(sock) == b""
        assert time.monotonic() - started < HEADER_TIMEOUT + 3


# --- keep-alive -----------------------------------------------------------------------------------------


def test_an_idle_keepalive_connection_is_closed_after_its_timeout(collector: CollectorProcess) -> None:
    with _connect(collector, timeout=KEEPALIVE_TIMEOUT + 5) as sock:
        sock.sendall(b"GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _status_and_body(_read_response(sock)) == (200, b"{}")
        started = time.monotonic()
        assert _read_until_closed(sock) == b""
        assert time.monotonic() - started < KEEPALIVE_TIMEOUT + 2


def test_keepalive_serves_a_second_request(collector: CollectorProcess) -> None:
    with _connect(collector) as sock:
        for _ in range(2):
            sock.sendall(b"GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _status_and_body(_read_response(sock)) == (200, b"{}")


# --- the connection cap ---------------------------------------------------------------------------------


def test_connections_up_to_the_cap_are_served_and_one_more_gets_503(collector: CollectorProcess) -> None:
    idle = [_connect(collector) for _ in range(MAX_CONNECTIONS - 1)]
    try:
        time.sleep(0.2)  # the server has accepted them
        served = raw_http(collector.port, b"GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert _status_and_body(served) == (200, b"{}")
        idle.append(_connect(collector))
        time.sleep(0.2)
        refused = raw_http(collector.port, b"GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert _status_and_body(refused)[0] == 503
    finally:
        for sock in idle:
            sock.close()


# --- framing --------------------------------------------------------------------------------------------

MALFORMED = {
    "content_length_and_chunked": SUBMIT + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "negative_content_length": SUBMIT + b"Content-Length: -4\r\n\r\nMDMP",
    "garbage_content_length": SUBMIT + b"Content-Length: 4x\r\n\r\nMDMP",
    "two_content_lengths": SUBMIT + b"Content-Length: 4\r\nContent-Length: 5\r\n\r\nMDMPX",
    "bare_cr": SUBMIT + b"X-A: 1\rX-B: 2\r\nContent-Length: 4\r\n\r\nMDMP",
    "obs_fold": SUBMIT + b"X-A: 1\r\n folded\r\nContent-Length: 4\r\n\r\nMDMP",
}


@pytest.mark.parametrize("request_bytes", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_framing_gets_400_with_a_reason(collector: CollectorProcess, request_bytes: bytes) -> None:
    response = raw_http(collector.port, request_bytes, timeout=5)
    assert _status_and_body(response) == (400, b"Discarded=malformed_http_framing")
    assert b"connection: close" in response.lower()


def test_the_limits_let_a_plain_upload_through(tmp_path: Path) -> None:
    """Defaults: a well-formed upload is not caught by any limit (the real-client tests are in test_server.py)."""
    with running_collector(tmp_path) as proc:
        response = raw_http(
            proc.port,
            b"POST /submit HTTP/1.0\r\nContent-Type: application/octet-stream\r\nContent-Length: 8\r\n\r\nMDMP\0\0\0\0",
        )
    status, body = _status_and_body(response)
    assert status == 200 and body.startswith(b"CrashID=bp-"), response


def test_refusals_of_the_http_layer_are_counted_with_the_app_s(collector: CollectorProcess) -> None:
    raw_http(collector.port, MALFORMED["obs_fold"])
    deadline = time.monotonic() + 15  # /metrics merges the snapshots each process writes every few seconds
    while True:
        text = httpx.get(f"{collector.url}/metrics", timeout=5).text
        if 'crashcart_collector_rejected_total{reason="malformed_http_framing"}' in text or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert 'crashcart_collector_rejected_total{reason="malformed_http_framing"}' in text
    assert 'crashcart_collector_rejected_total{reason="too_large_headers"}' in text
