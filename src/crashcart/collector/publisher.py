"""Group commit for publishes: the crash ids of concurrent requests go to the queue in one call.

A durable publish costs one commit (an fsync for SQLite, a transaction for RabbitMQ) whatever the number of
ids in it, and commits from one process do not overlap. Publishing each request's id on its own would cap the
collector at the commit rate; here ids that arrive while a publish is under way wait for the next one, so
the batch size follows the load and an idle collector still publishes each id at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable

from crashcart.errors import CrashcartError, QueueUnavailable
from crashcart.queue.interfaces import CrashQueue

LOGGER = logging.getLogger(__name__)


class BatchPublisher:
    """Publishes crash ids for one event loop, batching the ids that arrive during a publish."""

    def __init__(
        self,
        queue: CrashQueue,
        executor: concurrent.futures.Executor,
        on_published: Callable[[str], None] | None = None,
        max_batch: int = 500,
    ) -> None:
        self._queue = queue
        self._on_published = on_published
        self._executor = executor
        self._max_batch = max_batch
        self._pending: dict[str, list[tuple[str, asyncio.Future[None]]]] = {}
        self._flushing = False
        # The running flush task; held so it cannot be garbage-collected mid-flight.
        self._task: asyncio.Task[None] | None = None

    async def publish(self, queue: str, crash_id: str) -> None:
        """Return once ``crash_id`` is durably on ``queue``; raise ``QueueUnavailable`` if it could not be."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.setdefault(queue, []).append((crash_id, future))
        if not self._flushing:
            self._flushing = True
            self._task = loop.create_task(self._flush())
        await future

    def _publish_batch(self, name: str, ids: list[str]) -> None:
        """In a worker thread: publish, then run the follow-up (clearing pending markers) for each id."""
        self._queue.publish(name, ids)
        if self._on_published is None:
            return
        for crash_id in ids:
            try:
                self._on_published(crash_id)
            except CrashcartError as exc:
                LOGGER.warning("after publishing: %s", exc, extra={"crash_id": crash_id})

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                name = next(iter(self._pending))
                items = self._pending[name][: self._max_batch]
                rest = self._pending[name][self._max_batch :]
                if rest:
                    self._pending[name] = rest
                else:
                    del self._pending[name]
                ids = [crash_id for crash_id, _ in items]
                try:
                    await loop.run_in_executor(self._executor, self._publish_batch, name, ids)
                except Exception as exc:
                    if not isinstance(exc, CrashcartError):
                        LOGGER.exception("unexpected error publishing %d crash ids", len(ids))
                    for _, future in items:
                        if not future.done():
                            error = QueueUnavailable(f"publish failed: {exc}")
                            error.__cause__ = exc
                            future.set_exception(error)
                else:
                    for _, future in items:
                        if not future.done():
                            future.set_result(None)
        finally:
            self._flushing = False
