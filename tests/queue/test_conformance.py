"""Every ``CrashQueue`` backend keeps the same promises (see ``crashcart.queue.interfaces``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from crashcart.errors import ConfigError, MessageNotFound, QueueUnavailable
from crashcart.queue import QUEUES, CrashQueue, open_queue
from crashcart.queue.interfaces import PRIORITY, REPROCESSING, STANDARD, Message
from crashcart.settings import load_settings

if TYPE_CHECKING:
    from conftest import QueueHarness

    KillConsumer = Callable[[QueueHarness], tuple[str, int] | None]


def take(harness: QueueHarness, queues: tuple[str, ...] = QUEUES) -> Message:
    message = harness.receive(queues)
    assert message is not None, "expected a message"
    return message


def fail_until_dead(harness: QueueHarness, body: str) -> None:
    """Publish ``body`` and fail it ``max_attempts`` times, waiting out each back-off."""
    harness.queue.publish(STANDARD, [body])
    for attempt in range(1, harness.max_attempts + 1):
        message = take(harness)
        assert (message.body, message.attempt) == (body, attempt)
        harness.queue.nack(message, f"boom {attempt}")
        if attempt < harness.max_attempts:
            harness.wait(harness.retry_base * 2 ** (attempt - 1) + 0.05)


def test_satisfies_protocol(harness: QueueHarness) -> None:
    assert isinstance(harness.queue, CrashQueue)


def test_publish_consume_ack(harness: QueueHarness) -> None:
    queue = harness.queue
    queue.publish(STANDARD, ["de1bb258-cbbf-4589-a673-34f800160918"])
    message = take(harness)
    assert message.queue == STANDARD
    assert message.body == "de1bb258-cbbf-4589-a673-34f800160918"
    assert message.attempt == 1
    queue.ack(message)
    assert queue.consume() is None
    assert queue.depth()[STANDARD].ready == 0


def test_empty_queues_give_none(harness: QueueHarness) -> None:
    assert harness.queue.consume() is None
    assert harness.queue.consume([STANDARD]) is None


def test_publish_nothing_is_a_no_op(harness: QueueHarness) -> None:
    harness.queue.publish(STANDARD, [])
    assert harness.queue.consume() is None


def test_queues_are_taken_in_the_given_order(harness: QueueHarness) -> None:
    queue = harness.queue
    queue.publish(STANDARD, ["s"])
    queue.publish(REPROCESSING, ["r"])
    queue.publish(PRIORITY, ["p"])
    assert take(harness, (STANDARD,)).body == "s"
    assert [take(harness).body for _ in range(2)] == ["p", "r"]


def test_one_queue_is_first_in_first_out(harness: QueueHarness) -> None:
    harness.queue.publish(STANDARD, ["1", "2"])
    harness.queue.publish(STANDARD, ["3"])
    assert [take(harness).body for _ in range(3)] == ["1", "2", "3"]


def test_publish_many_bodies_in_one_call(harness: QueueHarness) -> None:
    bodies = [f"crash-{n:04d}:ruleset" for n in range(300)]
    harness.queue.publish(REPROCESSING, bodies)
    assert harness.queue.depth()[REPROCESSING].ready == 300
    seen = []
    for _ in bodies:
        message = take(harness)
        seen.append(message.body)
        harness.queue.ack(message)
    assert seen == bodies
    assert harness.queue.consume() is None


def test_unknown_queue_is_refused(harness: QueueHarness) -> None:
    with pytest.raises(ValueError, match="unknown queue"):
        harness.queue.publish("nope", ["x"])
    with pytest.raises(ValueError, match="unknown queue"):
        harness.queue.consume(["nope"])


def test_nack_retries_after_back_off_with_next_attempt(harness: QueueHarness) -> None:
    queue = harness.queue
    queue.publish(STANDARD, ["x"])
    queue.nack(take(harness), "first failure")
    assert queue.consume() is None, "redelivered before its back-off"
    if harness.clock is not None:
        assert queue.depth()[STANDARD].delayed == 1
        harness.wait(harness.retry_base * 0.9)
        assert queue.consume() is None
        harness.wait(harness.retry_base * 0.2)
    second = take(harness)
    assert (second.body, second.attempt) == ("x", 2)
    queue.nack(second, "second failure")
    if harness.clock is not None:
        harness.wait(harness.retry_base * 1.5)  # the back-off doubled
        assert queue.consume() is None
        harness.wait(harness.retry_base * 0.6)
    third = take(harness)
    assert (third.body, third.attempt) == ("x", 3)
    queue.ack(third)
    harness.wait(harness.retry_base * 2)
    assert queue.consume() is None


def test_dead_letter_after_max_attempts_with_reason(harness: QueueHarness) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    fail_until_dead(harness, "poison")
    harness.wait(harness.retry_base * 2)
    assert harness.queue.consume() is None
    [letter] = harness.queue.dead_letters(STANDARD)
    assert letter.queue == STANDARD
    assert letter.body == "poison"
    assert letter.attempts == harness.max_attempts
    assert letter.reason == f"boom {harness.max_attempts}"
    assert letter.dead_at.tzinfo is not None
    if harness.clock is None:
        assert letter.dead_at >= before
    assert letter.receipt
    depth = harness.queue.depth()[STANDARD]
    assert (depth.ready, depth.delayed, depth.dead) == (0, 0, 1)
    # Browsing does not consume.
    assert [d.body for d in harness.queue.dead_letters(STANDARD)] == ["poison"]
    assert harness.queue.dead_letters(PRIORITY) == []


def test_requeue_dead_resets_attempts(harness: QueueHarness) -> None:
    fail_until_dead(harness, "a")
    fail_until_dead(harness, "b")
    assert sorted(d.body for d in harness.queue.dead_letters(STANDARD)) == ["a", "b"]
    assert harness.queue.requeue_dead(STANDARD, ["a", "not-there"]) == 1
    message = take(harness)
    assert (message.body, message.attempt) == ("a", 1)
    harness.queue.ack(message)
    assert [d.body for d in harness.queue.dead_letters(STANDARD)] == ["b"]
    assert harness.queue.requeue_dead(STANDARD) == 1
    message = take(harness)
    assert (message.body, message.attempt) == ("b", 1)
    harness.queue.ack(message)
    assert harness.queue.requeue_dead(STANDARD) == 0
    assert harness.queue.depth()[STANDARD].dead == 0


def test_depth_counts_every_queue(harness: QueueHarness) -> None:
    queue = harness.queue
    queue.publish(STANDARD, ["s1", "s2", "s3"])
    queue.publish(PRIORITY, ["p1"])
    held = take(harness)
    assert held.body == "p1"
    depth = queue.depth()
    assert set(depth) == set(QUEUES)
    assert depth[STANDARD].ready == 3
    assert depth[PRIORITY].ready == 0
    assert depth[PRIORITY].in_flight == (1 if harness.tracks_in_flight else 0)
    assert depth[REPROCESSING].ready == depth[REPROCESSING].dead == 0
    queue.ack(held)
    assert queue.depth()[PRIORITY].in_flight == 0


def test_declare_is_idempotent(harness: QueueHarness) -> None:
    harness.queue.publish(STANDARD, ["kept"])
    harness.queue.declare()
    harness.open().declare()
    harness.queue.check()
    assert take(harness).body == "kept"


def test_stale_receipt_is_message_not_found(harness: QueueHarness) -> None:
    queue = harness.queue
    queue.publish(STANDARD, ["x"])
    message = take(harness)
    queue.ack(message)
    with pytest.raises(MessageNotFound):
        queue.ack(message)
    with pytest.raises(MessageNotFound):
        queue.nack(message, "late")
    forged = Message(queue=STANDARD, body="x", receipt="garbage", attempt=1)
    with pytest.raises(MessageNotFound):
        queue.ack(forged)


def test_abandoned_delivery_is_redelivered_and_old_receipt_dies(harness: QueueHarness) -> None:
    harness.queue.publish(STANDARD, ["held"])
    consumer = harness.open()
    first = consumer.consume()
    assert first is not None
    assert first.attempt == 1
    assert harness.queue.consume() is None, "a held message must not be handed out twice"
    harness.abandon(consumer)
    second = take(harness)
    assert (second.body, second.attempt) == ("held", 2)
    with pytest.raises(MessageNotFound):
        consumer.ack(first)
    harness.queue.ack(second)
    assert harness.queue.consume() is None


def test_nack_from_another_instance_releases_a_held_delivery_or_is_message_not_found(harness: QueueHarness) -> None:
    """How a supervisor releases the message of a worker it killed: by the receipt the worker left."""
    harness.queue.publish(STANDARD, ["held"])
    consumer = harness.open()
    first = consumer.consume() if harness.clock is not None else _poll(consumer)
    assert first is not None and first.attempt == 1
    try:
        harness.queue.nack(first, "over budget: 9.9 s")
    except MessageNotFound:
        released = False
        harness.abandon(consumer)  # the consumer's death gives it back (the connection closes)
    else:
        released = True
        harness.wait(harness.retry_base + 0.05)  # the back-off, not the lease
    assert released == (harness.kind == "sqlite")  # SQLite receipts are rows; AMQP deliveries are channels'
    second = take(harness)
    assert (second.body, second.attempt) == ("held", 2)
    with pytest.raises(MessageNotFound):
        consumer.ack(first)
    harness.queue.ack(second)
    assert harness.queue.consume() is None


def test_consumer_dying_on_every_attempt_ends_dead(harness: QueueHarness) -> None:
    """A crash id that kills its worker each time must reach the dead-letter queue, not circle for ever."""
    harness.queue.publish(STANDARD, ["killer"])
    for attempt in range(1, harness.max_attempts + 1):
        consumer = harness.open()
        message = consumer.consume() if harness.clock is not None else _poll(consumer)
        assert message is not None
        assert message.attempt == attempt
        harness.abandon(consumer)
    assert harness.receive(timeout=0.5) is None
    [letter] = harness.queue.dead_letters(STANDARD)
    assert (letter.body, letter.attempts) == ("killer", harness.max_attempts)
    assert letter.reason


def test_killed_consumer_process_message_is_redelivered(harness: QueueHarness, killed_consumer: KillConsumer) -> None:
    harness.queue.publish(STANDARD, ["crash-in-flight"])
    assert killed_consumer(harness) == ("crash-in-flight", 1)
    if harness.clock is not None:
        assert harness.queue.consume() is None, "its lease has not expired yet"
        harness.wait(harness.lease_seconds + 5)
    message = take(harness)
    assert (message.body, message.attempt) == ("crash-in-flight", 2)
    harness.queue.ack(message)


def test_messages_survive_reopening(harness: QueueHarness) -> None:
    fail_until_dead(harness, "dead-one")
    harness.queue.publish(STANDARD, ["one", "two"])
    harness.queue.publish(PRIORITY, ["three"])
    queue = harness.reopen()
    queue.declare()
    assert [take(harness).body for _ in range(3)] == ["three", "one", "two"]
    assert [d.body for d in queue.dead_letters(STANDARD)] == ["dead-one"]


def test_check_fails_before_declare(harness: QueueHarness, tmp_path: Path) -> None:
    harness.queue.check()
    if harness.kind == "sqlite":
        from crashcart.queue.sqlite import SQLiteCrashQueue

        fresh: CrashQueue = SQLiteCrashQueue(tmp_path / "other.sqlite3", 3, 30, 10)
    else:
        from crashcart.queue.amqp import AMQPCrashQueue

        spec = harness.spawn_spec
        fresh = AMQPCrashQueue(spec["url"], 3, 30, 10, prefix=f"{spec['prefix']}undeclared.")
    try:
        with pytest.raises(QueueUnavailable):
            fresh.check()
        with pytest.raises(QueueUnavailable):
            fresh.publish(STANDARD, ["lost?"])
    finally:
        fresh.close()


def test_unreachable_backend_raises_queue_unavailable(harness: QueueHarness, tmp_path: Path) -> None:
    if harness.kind == "sqlite":
        from crashcart.queue.sqlite import SQLiteCrashQueue

        gone: CrashQueue = SQLiteCrashQueue(tmp_path / "no" / "such" / "dir.sqlite3", 3, 30, 10)
    else:
        from crashcart.queue.amqp import AMQPCrashQueue

        gone = AMQPCrashQueue("amqp://guest:guest@127.0.0.1:1/%2F", 3, 30, 10, timeout=1)
    with pytest.raises(QueueUnavailable) as caught:
        gone.publish(STANDARD, ["x"])
    assert caught.value.__cause__ is not None
    with pytest.raises(QueueUnavailable):
        gone.check()
    gone.close()


def _poll(queue: CrashQueue, timeout: float = 5.0) -> Message | None:
    import time

    deadline = time.monotonic() + timeout
    while (message := queue.consume()) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return message


# --- open_queue ----------------------------------------------------------------------------------------


def test_open_queue_sqlite_creates_parent_dirs(tmp_path: Path) -> None:
    from crashcart.queue.sqlite import SQLiteCrashQueue

    target = tmp_path / "a" / "b" / "queue.sqlite3"
    queue = open_queue(load_settings({}, queue_url=f"sqlite://{target}", data_dir=str(tmp_path)))
    try:
        assert isinstance(queue, SQLiteCrashQueue)
        assert target.parent.is_dir()
        queue.declare()
        queue.publish(STANDARD, ["x"])
        assert target.exists()
    finally:
        queue.close()


def test_open_queue_defaults_to_sqlite_in_data_dir(tmp_path: Path) -> None:
    queue = open_queue(load_settings({}, data_dir=str(tmp_path / "data")))
    try:
        queue.declare()
        assert (tmp_path / "data" / "queue.sqlite3").exists()
    finally:
        queue.close()


def test_open_queue_amqp_does_not_connect() -> None:
    from crashcart.queue.amqp import AMQPCrashQueue

    queue = open_queue(load_settings({}, queue_url="amqp://guest:secret@127.0.0.1:1/%2F"))
    assert isinstance(queue, AMQPCrashQueue)
    assert "secret" not in repr(queue)
    queue.close()


@pytest.mark.parametrize("url", ["sqlite://relative/path", "sqlite:///", "sqlite:///x.db?mode=ro"])
def test_open_queue_refuses_bad_sqlite_urls(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        open_queue(load_settings({}, queue_url=url, data_dir=str(tmp_path)))


# --- AMQP only: the broker drops the connection ---------------------------------------------------------


def _drop_connections(prefix: str) -> int:
    """Have the broker close every connection of this prefix, as a broker restart or a cut link would."""
    import subprocess

    listing = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    tag = f'{{"connection_name","crashcart queue {prefix}"}}'
    pids = [line.split("\t", 1)[0] for line in listing.splitlines() if tag in line]
    for pid in pids:
        subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "test"], check=True, timeout=60)
    return len(pids)


@pytest.mark.rabbitmq
@pytest.mark.parametrize("harness", ["amqp"], indirect=True)
def test_amqp_reconnects_after_connection_loss(harness: QueueHarness) -> None:
    queue = harness.queue
    queue.publish(STANDARD, ["held"])
    held = take(harness)
    assert _drop_connections(harness.spawn_spec["prefix"]) == 1
    queue.publish(STANDARD, ["after"])  # the stale connection fails, a new one is made, the publish goes through
    with pytest.raises(MessageNotFound):
        queue.ack(held)
    redelivered = take(harness)
    assert (redelivered.body, redelivered.attempt) == ("held", 2)
    assert take(harness).body == "after"
