"""The status endpoints as framework-neutral responses (what every adapter serves)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from crashcart.errors import QueueUnavailable, StorageUnavailable
from crashcart.metrics import Metrics
from crashcart.queue.sqlite import SQLiteCrashQueue
from crashcart.service.health import Check, Heartbeat
from crashcart.service.status import JSON, METRICS_CONTENT_TYPE, Status, version_document
from crashcart.settings import load_settings


def _status(tmp_path: Path, *checks: Check, depth_timeout: float = 5.0) -> tuple[Status, SQLiteCrashQueue]:
    queue = SQLiteCrashQueue(tmp_path / "q.sqlite3", 3, 30.0, 0.0)
    queue.declare()
    queue.publish("standard", ["de1bb258-cbbf-4589-a673-34f800160918"])
    metrics = Metrics()
    status = Status(Heartbeat(list(checks), metrics), {"version": "x"}, metrics, queue.depth, depth_timeout)
    return status, queue


def test_each_path(tmp_path: Path) -> None:
    def down() -> None:
        raise StorageUnavailable("disk on fire")

    status, queue = _status(tmp_path, Check("queue", lambda: None), Check("storage", down))
    try:
        assert status.respond("/__lbheartbeat__") == (200, JSON, b"{}")
        assert status.respond("/__version__") == (200, JSON, b'{"version": "x"}')
        beat = status.respond("/__heartbeat__")
        assert beat is not None and beat.status == 503 and beat.content_type == JSON
        assert json.loads(beat.body) == {"errors": [{"name": "storage", "msg": "storage_unavailable: disk on fire"}]}
        metrics = status.respond("/metrics")
        assert metrics is not None and metrics.content_type == METRICS_CONTENT_TYPE
        text = metrics.body.decode()
        assert 'crashcart_queue_depth{queue="standard",state="ready"} 1' in text
        assert 'crashcart_health_checks_total{check="storage",outcome="fail"} 1' in text
        assert status.respond("/submit") is None
        assert status.respond("/__heartbeat__/") is None
    finally:
        status.heartbeat.close()
        queue.close()


async def test_async_responses_match_and_a_slow_queue_does_not_hold_metrics(tmp_path: Path) -> None:
    status, queue = _status(tmp_path, Check("queue", lambda: None), depth_timeout=0.2)
    try:
        beat = await status.respond_async("/__heartbeat__")
        assert beat == (200, JSON, b'{"errors": []}')
        assert await status.respond_async("/__version__") == status.respond("/__version__")
        assert await status.respond_async("/nope") is None

        def slow_depth() -> dict[str, object]:
            time.sleep(1)
            raise QueueUnavailable("too slow")

        status._queue_depth = slow_depth
        start = time.monotonic()
        metrics = await status.respond_async("/metrics")
        assert time.monotonic() - start < 0.9
        assert metrics is not None and metrics.status == 200
    finally:
        status.heartbeat.close()
        queue.close()


def test_a_queue_that_is_down_leaves_metrics_answering(tmp_path: Path) -> None:
    status, queue = _status(tmp_path)

    def down() -> dict[str, object]:
        raise QueueUnavailable("broker gone")

    status._queue_depth = down
    try:
        response = status.respond("/metrics")
        assert response is not None and response.status == 200
        assert "crashcart_queue_depth{" not in response.body.decode()
    finally:
        status.heartbeat.close()
        queue.close()


def test_version_document(tmp_path: Path) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path), "CRASHCART_COMMIT": "abc123"})
    document = version_document(settings)
    assert document["commit"] == "abc123"
    assert document["source"] == "crashcart"
    assert document["version"]
