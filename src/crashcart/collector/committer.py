"""Durable saves without a thread hop per request: files are written on the event loop, one thread syncs.

With a backend that can stage (``StagedSave``: the filesystem), a request writes its crash's files right on
the event loop (page-cache writes: CPU the request costs anyway; the raw crash under a temp name) and waits
on an asyncio future. One committer thread per process runs the durability barrier for everybody, in
overlapping cycles: sync (the files staged so far are durable, and so are the raw crashes renamed in the
last cycle) → answer the crashes of the last cycle → rename the raw crashes of the new batch → loop. Each
sync serves two batches, so a crash costs one sync per cycle instead of two or three, and a cycle starts as
soon as the previous one ends: batches grow with load, nobody waits on a timer.

Pending-publish markers are per batch: before a batch's first sync the committer writes one marker listing
its crash ids (``mark_pending_batch``), made durable by that sync before any of them is revealed. A crash saved
with ``publish=False`` (a deferred crash a deployment stores only) is in no marker and is never published.

The request is answered once its crash is durable. Publishing its id is a separate thread's job (one
``publish`` call for everything saved meanwhile, then each batch marker whose crashes are all queued is
removed): the queue's commit is off the request's path, and a crash whose publish fails, or whose process
dies first, keeps its marker for the sweep. The thread handoffs are one ``call_soon_threadsafe`` per cycle,
not one per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from crashcart.errors import CrashcartError, StorageUnavailable
from crashcart.metrics import Metrics
from crashcart.queue.interfaces import STANDARD, CrashQueue
from crashcart.storage.interfaces import DumpFile, RawCrashWriter, StagedSave

LOGGER = logging.getLogger(__name__)


@dataclass
class _Marker:
    """A batch's pending marker and how many of its crashes are not yet queued (or failed to save)."""

    name: str
    remaining: int


@dataclass
class _Entry:
    crash_id: str
    staged: Any
    future: asyncio.Future[None]
    publish: bool = True
    revealed: bool = False
    marker: _Marker | None = None


class Committer:
    """Owns the committer and publisher threads of one event loop."""

    def __init__(
        self,
        storage: RawCrashWriter,
        queue: CrashQueue,
        metrics: Metrics | None = None,
        max_batch: int = 256,
        max_publish: int = 1000,
    ) -> None:
        if not isinstance(storage, StagedSave):
            raise TypeError(f"{storage!r} cannot stage saves")
        self._staging: StagedSave = storage
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._pending: list[_Entry] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._publisher = _Publisher(self._staging, queue, metrics, max_publish)

    async def save(
        self, crash_id: str, raw_crash: dict[str, Any], dumps: list[DumpFile], *, publish: bool = True
    ) -> None:
        """Return once the crash is durable (raise ``StorageUnavailable`` if it cannot be); its id is queued next,
        unless ``publish`` is False: then it is only stored, with no pending marker for the sweep to find."""
        loop = asyncio.get_running_loop()
        if self._thread is None:
            self._loop = loop
            self._thread = threading.Thread(target=self._run, name="collector-committer", daemon=True)
            self._thread.start()
            self._publisher.start()
        # No marker per crash: the committer writes one for the whole batch before the batch's first sync.
        staged = self._staging.stage_raw_crash(crash_id, raw_crash, dumps)
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._pending.append(_Entry(crash_id, staged, future, publish))
        self._wakeup.set()
        await future

    def _run(self) -> None:
        in_flight: list[_Entry] = []  # raw crash renamed or still to rename: the next sync concerns them
        while True:
            if not in_flight:
                self._wakeup.wait()
            with self._lock:
                self._wakeup.clear()
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
                if self._pending:
                    self._wakeup.set()
                stopping = self._stopping
            if batch:
                batch = self._mark(batch)
            if batch or in_flight:
                in_flight = self._cycle(in_flight, batch)
            elif stopping:
                return

    def _mark(self, batch: list[_Entry]) -> list[_Entry]:
        """Write the batch's pending marker (made durable by the coming sync); without one, refuse the batch.

        Only the crashes to publish are listed; a batch of store-only crashes needs no marker at all.
        """
        to_publish = [entry for entry in batch if entry.publish]
        if not to_publish:
            return batch
        try:
            name = self._staging.mark_pending_batch([entry.crash_id for entry in to_publish], STANDARD)
        except StorageUnavailable as exc:
            LOGGER.error("could not write the pending marker of %d crashes: %s", len(batch), exc)
            for entry in batch:
                self._staging.discard_staged(entry.staged)
            self._resolve([(entry, exc) for entry in batch])
            return []
        marker = _Marker(name, len(to_publish))
        for entry in to_publish:
            entry.marker = marker
        return batch

    def _cycle(self, in_flight: list[_Entry], batch: list[_Entry]) -> list[_Entry]:
        """One sync, then the crashes it made durable are answered and the others move one step on."""
        outcomes: list[tuple[_Entry, StorageUnavailable | None]] = []
        try:
            self._staging.sync_staged()
        except Exception as exc:  # every crash of both batches gets a 503; nothing of theirs is kept
            LOGGER.exception("syncing %d staged crashes failed", len(in_flight) + len(batch))
            error = exc if isinstance(exc, StorageUnavailable) else StorageUnavailable(f"sync failed: {exc}")
            for entry in (*in_flight, *batch):
                self._staging.discard_staged(entry.staged)
                outcomes.append((entry, error))
            self._resolve(outcomes)
            self._publisher.add([], [entry.marker for entry in (*in_flight, *batch)])
            return []
        still: list[_Entry] = []
        saved: list[_Entry] = []
        failed: list[_Entry] = []
        for entry in in_flight:
            if entry.revealed:
                outcomes.append((entry, None))
                if entry.publish:
                    saved.append(entry)
            else:
                still.append(entry)
        moving, still = [*still, *batch], []
        for entry in moving:
            try:
                entry.revealed = self._staging.advance_staged(entry.staged)
            except StorageUnavailable as exc:
                self._staging.discard_staged(entry.staged)
                outcomes.append((entry, exc))
                failed.append(entry)
            else:
                still.append(entry)
        if outcomes:
            self._resolve(outcomes)
        if saved or failed:
            self._publisher.add([(entry.crash_id, entry.marker) for entry in saved], [e.marker for e in failed])
        return still

    def _resolve(self, outcomes: list[tuple[_Entry, StorageUnavailable | None]]) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self._loop.call_soon_threadsafe(_resolve, outcomes)

    def close(self) -> None:
        """Finish the crashes in flight, then publish what is saved (what cannot be waits for the sweep)."""
        with self._lock:
            self._stopping = True
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._publisher.close()


def _resolve(outcomes: list[tuple[_Entry, StorageUnavailable | None]]) -> None:
    for entry, error in outcomes:
        if entry.future.done():
            continue
        if error is not None:
            entry.future.set_exception(StorageUnavailable(str(error)))
        else:
            entry.future.set_result(None)


class _Publisher:
    """Publishes saved crash ids in batches, then removes each batch marker once all its crashes are queued.

    Ids whose publish fails are dropped here (their marker stays, so the sweep publishes them): nothing piles
    up in memory while the queue is down.
    """

    def __init__(self, storage: StagedSave, queue: CrashQueue, metrics: Metrics | None, max_batch: int) -> None:
        self._storage = storage
        self._queue = queue
        self._metrics = metrics
        self._max_batch = max_batch
        self._saved: deque[tuple[str, _Marker | None]] = deque()
        self._unsaved: deque[_Marker | None] = deque()  # markers of crashes that failed: nothing to publish
        self._wakeup = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="collector-publisher", daemon=True)
            self._thread.start()

    def add(self, saved: list[tuple[str, _Marker | None]], unsaved: list[_Marker | None]) -> None:
        self._saved.extend(saved)
        self._unsaved.extend(unsaved)
        self._wakeup.set()

    def _run(self) -> None:
        while True:
            self._wakeup.wait()
            self._wakeup.clear()
            while self._unsaved:
                self._settle(self._unsaved.popleft())
            while self._saved:
                items = [self._saved.popleft() for _ in range(min(self._max_batch, len(self._saved)))]
                self._publish(items)
            if self._stopping:
                return

    def _publish(self, items: list[tuple[str, _Marker | None]]) -> None:
        ids = [crash_id for crash_id, _ in items]
        start = time.perf_counter()
        try:
            self._queue.publish(STANDARD, ids)
        except CrashcartError as exc:
            LOGGER.warning("stored %d crashes but could not publish them (the sweep will): %s", len(ids), exc)
            if self._metrics is not None:
                self._metrics.incr("crashcart_collector_publish_failures_total", len(ids))
            return
        except Exception:
            LOGGER.exception("unexpected error publishing %d crash ids (the sweep will publish them)", len(ids))
            return
        if self._metrics is not None:
            self._metrics.observe("crashcart_collector_publish_seconds", time.perf_counter() - start)
        for _, marker in items:
            self._settle(marker)

    def _settle(self, marker: _Marker | None) -> None:
        """One crash of the marker's batch needs no publish any more; the last one removes the marker."""
        if marker is None:
            return
        marker.remaining -= 1
        if marker.remaining == 0:
            try:
                self._storage.clear_pending_batch(marker.name)
            except CrashcartError as exc:
                LOGGER.warning("could not clear pending marker %s: %s", marker.name, exc)

    def close(self) -> None:
        self._stopping = True
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
