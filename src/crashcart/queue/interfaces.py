"""The crash-queue protocol every backend (``sqlite``, ``amqp``) implements.

Messages are crash ids, optionally ``<crash id>:<ruleset>``. A consumer acks a message only after its work is
saved; a message whose consumer dies or whose lease expires is redelivered; a failed attempt is retried
with back-off and, after ``max_attempts`` attempts, moved to the queue's dead-letter queue with the reason.
Backends raise only ``crashcart.errors`` exceptions (``QueueUnavailable``, ``MessageNotFound``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

STANDARD = "standard"
PRIORITY = "priority"
REPROCESSING = "reprocessing"
# The order workers take from: someone is waiting for priority crashes; reprocessing is background work.
QUEUES: tuple[str, ...] = (PRIORITY, STANDARD, REPROCESSING)


@dataclass(frozen=True)
class Message:
    """A delivered message. ``receipt`` identifies this delivery for ack/nack; ``attempt`` counts from 1."""

    queue: str
    body: str
    receipt: str
    attempt: int


@dataclass(frozen=True)
class QueueDepth:
    """How many messages a queue holds: ready to deliver, delivered but unacked, waiting to retry, dead."""

    ready: int
    in_flight: int
    delayed: int
    dead: int


@dataclass(frozen=True)
class DeadLetter:
    """A message that failed ``max_attempts`` times, with the reason given by its last failure."""

    queue: str
    body: str
    attempts: int
    reason: str
    dead_at: dt.datetime
    receipt: str


@runtime_checkable
class CrashQueue(Protocol):
    def declare(self) -> None:
        """Create queues (and dead-letter queues) if missing. Idempotent; called at every start."""

    def check(self) -> None:
        """Prove the queue is reachable; raise ``QueueUnavailable`` if not."""

    def publish(self, queue: str, bodies: Sequence[str]) -> None:
        """Durably enqueue ``bodies`` on ``queue``; returns only when the broker/database has them."""

    def consume(self, queues: Sequence[str] = QUEUES) -> Message | None:
        """Take one ready message, trying ``queues`` in order; None when all are empty. Non-blocking."""

    def ack(self, message: Message) -> None:
        """The message's work is saved: forget it."""

    def nack(self, message: Message, reason: str) -> None:
        """The attempt failed: retry after back-off, or dead-letter with ``reason`` after the last attempt.

        Another instance (another process: the supervisor of a worker that died holding the message) may nack
        a delivery by its receipt while the backend still holds it for its consumer, which releases it at
        once rather than at lease expiry. A backend that ties deliveries to the consumer's connection raises
        ``MessageNotFound`` instead, and puts the delivery back when that connection closes.
        """

    def depth(self) -> dict[str, QueueDepth]:
        """Depth of every queue, keyed by queue name."""

    def dead_letters(self, queue: str, limit: int = 100) -> list[DeadLetter]: ...

    def requeue_dead(self, queue: str, bodies: Sequence[str] | None = None) -> int:
        """Move dead letters (all, or those with these bodies) back to ``queue``; returns how many."""

    def close(self) -> None: ...
