"""The heartbeat evaluation every role shares: checks at once, a time limit, errors by name, 200 or 503."""

from __future__ import annotations

import threading
import time

import pytest

from crashcart.errors import QueueUnavailable, StorageUnavailable
from crashcart.metrics import Metrics
from crashcart.service.health import MAX_MESSAGE, Check, Heartbeat, describe_failure


def ok() -> None:
    return None


def storage_down() -> None:
    raise StorageUnavailable("disk on fire")


def test_all_checks_pass() -> None:
    metrics = Metrics()
    heartbeat = Heartbeat([Check("storage", ok), Check("queue", ok)], metrics)
    try:
        result = heartbeat.run()
    finally:
        heartbeat.close()
    assert result.healthy and result.status == 200
    assert result.document() == {"errors": []}
    assert metrics.counter_value("crashcart_health_checks_total", check="queue", outcome="ok") == 1


def test_failures_are_listed_by_name_with_their_stable_code() -> None:
    def boom() -> None:
        raise ValueError("x" * 2000)

    metrics = Metrics()
    heartbeat = Heartbeat([Check("storage", storage_down), Check("queue", ok), Check("index", boom)], metrics)
    try:
        result = heartbeat.run()
    finally:
        heartbeat.close()
    assert result.status == 503
    assert result.errors[0] == {"name": "storage", "msg": "storage_unavailable: disk on fire"}
    assert result.errors[1]["name"] == "index"
    assert result.errors[1]["msg"].startswith("ValueError: xxx")
    assert len(result.errors[1]["msg"]) == MAX_MESSAGE
    assert metrics.counter_value("crashcart_health_checks_total", check="storage", outcome="fail") == 1
    assert metrics.counter_value("crashcart_health_checks_total", check="queue", outcome="ok") == 1


def test_checks_run_at_once_and_a_hung_one_times_out_without_piling_up() -> None:
    release = threading.Event()
    calls: list[str] = []

    def hangs() -> None:
        calls.append("hangs")
        release.wait(10)

    def slow() -> None:
        time.sleep(0.3)

    heartbeat = Heartbeat([Check("queue", hangs), Check("a", slow), Check("b", slow)], timeout=0.5)
    try:
        start = time.monotonic()
        first = heartbeat.run()
        elapsed = time.monotonic() - start
        second = heartbeat.run()
    finally:
        release.set()
        heartbeat.close()
    assert elapsed < 0.9, "the two slow checks ran one after the other"
    assert [e["name"] for e in first.errors] == ["queue"]
    assert first.errors[0]["msg"] == "timeout: no answer within 0.5 s"
    assert [e["name"] for e in second.errors] == ["queue"]
    assert calls == ["hangs"], "the second heartbeat waited on the hung run instead of starting another"


async def test_run_async_gives_the_same_result_off_the_loop() -> None:
    heartbeat = Heartbeat([Check("queue", lambda: (_ for _ in ()).throw(QueueUnavailable("broker gone")))])
    try:
        result = await heartbeat.run_async()
    finally:
        heartbeat.close()
    assert result.errors == [{"name": "queue", "msg": "queue_unavailable: broker gone"}]


def test_check_names_are_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        Heartbeat([Check("queue", ok), Check("queue", ok)])


def test_describe_failure() -> None:
    assert describe_failure(StorageUnavailable("gone")) == "storage_unavailable: gone"
    assert describe_failure(TimeoutError("slow")) == "timeout: slow"
    assert describe_failure(OSError(5, "EIO")) == "OSError: [Errno 5] EIO"
