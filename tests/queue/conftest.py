"""Fixtures that give each queue test a fresh backend: SQLite in tmp_path, RabbitMQ under a unique prefix.

The same conformance tests run against both. ``QueueHarness`` hides the one real difference, time: the
SQLite backend takes an injected clock, so leases and back-offs are crossed by moving it; RabbitMQ runs on
the broker's clock, so its back-off is made tiny and tests wait for real.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from crashcart.queue.interfaces import QUEUES, CrashQueue, Message

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
MAX_ATTEMPTS = 3


class FakeClock:
    """A clock that stands still until told to move; starts at the real time so real processes agree."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class QueueHarness:
    """One backend under test, plus the means to open more instances on the same storage and to pass time."""

    kind: str
    factory: Callable[[], Any]
    max_attempts: int
    lease_seconds: float
    retry_base: float
    clock: FakeClock | None
    spawn_spec: dict[str, Any]
    opened: list[CrashQueue] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.queue: CrashQueue = self.open()

    @property
    def tracks_in_flight(self) -> bool:
        return self.kind == "sqlite"

    def open(self) -> CrashQueue:
        """Another instance on the same database or broker prefix (closed at teardown)."""
        queue: CrashQueue = self.factory()
        self.opened.append(queue)
        return queue

    def reopen(self) -> CrashQueue:
        """Close the main instance and replace it, as a process restart would."""
        self.queue.close()
        self.queue = self.open()
        return self.queue

    def wait(self, seconds: float) -> None:
        if self.clock is not None:
            self.clock.advance(seconds)
        else:
            time.sleep(seconds)

    def abandon(self, consumer: CrashQueue) -> None:
        """Make ``consumer`` lose its deliveries: the lease ends (SQLite), the connection closes (AMQP)."""
        if self.clock is not None:
            self.clock.advance(self.lease_seconds + 1)
        else:
            consumer.close()

    def receive(self, queues: tuple[str, ...] = QUEUES, timeout: float = 5.0) -> Message | None:
        """The next message; with a real clock, poll until ``timeout`` (the broker may need a moment)."""
        message = self.queue.consume(queues)
        if self.clock is not None or message is not None:
            return message
        deadline = time.monotonic() + timeout
        while message is None and time.monotonic() < deadline:
            time.sleep(0.02)
            message = self.queue.consume(queues)
        return message

    def close_all(self) -> None:
        for queue in self.opened:
            queue.close()


def _sqlite_harness(tmp_path: Path) -> QueueHarness:
    from crashcart.queue.sqlite import SQLiteCrashQueue

    path = tmp_path / "queue.sqlite3"
    clock = FakeClock()
    lease, base = 30.0, 10.0

    def factory() -> SQLiteCrashQueue:
        return SQLiteCrashQueue(path, MAX_ATTEMPTS, lease, base, clock=clock)

    spec = {"kind": "sqlite", "path": str(path), "lease": lease, "base": base}
    return QueueHarness("sqlite", factory, MAX_ATTEMPTS, lease, base, clock, spec)


def _amqp_reachable() -> None:
    import pika
    import pika.exceptions

    params = pika.URLParameters(AMQP_URL)
    params.connection_attempts = 1
    params.socket_timeout = 3
    try:
        pika.BlockingConnection(params).close()
    except (pika.exceptions.AMQPError, OSError) as exc:
        problem = repr(exc)
    else:
        return
    pytest.fail(
        f"RabbitMQ is not reachable at {AMQP_URL} ({problem}). The amqp queue tests need it: start the "
        "server (the CI script does), or deselect them with -m 'not rabbitmq'.",
        pytrace=False,
    )


def _amqp_harness() -> QueueHarness:
    from crashcart.queue.amqp import AMQPCrashQueue

    _amqp_reachable()
    prefix = f"crashcart.test.{uuid.uuid4().hex[:12]}."
    lease, base = 30.0, 0.2

    def factory() -> AMQPCrashQueue:
        return AMQPCrashQueue(AMQP_URL, MAX_ATTEMPTS, lease, base, prefix=prefix)

    spec = {"kind": "amqp", "url": AMQP_URL, "prefix": prefix, "lease": lease, "base": base}
    return QueueHarness("amqp", factory, MAX_ATTEMPTS, lease, base, None, spec)


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("amqp", marks=pytest.mark.rabbitmq)])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QueueHarness]:
    """A declared, empty backend of each kind, removed after the test."""
    made = _sqlite_harness(tmp_path) if request.param == "sqlite" else _amqp_harness()
    made.queue.declare()
    try:
        yield made
    finally:
        made.close_all()
        if made.kind == "amqp":
            cleaner = made.factory()
            cleaner.delete_queues()
            cleaner.close()


# A consumer in its own process: it takes one message, reports it on stdout, and waits to be killed.
_CONSUMER = """
import json, sys, time
spec = json.loads(sys.argv[1])
if spec["kind"] == "sqlite":
    from crashcart.queue.sqlite import SQLiteCrashQueue
    queue = SQLiteCrashQueue(spec["path"], 3, spec["lease"], spec["base"])
else:
    from crashcart.queue.amqp import AMQPCrashQueue
    queue = AMQPCrashQueue(spec["url"], 3, spec["lease"], spec["base"], prefix=spec["prefix"])
message = queue.consume()
print(json.dumps(None if message is None else [message.body, message.attempt]), flush=True)
time.sleep(120)
"""


def consume_in_process_then_kill(harness: QueueHarness) -> tuple[str, int] | None:
    """Run a consumer process that takes one message, then SIGKILL it before it can ack."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CONSUMER, json.dumps(harness.spawn_spec)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    taken = json.loads(line)
    return None if taken is None else (taken[0], taken[1])


@pytest.fixture
def killed_consumer() -> Callable[[QueueHarness], tuple[str, int] | None]:
    """``consume_in_process_then_kill`` as a fixture, so test modules need not import conftest."""
    return consume_in_process_then_kill
