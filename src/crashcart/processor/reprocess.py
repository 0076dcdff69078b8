"""Choosing crashes to reprocess and publishing them to the reprocessing queue.

Reprocessing is background work (its own queue, taken after priority and standard), so a million-crash
reprocessing never delays fresh crashes. Selection reads only: ids given, ids of a signature from the crash
index, or ids stored since a date (listing storage, so crashes never indexed are found too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from crashcart.crashid import is_crash_id
from crashcart.errors import CrashcartError
from crashcart.queue.interfaces import REPROCESSING, CrashQueue
from crashcart.storage.interfaces import CrashReader

BATCH = 500
"""Ids per publish: one round trip (or one SQLite transaction) per batch."""


class NotACrashId(CrashcartError):
    code = "not_a_crash_id"


def given_ids(values: Iterable[str]) -> list[str]:
    """Crash ids as typed by a person: ``bp-`` prefixes and whitespace tolerated, anything else refused."""
    ids = []
    for value in values:
        crash_id = value.strip().removeprefix("bp-")
        if not is_crash_id(crash_id):
            raise NotACrashId(f"not a crash id: {value!r}")
        ids.append(crash_id)
    return ids


def stored_since(storage: CrashReader, since: dt.date, until: dt.date) -> Iterator[str]:
    """Ids of every raw crash stored from ``since`` to ``until`` (inclusive), day by day."""
    day = since
    while day <= until:
        yield from storage.list_raw_crash_ids(day)
        day += dt.timedelta(days=1)


def with_signature(signature: str, limit: int | None = None) -> Iterator[str]:
    """Ids of indexed crashes whose signature is exactly ``signature`` (needs ``index.db.configure``)."""
    from crashcart.index.models import Crash  # noqa: PLC0415  (Django must be set up first)

    rows = Crash.objects.filter(signature=signature).order_by("crash_id").values_list("crash_id", flat=True)
    yield from (rows[:limit] if limit is not None else rows.iterator(chunk_size=BATCH))


def publish(
    queue: CrashQueue,
    crash_ids: Iterable[str],
    ruleset: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Publish ``<id>`` (or ``<id>:<ruleset>``) for each id to the reprocessing queue; returns the count."""
    suffix = f":{ruleset}" if ruleset else ""
    total = 0
    iterator = iter(crash_ids)
    while batch := list(islice(iterator, BATCH)):
        queue.publish(REPROCESSING, [f"{crash_id}{suffix}" for crash_id in batch])
        total += len(batch)
        if progress is not None:
            progress(len(batch))
    return total
