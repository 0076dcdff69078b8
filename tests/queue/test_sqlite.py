"""SQLite-only promises: many processes and threads at once, schema versioning, lease edge cases."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from crashcart.errors import ConfigError, MessageNotFound
from crashcart.queue.interfaces import PRIORITY, STANDARD
from crashcart.queue.sqlite import SQLiteCrashQueue

_PRODUCER = """
import json, sys
from crashcart.queue.sqlite import SQLiteCrashQueue
spec = json.loads(sys.argv[1])
queue = SQLiteCrashQueue(spec["path"], 3, 300, 10)
for n in range(spec["count"]):
    body = f"{spec['name']}-{n}"
    if n % 50 == 49:
        queue.publish("priority", [body])
    else:
        queue.publish("standard", [body])
queue.close()
"""

_CONSUMER = """
import json, os, sys, time
from crashcart.queue.sqlite import SQLiteCrashQueue
spec = json.loads(sys.argv[1])
queue = SQLiteCrashQueue(spec["path"], 3, 300, 10)
seen = []
while True:
    message = queue.consume()
    if message is None:
        if os.path.exists(spec["stop"]):
            break
        time.sleep(0.005)
        continue
    queue.ack(message)
    seen.append([message.body, message.attempt])
queue.close()
print(json.dumps(seen))
"""


def _spawn(script: str, spec: dict[str, object], *, output: bool) -> subprocess.Popen[str]:
    stdout = subprocess.PIPE if output else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-c", script, json.dumps(spec)], stdout=stdout, text=True)


def test_processes_publishing_and_consuming_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    stop = tmp_path / "stop"
    queue = SQLiteCrashQueue(path, 3, 300, 10)
    queue.declare()
    consumers = [_spawn(_CONSUMER, {"path": str(path), "stop": str(stop)}, output=True) for _ in range(2)]
    producers = [
        _spawn(_PRODUCER, {"path": str(path), "name": name, "count": 500}, output=False) for name in ("a", "b")
    ]
    for producer in producers:
        assert producer.wait(timeout=120) == 0
    stop.touch()
    seen: list[list[object]] = []
    for consumer in consumers:
        out, _ = consumer.communicate(timeout=120)
        assert consumer.returncode == 0
        seen += json.loads(out)
    counts = Counter(body for body, _attempt in seen)
    expected = {f"{name}-{n}" for name in ("a", "b") for n in range(500)}
    assert set(counts) == expected
    assert max(counts.values()) == 1, "a message was delivered twice"
    assert {attempt for _body, attempt in seen} == {1}
    depth = queue.depth()
    assert all(d.ready == d.in_flight == d.delayed == d.dead == 0 for d in depth.values())
    queue.close()


def test_threads_share_one_instance(tmp_path: Path) -> None:
    """Each thread gets its own connection; concurrent claims never hand out a message twice."""
    queue = SQLiteCrashQueue(tmp_path / "queue.sqlite3", 3, 300, 10)
    queue.declare()
    queue.publish(STANDARD, [f"m{n}" for n in range(400)])
    taken: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        while (message := queue.consume()) is not None:
            queue.ack(message)
            with lock:
                taken.append(message.body)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(f"m{n}" for n in range(400))
    queue.close()


def test_database_is_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    queue = SQLiteCrashQueue(path, 3, 300, 10)
    queue.declare()
    with sqlite3.connect(path) as probe:
        assert probe.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn = queue._conn()
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    queue.close()
    probe.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    queue = SQLiteCrashQueue(path, 3, 300, 10)
    with pytest.raises(ConfigError, match="newer"):
        queue.declare()
    queue.close()


def test_late_ack_succeeds_while_nobody_else_claimed(tmp_path: Path) -> None:
    """A lease that ran out does not lose the work if the message was not handed to anyone else yet."""
    now = [1_000_000.0]
    queue = SQLiteCrashQueue(tmp_path / "queue.sqlite3", 3, 30, 10, clock=lambda: now[0])
    queue.declare()
    queue.publish(PRIORITY, ["slow"])
    message = queue.consume()
    assert message is not None
    now[0] += 60
    assert queue.depth()[PRIORITY].ready == 1  # an expired lease is up for grabs
    queue.ack(message)
    assert queue.consume() is None
    queue.close()


def test_nack_of_expired_and_reclaimed_delivery_is_refused(tmp_path: Path) -> None:
    now = [1_000_000.0]
    queue = SQLiteCrashQueue(tmp_path / "queue.sqlite3", 3, 30, 10, clock=lambda: now[0])
    queue.declare()
    queue.publish(STANDARD, ["x"])
    first = queue.consume()
    assert first is not None
    now[0] += 31
    second = queue.consume()
    assert second is not None
    assert second.attempt == 2
    with pytest.raises(MessageNotFound):
        queue.nack(first, "too late")
    queue.nack(second, "failed")
    assert queue.depth()[STANDARD].delayed == 1
    queue.close()


def test_zero_back_off_retries_at_once(tmp_path: Path) -> None:
    queue = SQLiteCrashQueue(tmp_path / "queue.sqlite3", 2, 30, 0)
    queue.declare()
    queue.publish(STANDARD, ["x"])
    message = queue.consume()
    assert message is not None
    queue.nack(message, "again")
    retried = queue.consume()
    assert retried is not None
    assert retried.attempt == 2
    queue.close()


def test_closed_queue_refuses_work(tmp_path: Path) -> None:
    from crashcart.errors import QueueUnavailable

    queue = SQLiteCrashQueue(tmp_path / "queue.sqlite3", 3, 30, 10)
    queue.declare()
    queue.close()
    with pytest.raises(QueueUnavailable):
        queue.publish(STANDARD, ["x"])


def test_publish_is_cheap(tmp_path: Path) -> None:
    """Not a benchmark: a guard against publish growing per-call schema work or extra round trips."""
    queue = SQLiteCrashQueue(tmp_path / "queue.sqlite3", 3, 300, 10)
    queue.declare()
    queue.publish(STANDARD, ["warm-up"])
    start = time.perf_counter()
    for n in range(200):
        queue.publish(STANDARD, [f"crash-{n}"])
    per_publish = (time.perf_counter() - start) / 200
    assert per_publish < 0.02, f"publish took {per_publish * 1e6:.0f} µs"
    queue.close()


def test_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    """SQLite forbids using a connection across fork: the child gets a new one, the parent keeps its own."""
    import os

    queue = SQLiteCrashQueue(tmp_path / "queue.sqlite3", 3, 300, 10)
    queue.declare()
    queue.publish(STANDARD, ["from-parent"])
    pid = os.fork()
    if pid == 0:  # the child: publish through the inherited object, then leave without cleanup handlers
        code = 0
        try:
            queue.publish(STANDARD, ["from-child"])
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    bodies = []
    while (message := queue.consume()) is not None:
        queue.ack(message)
        bodies.append(message.body)
    assert bodies == ["from-parent", "from-child"]
    queue.close()
