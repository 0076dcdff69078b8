"""The processor's status port over real HTTP: metrics with queue depth, heartbeats that really check."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from crashcart.errors import StorageUnavailable
from crashcart.metrics import Metrics
from crashcart.processor.status import Check, StatusServer
from crashcart.queue.sqlite import SQLiteCrashQueue


def _fail() -> None:
    raise StorageUnavailable("disk on fire")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[StatusServer]:
    queue = SQLiteCrashQueue(tmp_path / "q.sqlite3", 3, 30.0, 0.0)
    queue.declare()
    queue.publish("standard", ["de1bb258-cbbf-4589-a673-34f800160918"])
    metrics = Metrics(tmp_path / "metrics")
    metrics.incr("crashcart_processor_crashes_total", ruleset="default", outcome="processed")
    status = StatusServer(
        "127.0.0.1", 0, metrics, [Check("queue", queue.check), Check("storage", _fail)], {"version": "x"}, queue.depth
    )
    status.start()
    yield status
    status.stop()
    queue.close()


def _get(server: StatusServer, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_metrics_include_worker_counters_and_current_queue_depth(server: StatusServer) -> None:
    code, body = _get(server, "/metrics")
    text = body.decode()
    assert code == 200
    assert 'crashcart_processor_crashes_total{ruleset="default",outcome="processed"} 1' in text
    assert 'crashcart_queue_depth{queue="standard",state="ready"} 1' in text


def test_heartbeat_lists_the_failing_check(server: StatusServer) -> None:
    code, body = _get(server, "/__heartbeat__")
    assert code == 503
    assert json.loads(body) == {"errors": {"storage": "storage_unavailable: disk on fire"}}
    assert _get(server, "/__lbheartbeat__") == (200, b"{}")
    assert json.loads(_get(server, "/__version__")[1]) == {"version": "x"}
    assert _get(server, "/nope")[0] == 404
