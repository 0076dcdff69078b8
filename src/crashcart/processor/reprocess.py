"""Choosing crashes to reprocess and publishing them to the reprocessing queue.

Reprocessing is background work (its own queue, taken after priority and standard), so a million-crash
reprocessing never delays fresh crashes. Selection reads only: ids given, ids of a signature from the crash
index, or ids stored since a date (listing storage, so crashes never indexed are found too). A selection is
counted before anything is published, so the operator sees how many crashes a command will queue and a
progress bar can say how far it has gone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from crashcart.crashid import is_crash_id
from crashcart.errors import CrashcartError
from crashcart.queue.interfaces import REPROCESSING, CrashQueue
from crashcart.storage.interfaces import CrashReader

if TYPE_CHECKING:
    from crashcart.search.writer import CrashIndex

BATCH = 500
"""Ids per publish: one round trip (or one SQLite transaction) per batch."""


class NotACrashId(CrashcartError):
    """A value given as a crash id is not one (a usage error: the command line is wrong)."""

    code = "not_a_crash_id"


@dataclass(frozen=True)
class Selection:
    """Crashes chosen for reprocessing: how many there are (counted first) and their ids (read lazily)."""

    count: int
    crash_ids: Iterable[str]


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


def stored_from(storage: CrashReader, first: dt.date, last: dt.date) -> Selection:
    """Every raw crash stored from ``first`` to ``last``: storage is listed once to count, again to publish."""
    return Selection(sum(1 for _ in stored_since(storage, first, last)), stored_since(storage, first, last))


def with_signature(index: CrashIndex, signature: str) -> Selection:
    """Every indexed crash whose signature is exactly ``signature``."""
    return Selection(index.count_with_signature(signature), index.ids_with_signature(signature, BATCH))


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
