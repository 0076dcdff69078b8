"""The sweep: publish crashes that were stored but whose publish failed (or whose collector died first).

Every stored crash carries a pending-publish marker (its own, or its commit batch's on the filesystem) until
its id is queued, so the sweep lists only those markers — normally none — instead of every raw crash.
Markers younger than ``min_age`` belong to uploads still in flight and are left alone. Publishing twice is
harmless (processing is idempotent); missing a publish would lose a crash, so the sweep errs towards
publishing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from crashcart.crashid import date_of, is_crash_id
from crashcart.errors import CrashcartError
from crashcart.metrics import Metrics
from crashcart.queue.interfaces import STANDARD, CrashQueue
from crashcart.storage.interfaces import RawCrashWriter, StagedSave

LOGGER = logging.getLogger(__name__)

BATCH = 100


@dataclass
class SweepResult:
    published: int = 0
    failed: int = 0


def sweep_pending(
    storage: RawCrashWriter,
    queue: CrashQueue,
    min_age: float,
    since: dt.date | None = None,
    metrics: Metrics | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> SweepResult:
    """Publish every crash whose pending marker is at least ``min_age`` seconds old (and dated ≥ ``since``)."""
    result = SweepResult()
    batch: dict[str, list[str]] = {}
    # Markers are few (only crashes whose publish failed), so listing them first costs little and lets a
    # progress bar know its length.
    pendings = [
        p
        for p in storage.list_pending(older_than=min_age)
        if is_crash_id(p.crash_id) and not (since and date_of(p.crash_id) < since)
    ]
    if on_total:
        on_total(len(pendings))
    # A batch marker (the filesystem collector writes one per commit batch) goes once every crash it lists is
    # published; a crash-id marker goes with its crash.
    unpublished: dict[str, int] = {}
    for pending in pendings:
        if pending.batch is not None:
            unpublished[pending.batch] = unpublished.get(pending.batch, 0) + 1
    batch_of = {pending.crash_id: pending.batch for pending in pendings if pending.batch is not None}
    for pending in pendings:
        batch.setdefault(pending.queue or STANDARD, []).append(pending.crash_id)
        if sum(map(len, batch.values())) >= BATCH:
            _flush(storage, queue, batch, result, metrics, progress, batch_of, unpublished)
    _flush(storage, queue, batch, result, metrics, progress, batch_of, unpublished)
    if isinstance(storage, StagedSave):
        for marker, left in unpublished.items():
            if left == 0:
                try:
                    storage.clear_pending_batch(marker)
                except CrashcartError as exc:
                    LOGGER.warning("could not clear pending marker %s: %s", marker, exc)
    return result


def republish_stored(
    storage: RawCrashWriter,
    queue: CrashQueue,
    since: dt.date,
    until: dt.date,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """Publish every complete raw crash dated ``since``..``until`` (recovery after a queue lost its contents)."""
    result = SweepResult()
    for day in iter_days(since, until):
        ids: list[str] = []
        for crash_id in storage.list_raw_crash_ids(day):
            ids.append(crash_id)
            if len(ids) >= BATCH:
                _publish_ids(queue, STANDARD, ids, result, progress)
                ids = []
        _publish_ids(queue, STANDARD, ids, result, progress)
    return result


def _publish_ids(
    queue: CrashQueue, name: str, ids: list[str], result: SweepResult, progress: Callable[[int], None] | None
) -> bool:
    if not ids:
        return True
    try:
        queue.publish(name, ids)
    except CrashcartError as exc:
        LOGGER.warning("sweep could not publish %d crash ids: %s", len(ids), exc)
        result.failed += len(ids)
        return False
    result.published += len(ids)
    if progress:
        progress(len(ids))
    return True


def _flush(
    storage: RawCrashWriter,
    queue: CrashQueue,
    batch: dict[str, list[str]],
    result: SweepResult,
    metrics: Metrics | None,
    progress: Callable[[int], None] | None,
    batch_of: dict[str, str],
    unpublished: dict[str, int],
) -> None:
    for name, ids in batch.items():
        if not _publish_ids(queue, name, ids, result, progress):
            continue
        if metrics:
            metrics.incr("crashcart_collector_swept_total", len(ids))
        for crash_id in ids:
            LOGGER.info("swept: published", extra={"crash_id": crash_id})
            marker = batch_of.get(crash_id)
            if marker is not None:
                unpublished[marker] -= 1
                continue
            try:
                storage.clear_pending(crash_id)
            except CrashcartError as exc:
                LOGGER.warning("could not clear pending marker: %s", exc, extra={"crash_id": crash_id})
    batch.clear()


class PeriodicSweeper:
    """Runs ``sweep_pending`` every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(self, sweep: Callable[[], SweepResult], interval: float) -> None:
        self._sweep = sweep
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="crash-sweeper", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.run_once()

    def run_once(self) -> SweepResult | None:
        try:
            result = self._sweep()
        except CrashcartError as exc:
            LOGGER.warning("sweep failed: %s", exc)
            return None
        if result.published or result.failed:
            LOGGER.info("sweep published %d, failed %d", result.published, result.failed)
        return result

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def iter_days(since: dt.date, until: dt.date) -> Iterable[dt.date]:
    day = since
    while day <= until:
        yield day
        day += dt.timedelta(days=1)
