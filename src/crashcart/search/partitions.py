"""Weekly partitions of ``search_crash`` on PostgreSQL: created on demand by the writer, dropped for retention.

A partition holds one ISO week (Monday 00:00 UTC to the next Monday) and is named ``search_crash_pYYYYMMDD``
after its Monday, so its bounds can be read from its name. The writer creates the partition of each week it
writes and of the week after (ahead of need, since creation locks the table briefly); creating one is idempotent
and serialised by an advisory lock (two workers meeting a new week at once both succeed). If the default
partition already holds rows of that week (written by hand), PostgreSQL refuses the new partition; the writer
then keeps writing that week into the default partition, which stays correct, only slower to drop.

On SQLite there are no partitions: ``drop_partitions_before`` deletes the same rows instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from typing import Any

LOGGER = logging.getLogger(__name__)

TABLE = "search_crash"
DEFAULT_PARTITION = "search_crash_default"
_NAME_RE = re.compile(r"search_crash_p(\d{8})")
#: Arbitrary constant naming partition creation among PostgreSQL advisory locks.
_PARTITION_LOCK_ID = 0x50415254  # "PART"
#: How long creating a partition waits for the table's lock (long searches hold it) before giving up.
LOCK_TIMEOUT_MS = 2_000


def week_start(moment: dt.datetime | dt.date) -> dt.datetime:
    """Monday 00:00 UTC of the ISO week holding ``moment`` (a date counts as its UTC midnight)."""
    if isinstance(moment, dt.datetime):
        day = moment.astimezone(dt.UTC).date() if moment.tzinfo else moment.date()
    else:
        day = moment
    monday = day - dt.timedelta(days=day.weekday())
    return dt.datetime.combine(monday, dt.time(), dt.UTC)


def partition_name(start: dt.datetime) -> str:
    return f"{TABLE}_p{start:%Y%m%d}"


def _start_of(name: str) -> dt.datetime | None:
    found = _NAME_RE.fullmatch(name)
    if found is None:
        return None
    return dt.datetime.strptime(found.group(1), "%Y%m%d").replace(tzinfo=dt.UTC)


class Partitions:
    """The weekly partitions this process knows exist (PostgreSQL only; a no-op elsewhere)."""

    def __init__(self) -> None:
        self._known: set[dt.datetime] = set()
        self._lock = threading.Lock()

    def ensure(self, connection: Any, moments: list[dt.datetime]) -> None:
        """Create the partitions holding ``moments`` that this process has not seen yet, and the week after
        each: creating a partition briefly locks the whole table, so it is done a week before it is needed, when
        a wait is harmless. A partition needed now that cannot be created raises (the caller retries the crash
        later) rather than let its rows fall into the default partition."""
        if connection.vendor != "postgresql":
            return
        needed = {week_start(m) for m in moments}
        ahead = {start + dt.timedelta(days=7) for start in needed} - needed
        for start in sorted((needed | ahead) - self._known):
            if self._create(connection, start, required=start in needed):
                with self._lock:
                    self._known.add(start)

    def forget(self) -> None:
        """Forget what was created (after retention dropped partitions, or a test recreated the database)."""
        with self._lock:
            self._known.clear()

    @staticmethod
    def _create(connection: Any, start: dt.datetime, *, required: bool) -> bool:
        """Create the partition of the week from ``start``; False if a lock wait timed out (only when not
        ``required``; then a later write tries again)."""
        from django.db import DatabaseError, transaction

        end = start + dt.timedelta(days=7)
        name = connection.ops.quote_name(partition_name(start))
        try:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PARTITION_LOCK_ID])
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s)",
                    [start, end],
                )
        except DatabaseError as exc:
            state = getattr(exc.__cause__, "sqlstate", None)
            if state == "55P03" and not required:  # lock_not_available: searches held the table
                LOGGER.info("partition %s not created ahead of time (the table was busy); retried later", name)
                return False
            if state != "23514":  # check_violation
                raise
            LOGGER.warning(
                "partition %s not created: the default partition holds rows of that week; they stay there (%s)",
                name,
                exc,
            )
        return True


def list_partitions() -> list[tuple[str, dt.datetime]]:
    """The weekly partitions of ``search_crash`` with their Monday, oldest first (empty on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = [(name, start) for name in names if (start := _start_of(name)) is not None]
    return sorted(found, key=lambda item: item[1])


def drop_partitions_before(cutoff: dt.datetime | dt.date) -> list[str]:
    """Retention: remove every crash of the weeks that end on or before ``cutoff``'s week starts.

    On PostgreSQL the weekly partitions wholly before the week of ``cutoff`` are dropped (instant, no
    vacuum), and rows of those weeks that sit in the default partition are deleted; the names of the dropped
    partitions are returned. On SQLite the rows are deleted. Rows of ``cutoff``'s own week stay.
    """
    from django.db import connection, transaction

    boundary = week_start(cutoff)
    dropped: list[str] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for name, start in list_partitions():
            if start + dt.timedelta(days=7) <= boundary:
                cursor.execute(f"DROP TABLE {connection.ops.quote_name(name)}")
                dropped.append(name)
        cursor.execute("DELETE FROM search_crash WHERE date < %s", [boundary])  # default partition / SQLite
    if dropped:
        LOGGER.info("retention dropped %d crash index partitions before %s", len(dropped), boundary.date())
    return dropped
