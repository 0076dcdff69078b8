"""The RabbitMQ crash queue (AMQP 0-9-1 through pika's BlockingConnection).

Topology, per Crashcart queue ``q`` (names carry a prefix, ``crashcart.`` by default):

- ``crashcart.q``: a durable *quorum* queue holding the work. Quorum rather than classic because a quorum
  queue counts redeliveries in a header: a message whose consumer died three times says so, where a classic
  queue only says ``redelivered``. That count is what lets a crash that kills its worker reach the
  dead-letter queue instead of circling for ever.
- ``crashcart.q.retry.<ms>ms``: one durable classic queue per back-off delay (``retry_base * 2**(n-1)``
  seconds, for n = 1 .. max_attempts-1), with that TTL and a dead-letter route back to ``crashcart.q``. One
  queue per delay because RabbitMQ expires messages only at a queue's head: with mixed TTLs in one queue, a
  long delay would hold back the short ones behind it. The delay is in the name, so changing
  ``retry_base_seconds`` declares new queues instead of failing on changed arguments; the old ones drain.
- ``crashcart.q.dead``: a durable classic queue of dead letters, each carrying its reason in a header.

Attempts: every message carries ``x-crashcart-attempt``, the number of attempts already *failed by nack*
(0 when published). A delivery's attempt is that header + the broker's count of earlier deliveries of this
copy that were never acked (their consumer died or their channel closed) + 1. That count is
``x-delivery-count`` up to RabbitMQ 3.13 and ``x-acquired-count`` from 4.0 (where ``x-delivery-count`` only
counts explicit rejects, which Crashcart never sends). A classic queue declared by someone else has neither,
so there ``redelivered`` counts as one.

Lease: RabbitMQ has no per-message lease. A message goes back to the queue when its consumer's channel or
connection closes (process death closes the socket at once), when the broker misses the client's heartbeats
(a dead host or a partition), or when a delivery stays unacked longer than the broker's ``consumer_timeout``
(rabbitmq.conf, 30 minutes by default in 3.10; set it to ``lease_seconds * 1000`` to match the SQLite
backend). In 3.x that timeout is checked per channel and covers ``basic.get`` deliveries: the broker closes
the channel and requeues what it held, and the late ack raises ``MessageNotFound``. The heartbeat is set
to ``max(60, lease_seconds)`` unless the URL sets ``heartbeat=``: a BlockingConnection only answers
heartbeats during calls, so a worker busy for a whole lease without touching the queue must not be mistaken
for a dead one.

Publishing uses AMQP transactions instead of publisher confirms: pika's BlockingChannel waits for each
confirm in turn, so a batch of N bodies would cost N round trips, while ``tx.commit`` covers the batch in
one, with the same promise (RabbitMQ hands responsibility over, durably, at commit). Publishes are
``mandatory`` and persistent (delivery_mode 2), so a batch sent to a queue that does not exist raises
``QueueUnavailable`` instead of vanishing.

pika is not thread safe: every thread gets its own connection and channel, and a forked child opens new
ones. A delivery belongs to the channel it came on, so ack/nack must come from the thread that consumed it;
receipts name that connection, so an ack after a reconnect (or from another thread) raises
``MessageNotFound``: the broker requeued the delivery when the old connection died.

``depth().in_flight`` is always 0: AMQP's queue.declare reports only ready messages, and the management
API is not assumed to be enabled.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from crashcart.errors import ConfigError, MessageNotFound, QueueUnavailable
from crashcart.queue.interfaces import QUEUES, DeadLetter, Message, QueueDepth
from crashcart.redact import mask_url, redact

LOGGER = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-crashcart-attempt"
REASON_HEADER = "x-crashcart-reason"
DEAD_AT_HEADER = "x-crashcart-dead-at"
DELIVERY_COUNT_HEADER = "x-delivery-count"  # quorum queues, RabbitMQ 3.8 - 3.13
ACQUIRED_COUNT_HEADER = "x-acquired-count"  # quorum queues, RabbitMQ 4: counts returns on channel close
# A reason travels in a header, and headers must fit one frame; tracebacks are cut.
MAX_REASON_LENGTH = 4000
# Dead letters moved back per transaction by requeue_dead.
REQUEUE_BATCH = 500
_PRECONDITION_FAILED = 406
_NOT_FOUND = 404

T = TypeVar("T")


@dataclass
class _Held:
    queue: str
    body: str
    attempt: int


@dataclass
class _Link:
    """One thread's connection and its transactional channel, with the deliveries it holds."""

    connection: BlockingConnection
    channel: BlockingChannel
    pid: int
    token: str = field(default_factory=lambda: secrets.token_hex(6))
    held: dict[int, _Held] = field(default_factory=dict)
    returned: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.pid == os.getpid() and self.connection.is_open and self.channel.is_open


class AMQPCrashQueue:
    """A ``CrashQueue`` on RabbitMQ (3.8 or newer, for quorum queues); see the module docstring."""

    def __init__(
        self,
        url: str,
        max_attempts: int,
        lease_seconds: float,
        retry_base_seconds: float,
        *,
        prefix: str = "crashcart.",
        timeout: float = 5.0,
    ) -> None:
        if max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1")
        if lease_seconds <= 0 or retry_base_seconds < 0 or timeout <= 0:
            raise ConfigError("lease_seconds and timeout must be positive, retry_base_seconds >= 0")
        try:
            params = pika.URLParameters(url)
        except (ValueError, TypeError) as exc:
            raise ConfigError(redact(f"bad AMQP URL {url!r}: {exc}")) from None
        params.connection_attempts = 1  # the caller decides when to try again
        params.socket_timeout = timeout
        params.stack_timeout = timeout
        params.blocked_connection_timeout = timeout  # a broker under a resource alarm must not hang us
        # Shown by `rabbitmqctl list_connections client_properties` and the management UI.
        params.client_properties = {"connection_name": f"crashcart queue {prefix}"}
        if "heartbeat" not in parse_qs(urlsplit(url).query):
            params.heartbeat = max(60, math.ceil(lease_seconds))
        self._params = params
        self._url = mask_url(url)
        self.prefix = prefix
        self.max_attempts = max_attempts
        self.lease_seconds = lease_seconds
        self.retry_base_seconds = retry_base_seconds
        self._local = threading.local()
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._closed = False

    def __repr__(self) -> str:
        return f"AMQPCrashQueue({self._url!r}, prefix={self.prefix!r})"

    # --- names --------------------------------------------------------------------------------------

    def queue_name(self, queue: str) -> str:
        return f"{self.prefix}{queue}"

    def dead_name(self, queue: str) -> str:
        return f"{self.prefix}{queue}.dead"

    def retry_name(self, queue: str, delay_ms: int) -> str:
        return f"{self.prefix}{queue}.retry.{delay_ms}ms"

    def _delay_ms(self, attempt: int) -> int:
        return round(self.retry_base_seconds * 1000 * (1 << (attempt - 1)))

    def _retry_delays(self) -> list[int]:
        """Distinct non-zero delays (ms) of the attempts that can be retried; a 0 ms delay needs no queue."""
        delays = {self._delay_ms(attempt) for attempt in range(1, self.max_attempts)}
        return sorted(delay for delay in delays if delay > 0)

    def all_queue_names(self) -> list[str]:
        """Every broker queue this configuration uses (for operators and test clean-up)."""
        names = []
        for queue in QUEUES:
            names += [self.queue_name(queue), self.dead_name(queue)]
            names += [self.retry_name(queue, delay) for delay in self._retry_delays()]
        return names

    # --- connections --------------------------------------------------------------------------------

    def _current(self) -> _Link | None:
        link: _Link | None = getattr(self._local, "link", None)
        return link if link is not None and link.usable else None

    def _link(self) -> tuple[_Link, bool]:
        """This thread's link, connecting if needed; the flag says whether it was just made."""
        link = self._current()
        if link is not None:
            return link, False
        old: _Link | None = getattr(self._local, "link", None)
        if old is not None:
            self._drop(old)
        if self._closed:
            raise QueueUnavailable(f"{self!r} is closed")
        try:
            connection = BlockingConnection(self._params)
        except (pika.exceptions.AMQPError, OSError) as exc:
            raise QueueUnavailable(f"cannot connect to {self._url}: {exc!r}") from exc
        try:
            channel = connection.channel()
            channel.tx_select()
        except (pika.exceptions.AMQPError, OSError) as exc:
            _close_quietly(connection)
            raise QueueUnavailable(f"cannot open a channel on {self._url}: {exc!r}") from exc
        link = _Link(connection=connection, channel=channel, pid=os.getpid())
        channel.add_on_return_callback(
            lambda _channel, method, _props, _body: link.returned.append(str(method.routing_key))
        )
        with self._lock:
            self._links.append(link)
        self._local.link = link
        return link, True

    def _drop(self, link: _Link) -> None:
        with self._lock:
            if link in self._links:
                self._links.remove(link)
        if getattr(self._local, "link", None) is link:
            self._local.link = None
        link.held.clear()
        if link.pid == os.getpid():
            _close_quietly(link.connection)

    def _run(self, what: str, op: Callable[[_Link], T], *, retry: bool = False) -> T:
        """Run ``op`` on this thread's link; translate pika's errors, reconnecting once if ``retry``.

        A retry happens only when an old connection failed (the broker restarted, an idle connection was
        cut): a fresh connection that fails is reported at once.
        """
        while True:
            link, fresh = self._link()
            try:
                return op(link)
            except pika.exceptions.ChannelClosedByBroker as exc:
                self._drop(link)
                if exc.reply_code == _NOT_FOUND:
                    raise QueueUnavailable(f"cannot {what}: queue missing, run declare() ({exc!r})") from exc
                raise QueueUnavailable(f"cannot {what}: {exc!r}") from exc
            except pika.exceptions.AMQPConnectionError as exc:
                self._drop(link)
                if retry and not fresh:
                    LOGGER.info("reconnecting to %s after %r", self._url, exc)
                    continue
                raise QueueUnavailable(f"cannot {what}: {exc!r}") from exc
            except (pika.exceptions.AMQPError, OSError) as exc:
                self._drop(link)
                raise QueueUnavailable(f"cannot {what}: {exc!r}") from exc

    def _commit(self, link: _Link) -> None:
        """Commit the channel's transaction and fail if the broker returned any message as unroutable."""
        link.returned.clear()
        link.channel.tx_commit()
        # basic.return frames arrive before tx.commit-ok; this hands them to the return callback.
        link.connection.process_data_events(time_limit=0)
        if link.returned:
            missing = ", ".join(sorted(set(link.returned)))
            raise QueueUnavailable(f"{len(link.returned)} message(s) unroutable: no queue {missing}; run declare()")

    # --- CrashQueue ---------------------------------------------------------------------------------

    def declare(self) -> None:
        """Declare every queue; a queue that exists with other arguments is a ``ConfigError``."""

        def op(link: _Link) -> None:
            with _side_channel(link) as channel:
                for queue in QUEUES:
                    main = self.queue_name(queue)
                    channel.queue_declare(main, durable=True, arguments={"x-queue-type": "quorum"})
                    channel.queue_declare(self.dead_name(queue), durable=True)
                    for delay in self._retry_delays():
                        arguments = {
                            "x-message-ttl": delay,
                            "x-dead-letter-exchange": "",
                            "x-dead-letter-routing-key": main,
                        }
                        channel.queue_declare(self.retry_name(queue, delay), durable=True, arguments=arguments)

        self._run("declare queues", op, retry=True)
        LOGGER.info("queues declared on %s with prefix %r", self._url, self.prefix)

    def check(self) -> None:
        """Connect and prove every main queue exists."""

        def op(link: _Link) -> None:
            with _side_channel(link) as channel:
                for queue in QUEUES:
                    channel.queue_declare(self.queue_name(queue), passive=True)

        self._run("check queues", op, retry=True)

    def publish(self, queue: str, bodies: Sequence[str]) -> None:
        """Publish ``bodies`` persistently in one transaction; returns after the broker's commit-ok."""
        _check_queue(queue)
        if not bodies:
            return
        payloads = [body.encode("utf-8") for body in bodies]
        routing_key = self.queue_name(queue)
        properties = _properties(attempt=0)

        def op(link: _Link) -> None:
            for payload in payloads:
                link.channel.basic_publish("", routing_key, payload, properties, mandatory=True)
            self._commit(link)

        # A retry after a broken connection may publish a batch twice; consumers see crash ids at least once.
        self._run(f"publish to {queue}", op, retry=True)

    def consume(self, queues: Sequence[str] = QUEUES) -> Message | None:
        for queue in queues:
            _check_queue(queue)

        def op(link: _Link) -> Message | None:
            for queue in queues:
                message = self._get(link, queue)
                if message is not None:
                    return message
            return None

        return self._run("consume", op, retry=True)

    def _get(self, link: _Link, queue: str) -> Message | None:
        while True:
            method, properties, payload = link.channel.basic_get(self.queue_name(queue), auto_ack=False)
            if method is None:
                return None
            headers = properties.headers or {}
            failed = int(headers.get(ATTEMPT_HEADER, 0))
            died = int(
                headers.get(ACQUIRED_COUNT_HEADER, headers.get(DELIVERY_COUNT_HEADER, 1 if method.redelivered else 0))
            )
            attempt = failed + died + 1
            body = payload.decode("utf-8", errors="replace")
            if attempt > self.max_attempts:
                reason = f"consumer died or overran its lease on attempt {attempt - 1}"
                self._bury(link, queue, body, attempt - 1, reason)
                self._commit(link)
                link.channel.basic_ack(method.delivery_tag)
                link.channel.tx_commit()
                LOGGER.warning("dead-lettered %r from %s: %s", body, queue, reason)
                continue
            link.held[method.delivery_tag] = _Held(queue=queue, body=body, attempt=attempt)
            return Message(queue=queue, body=body, receipt=f"{link.token}:{method.delivery_tag}", attempt=attempt)

    def _held(self, message: Message) -> tuple[_Link, int, _Held]:
        token, _, tag_text = message.receipt.partition(":")
        link = self._current()
        tag = int(tag_text) if tag_text.isascii() and tag_text.isdigit() else -1
        held = link.held.get(tag) if link is not None and link.token == token else None
        if link is None or held is None:
            raise MessageNotFound(
                f"{message.queue} no longer holds delivery {message.receipt} for this thread "
                "(acked already, or its connection closed and the broker requeued it)"
            )
        return link, tag, held

    def ack(self, message: Message) -> None:
        link, tag, _held = self._held(message)

        def op() -> None:
            link.channel.basic_ack(tag)
            link.channel.tx_commit()
            del link.held[tag]

        self._settle(link, f"ack {message.body!r}", op)

    def nack(self, message: Message, reason: str) -> None:
        """Publish the next attempt (retry queue) or the dead letter, commit it, then ack this delivery.

        Two commits rather than one so the delivery is acked only once its successor is known to be routed;
        a crash between them leaves both, and the crash id is simply processed once more.
        """
        link, tag, held = self._held(message)

        def op() -> None:
            if held.attempt >= self.max_attempts:
                self._bury(link, held.queue, held.body, held.attempt, reason)
            else:
                delay = self._delay_ms(held.attempt)
                target = self.retry_name(held.queue, delay) if delay else self.queue_name(held.queue)
                payload = held.body.encode("utf-8")
                link.channel.basic_publish("", target, payload, _properties(attempt=held.attempt), mandatory=True)
            self._commit(link)
            link.channel.basic_ack(tag)
            link.channel.tx_commit()
            del link.held[tag]

        self._settle(link, f"nack {message.body!r}", op)
        if held.attempt >= self.max_attempts:
            LOGGER.warning(
                "dead-lettered %r from %s after %d attempts: %s", held.body, held.queue, held.attempt, reason
            )

    def _settle(self, link: _Link, what: str, op: Callable[[], None]) -> None:
        """Run an ack or nack on the link holding the delivery.

        Any broker or network error closes that channel, and the broker then requeues every delivery the
        channel held (counting it in ``x-delivery-count``): the delivery is no longer ours, so the error is
        ``MessageNotFound``, as for a lease that expired.
        """
        try:
            op()
        except (pika.exceptions.AMQPError, OSError) as exc:
            self._drop(link)
            raise MessageNotFound(f"cannot {what}: its channel closed and the broker requeues it ({exc!r})") from exc

    def _bury(self, link: _Link, queue: str, body: str, attempts: int, reason: str) -> None:
        """Publish ``body`` to the dead-letter queue (uncommitted: the caller commits with its ack)."""
        now = dt.datetime.now(dt.UTC)
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type="text/plain",
            message_id=uuid.uuid4().hex,
            timestamp=int(now.timestamp()),
            headers={
                ATTEMPT_HEADER: attempts,
                REASON_HEADER: reason[:MAX_REASON_LENGTH],
                DEAD_AT_HEADER: now.isoformat(),
            },
        )
        link.channel.basic_publish("", self.dead_name(queue), body.encode("utf-8"), properties, mandatory=True)

    def depth(self) -> dict[str, QueueDepth]:
        """Ready, delayed and dead counts from passive declares; ``in_flight`` is unknown over AMQP (0)."""

        def op(link: _Link) -> dict[str, QueueDepth]:
            with _side_channel(link) as channel:

                def count(name: str) -> int:
                    return int(channel.queue_declare(name, passive=True).method.message_count)

                return {
                    queue: QueueDepth(
                        ready=count(self.queue_name(queue)),
                        in_flight=0,
                        delayed=sum(count(self.retry_name(queue, delay)) for delay in self._retry_delays()),
                        dead=count(self.dead_name(queue)),
                    )
                    for queue in QUEUES
                }

        return self._run("read queue depth", op, retry=True)

    def dead_letters(self, queue: str, limit: int = 100) -> list[DeadLetter]:
        """Browse dead letters: take up to ``limit`` unacked, then close the channel to put them back."""
        _check_queue(queue)

        def op(link: _Link) -> list[DeadLetter]:
            letters: list[DeadLetter] = []
            with _side_channel(link) as channel:
                while len(letters) < limit:
                    method, properties, payload = channel.basic_get(self.dead_name(queue), auto_ack=False)
                    if method is None:
                        break
                    letters.append(_dead_letter(queue, properties, payload))
            return letters

        return self._run(f"list dead letters of {queue}", op, retry=True)

    def requeue_dead(self, queue: str, bodies: Sequence[str] | None = None) -> int:
        """Move dead letters back to ``queue`` with their attempt count reset.

        Each batch publishes the messages and acks their dead copies in one transaction; letters that do not
        match ``bodies`` stay unacked until the channel closes, which returns them to the dead-letter queue.
        """
        _check_queue(queue)
        wanted = None if bodies is None else set(bodies)

        def op(link: _Link) -> int:
            returned: list[str] = []
            moved = 0
            with _side_channel(link) as channel:
                channel.add_on_return_callback(lambda _c, method, _p, _b: returned.append(method.routing_key))
                channel.tx_select()
                channel.queue_declare(self.queue_name(queue), passive=True)
                while True:
                    method, _unused, payload = channel.basic_get(self.dead_name(queue), auto_ack=False)
                    if method is None:
                        break
                    if wanted is not None and payload.decode("utf-8", errors="replace") not in wanted:
                        continue
                    channel.basic_publish("", self.queue_name(queue), payload, _properties(attempt=0), mandatory=True)
                    channel.basic_ack(method.delivery_tag)
                    moved += 1
                    if moved % REQUEUE_BATCH == 0:
                        channel.tx_commit()
                channel.tx_commit()
                link.connection.process_data_events(time_limit=0)
                if returned:
                    raise QueueUnavailable(f"{len(returned)} requeued message(s) were unroutable")
            return moved

        moved = self._run(f"requeue dead letters of {queue}", op)
        if moved:
            LOGGER.info("requeued %d dead letter(s) on %s", moved, queue)
        return moved

    def delete_queues(self) -> None:
        """Delete every queue of this prefix and configuration, messages and all (tests, uninstall)."""

        def op(link: _Link) -> None:
            with _side_channel(link) as channel:
                for name in self.all_queue_names():
                    channel.queue_delete(name)

        self._run("delete queues", op, retry=True)

    def close(self) -> None:
        """Close every connection this object opened in this process; deliveries not acked are requeued.

        Call it at shutdown, when no other thread is using the queue (pika connections are not thread safe).
        """
        self._closed = True
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.held.clear()
            if link.pid == os.getpid():
                _close_quietly(link.connection)
        self._local = threading.local()


@contextmanager
def _side_channel(link: _Link) -> Iterator[BlockingChannel]:
    """A short-lived channel next to the link's main one, for declares, browsing and counting.

    A broker error on it (a missing queue, a queue declared with other arguments) closes only this channel,
    so the deliveries held on the main channel survive; it is translated here for that reason.
    """
    channel = link.connection.channel()
    try:
        yield channel
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == _NOT_FOUND:
            raise QueueUnavailable(f"queue missing, run declare(): {exc.reply_text}") from exc
        if exc.reply_code == _PRECONDITION_FAILED:
            raise ConfigError(f"a queue exists with other settings: {exc.reply_text}") from exc
        raise QueueUnavailable(f"broker refused: {exc.reply_text}") from exc
    finally:
        _close_channel_quietly(channel)


def _properties(attempt: int) -> pika.BasicProperties:
    return pika.BasicProperties(
        delivery_mode=pika.DeliveryMode.Persistent,
        content_type="text/plain",
        headers={ATTEMPT_HEADER: attempt},
    )


def _dead_letter(queue: str, properties: Any, payload: bytes) -> DeadLetter:
    headers = properties.headers or {}
    dead_at_text = headers.get(DEAD_AT_HEADER)
    try:
        dead_at = dt.datetime.fromisoformat(str(dead_at_text))
    except ValueError:
        dead_at = dt.datetime.fromtimestamp(properties.timestamp or 0, dt.UTC)
    return DeadLetter(
        queue=queue,
        body=payload.decode("utf-8", errors="replace"),
        attempts=int(headers.get(ATTEMPT_HEADER, 0)),
        reason=_text(headers.get(REASON_HEADER, "")),
        dead_at=dead_at,
        receipt=str(properties.message_id or ""),
    )


def _text(value: object) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _check_queue(queue: str) -> None:
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; queues are {', '.join(QUEUES)}")


def _close_channel_quietly(channel: BlockingChannel) -> None:
    if channel.is_open:
        try:
            channel.close()
        except (pika.exceptions.AMQPError, OSError) as exc:
            LOGGER.debug("ignoring error while closing a channel: %r", exc)


def _close_quietly(connection: BlockingConnection) -> None:
    if connection.is_open:
        try:
            connection.close()
        except (pika.exceptions.AMQPError, OSError) as exc:
            LOGGER.debug("ignoring error while closing a connection: %r", exc)
