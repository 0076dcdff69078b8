"""The status endpoints over real HTTP: the threaded status server, and the ASGI adapter."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from crashcart.asgi import Receive, Scope, Send, respond
from crashcart.errors import StorageUnavailable
from crashcart.metrics import Metrics
from crashcart.queue.sqlite import SQLiteCrashQueue
from crashcart.service.health import Check, Heartbeat
from crashcart.service.http import StatusServer, serve_status
from crashcart.service.status import Status


def _fail() -> None:
    raise StorageUnavailable("disk on fire")


@pytest.fixture
def status(tmp_path: Path) -> Iterator[Status]:
    queue = SQLiteCrashQueue(tmp_path / "q.sqlite3", 3, 30.0, 0.0)
    queue.declare()
    queue.publish("standard", ["de1bb258-cbbf-4589-a673-34f800160918"])
    metrics = Metrics(tmp_path / "metrics")
    metrics.incr("crashcart_processor_crashes_total", ruleset="default", outcome="processed")
    heartbeat = Heartbeat([Check("queue", queue.check), Check("storage", _fail)], metrics)
    yield Status(heartbeat, {"version": "x"}, metrics, queue.depth)
    heartbeat.close()
    queue.close()


@pytest.fixture
def server(status: Status) -> Iterator[StatusServer]:
    started = StatusServer("127.0.0.1", 0, status)
    started.start()
    yield started
    started.stop()


def _get(server: StatusServer, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_threaded_server_metrics_include_counters_and_current_queue_depth(server: StatusServer) -> None:
    code, body = _get(server, "/metrics?x=1")
    text = body.decode()
    assert code == 200
    assert 'crashcart_processor_crashes_total{ruleset="default",outcome="processed"} 1' in text
    assert 'crashcart_queue_depth{queue="standard",state="ready"} 1' in text


def test_threaded_server_heartbeat_lists_the_failing_check(server: StatusServer) -> None:
    code, body = _get(server, "/__heartbeat__")
    assert code == 503
    assert json.loads(body) == {"errors": [{"name": "storage", "msg": "storage_unavailable: disk on fire"}]}
    assert _get(server, "/__lbheartbeat__") == (200, b"{}")
    assert json.loads(_get(server, "/__version__")[1]) == {"version": "x"}
    assert _get(server, "/nope")[0] == 404


async def test_asgi_adapter_serves_status_paths_and_leaves_the_rest_to_the_app(status: Status) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if not await serve_status(status, scope, send):
            await respond(send, 418, b"the app's own")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        beat = await client.get("/__heartbeat__")
        metrics = await client.get("/metrics")
        other = await client.get("/elsewhere")
        posted = await client.post("/__heartbeat__")
    assert beat.status_code == 503 and beat.headers["content-type"] == "application/json"
    assert beat.json()["errors"][0]["name"] == "storage"
    assert 'crashcart_queue_depth{queue="standard",state="ready"} 1' in metrics.text
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert other.status_code == 418
    assert posted.status_code == 418, "only GET and HEAD reach the status endpoints"


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def test_threaded_server_closes_idle_connections_and_caps_them(status: Status) -> None:
    """Idle clients cannot hold a thread each forever: they time out, and those over the cap get a 503."""
    server = StatusServer("127.0.0.1", 0, status, timeout=1.0, max_connections=4)
    server.start()
    before = threading.active_count()
    idle: list[socket.socket] = []
    try:
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(3)]
        time.sleep(0.2)
        assert _get(server, "/__lbheartbeat__") == (200, b"{}")  # the fourth slot still answers a scrape
        _wait_for(lambda: threading.active_count() - before == 3)  # the scrape's thread has given its slot back
        idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))  # now all four are held
        extra = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(5)]
        time.sleep(0.2)
        assert threading.active_count() - before <= 4
        for sock in extra:
            with sock:
                assert sock.recv(100).startswith(b"HTTP/1.0 503 "), "over the cap: refused at once"
        started = time.monotonic()
        for sock in idle:
            assert sock.recv(100) == b"", "an idle connection is closed by the server"
        assert time.monotonic() - started < 3
        assert _get(server, "/__lbheartbeat__") == (200, b"{}")
    finally:
        for sock in idle:
            sock.close()
        server.stop()
