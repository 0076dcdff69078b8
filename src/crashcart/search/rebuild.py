"""Rebuilding the crash index from the processed crashes in storage (``crashcart index rebuild``).

Storage is listed day by day through the raw-crash date prefixes (so crashes never indexed are found too),
each processed crash is read and indexed in batches through the writer's bulk upsert. A processed crash with
only a few fields (an old or foreign deployment) is indexed with what it has; an id without a processed crash
(never processed) is skipped and counted.

The run is resumable: after each batch a checkpoint row (``search_rebuildcheckpoint``: the range, the day being
rebuilt and the last id indexed on it, ids being listed in sorted order) is written, so a second run over the
same range after an interruption continues after that id; ``restart`` ignores it. A finished run deletes its
checkpoint. Only the catalogue's fields of a processed crash are decoded (``json_dump``, most of the document,
is skipped unparsed), and reading runs ahead of writing in a thread (or in reader processes, for a storage slow
to answer), so it overlaps the database's work.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from crashcart.errors import CrashNotFound, IndexUnavailable, StorageUnavailable
from crashcart.search.fields import Catalogue, catalogue
from crashcart.search.writer import BATCH, CrashIndex, index_row
from crashcart.storage import Role, open_storage
from crashcart.storage.interfaces import CrashReader

if TYPE_CHECKING:
    from crashcart.settings import Settings

LOGGER = logging.getLogger(__name__)

CHECKPOINT = "rebuild"
#: Consecutive unreadable processed crashes after which storage is taken to be down (the run stops; resume).
MAX_CONSECUTIVE_UNREADABLE = 50


@dataclass
class RebuildResult:
    since: dt.date
    until: dt.date
    indexed: int = 0
    skipped: int = 0  # raw crashes without a processed crash
    unreadable: list[str] = field(default_factory=list)  # processed crashes storage could not decode
    resumed_from: tuple[dt.date, str] | None = None
    indexed_before: int = 0  # by the interrupted run this one resumed (included in ``indexed``)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Crashes indexed per second by this run."""
        return (self.indexed - self.indexed_before) / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class _Checkpoint:
    day: dt.date
    last_id: str
    indexed: int
    skipped: int


def days(since: dt.date, until: dt.date) -> list[dt.date]:
    return [since + dt.timedelta(days=n) for n in range((until - since).days + 1)]


def count_stored(storage: CrashReader, since: dt.date, until: dt.date) -> int:
    """How many raw crashes are stored from ``since`` to ``until`` (listing only), for a progress bar."""
    return sum(sum(1 for _ in storage.list_raw_crash_ids(day)) for day in days(since, until))


Rows = tuple[list[dict[str, Any]], list[str], list[str]]
"""Index rows read for a batch of ids: (rows, ids without a processed crash, ids whose processed crash is
unreadable)."""


def read_rows(storage: CrashReader, crash_ids: Sequence[str], fields: Catalogue | None = None) -> Rows:
    """The index rows of the processed crashes of ``crash_ids`` (reading and decoding is most of a rebuild's
    work, so it runs beside the database's: in a thread, or in reader processes)."""
    loaded: list[dict[str, Any]] = []
    missing: list[str] = []
    unreadable: list[str] = []
    consecutive = 0
    fields = fields or catalogue()
    for crash_id in crash_ids:
        try:
            processed = storage.get_processed_crash(crash_id, fields=fields.source_roots)
            loaded.append(index_row(crash_id, processed, fields))
            consecutive = 0
        except CrashNotFound:
            missing.append(crash_id)
        except StorageUnavailable as exc:
            consecutive += 1
            if consecutive >= MAX_CONSECUTIVE_UNREADABLE:
                raise
            LOGGER.warning("%s: processed crash not indexed: %s", crash_id, exc)
            unreadable.append(crash_id)
    return loaded, missing, unreadable


_reader_storage: CrashReader | None = None


def _start_reader(settings: Settings) -> None:
    """Initialiser of a reader process: its own storage client (read-only role)."""
    global _reader_storage  # noqa: PLW0603 - one per reader process, by design of the process pool
    _reader_storage = open_storage(settings, Role.WEBAPP)


def _read_in_reader(crash_ids: Sequence[str]) -> Rows:
    assert _reader_storage is not None, "reader process not initialised"
    return read_rows(_reader_storage, crash_ids)


class Rebuild:
    """One rebuild of ``since``..``until`` (inclusive) from ``storage`` into ``index``.

    With ``readers`` > 0 (and ``settings``, to open storage in them), that many processes read and decode
    processed crashes, each with the built-in catalogue; otherwise one thread of this process does, with the
    index's catalogue. Batches are written in id order either way, so the checkpoint stays exact.
    """

    def __init__(
        self,
        storage: CrashReader,
        index: CrashIndex,
        since: dt.date,
        until: dt.date,
        *,
        batch: int = BATCH,
        progress: Callable[[int], None] = lambda n: None,
        readers: int = 0,
        settings: Settings | None = None,
    ) -> None:
        if until < since:
            raise ValueError(f"--until {until} is before --since {since}")
        if readers and settings is None:
            raise ValueError("reader processes need the settings to open storage")
        self._storage = storage
        self._index = index
        self._since, self._until = since, until
        self._batch = batch
        self._progress = progress
        self._readers = readers
        self._settings = settings

    def run(self, *, restart: bool = False) -> RebuildResult:
        result = RebuildResult(self._since, self._until)
        started = time.perf_counter()
        checkpoint = None if restart else self._load_checkpoint()
        if checkpoint is not None:
            result.resumed_from = (checkpoint.day, checkpoint.last_id)
            result.indexed, result.skipped = checkpoint.indexed, checkpoint.skipped
            result.indexed_before = checkpoint.indexed
        with self._executor() as pool:
            for day in days(self._since, self._until):
                if checkpoint is not None and day < checkpoint.day:
                    self._progress(sum(1 for _ in self._storage.list_raw_crash_ids(day)))  # done before
                    continue
                after = checkpoint.last_id if checkpoint is not None and day == checkpoint.day else ""
                self._rebuild_day(day, after, result, pool)
        self._clear_checkpoint()
        result.seconds = time.perf_counter() - started
        return result

    def _executor(self) -> Executor:
        if self._readers:
            assert self._settings is not None  # checked in __init__
            return ProcessPoolExecutor(
                max_workers=self._readers,
                mp_context=multiprocessing.get_context("spawn"),  # never fork a process holding a DB connection
                initializer=_start_reader,
                initargs=(self._settings,),
            )
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="rebuild-read")

    def _submit(self, pool: Executor, crash_ids: list[str]) -> Future[Rows]:
        if self._readers:
            return pool.submit(_read_in_reader, crash_ids)
        return pool.submit(read_rows, self._storage, crash_ids, self._index.fields)

    def _rebuild_day(self, day: dt.date, after: str, result: RebuildResult, pool: Executor) -> None:
        listed = list(self._storage.list_raw_crash_ids(day))  # sorted: the checkpoint relies on it
        todo = [crash_id for crash_id in listed if crash_id > after] if after else listed
        self._progress(len(listed) - len(todo))  # done by the interrupted run
        batches = _chunks(iter(todo), self._batch)
        window: deque[Future[Rows]] = deque()
        ahead = max(2, 2 * self._readers)  # batches read ahead of the one being written
        for chunk in islice(batches, ahead):
            window.append(self._submit(pool, chunk))
        while window:
            loaded, missing, unreadable = window.popleft().result()
            following = next(batches, None)
            if following is not None:
                window.append(self._submit(pool, following))
            if loaded:
                self._index.write_rows(loaded)
            result.indexed += len(loaded)
            result.skipped += len(missing)
            result.unreadable += unreadable
            last = max([row["uuid"] for row in loaded] + missing + unreadable)
            self._save_checkpoint(day, last, result)
            self._progress(len(loaded) + len(missing) + len(unreadable))

    # --- checkpoint ----------------------------------------------------------------------------------------------

    def _load_checkpoint(self) -> _Checkpoint | None:
        from crashcart.search.models import RebuildCheckpoint

        with _index_errors():
            found = RebuildCheckpoint.objects.filter(name=CHECKPOINT).first()
        if found is None:
            return None
        if (found.since, found.until) != (self._since, self._until):
            LOGGER.info(
                "index rebuild: the checkpoint is for %s..%s, not this range: starting over", found.since, found.until
            )
            return None
        return _Checkpoint(found.day, found.last_id, found.indexed, found.skipped)

    def _save_checkpoint(self, day: dt.date, last_id: str, result: RebuildResult) -> None:
        from crashcart.search.models import RebuildCheckpoint

        with _index_errors():
            RebuildCheckpoint.objects.update_or_create(
                name=CHECKPOINT,
                defaults={
                    "since": self._since,
                    "until": self._until,
                    "day": day,
                    "last_id": last_id,
                    "indexed": result.indexed,
                    "skipped": result.skipped,
                },
            )

    @staticmethod
    def _clear_checkpoint() -> None:
        from crashcart.search.models import RebuildCheckpoint

        with _index_errors():
            RebuildCheckpoint.objects.filter(name=CHECKPOINT).delete()


@contextmanager
def _index_errors() -> Iterator[None]:
    from django.db import DatabaseError

    try:
        yield
    except DatabaseError as exc:
        raise IndexUnavailable(f"index rebuild checkpoint: {exc}") from exc


def _chunks(ids: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(islice(ids, size)):
        yield chunk
