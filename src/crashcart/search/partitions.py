"""Weekly partitions of the crash index on PostgreSQL: created on demand by the writer, dropped for retention.

Both index tables (``search_crash`` and its companion ``search_crashdata``) are partitioned alike. A partition
holds one ISO week (Monday 00:00 UTC to the next Monday) and is named ``<table>_pYYYYMMDD`` after its Monday,
so its bounds can be read from its name. The writer creates the partitions of each week it writes and of the
week after (ahead of need, since creation locks the table briefly); creating one is idempotent and serialised by
an advisory lock (two workers meeting a new week at once both succeed). If a default partition already holds
rows of that week (written by hand), PostgreSQL refuses the new partition; the writer then keeps writing that
week into the default partition, which stays correct, only slower to drop.

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
DATA_TABLE = "search_crashdata"
#: The partitioned tables, each with the same weekly partitions.
TABLES = (TABLE, DATA_TABLE)
DEFAULT_PARTITION = "search_crash_default"
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


def partition_name(start: dt.datetime, table: str = TABLE) -> str:
    return f"{table}_p{start:%Y%m%d}"


#: What the runner's "has terms" filter compares (``lower(column) = value``) on the columns filtered most. Without
#: statistics on these expressions PostgreSQL guesses that 0.5% of rows match each (2 rows where 42,000 did, for
#: three filters: bench/results/search-20261207-2243, explain-experiments.txt E1/E5) and picks plans for a handful
#: of rows; with them it knows each value's share and how the filters go together (the newest-first page of
#: bench/results/search-20261208-0013's filters3_facets3 reads the date index backwards, under 1 ms).
STATISTICS_EXPRESSIONS = ("lower(product)", "lower(platform)", "lower(release_channel)", "lower(process_type)")


def statistics_sql(partition: str) -> str:
    """``CREATE STATISTICS`` of ``STATISTICS_EXPRESSIONS`` on one partition of ``search_crash`` (statistics of a
    partitioned table describe the whole table, and the planner estimates each partition's scan from the
    partition's own); ANALYZE, by hand or autovacuum, fills them."""
    expressions = ", ".join(f"({e})" for e in STATISTICS_EXPRESSIONS)
    return f'CREATE STATISTICS IF NOT EXISTS "{partition}_lower" (mcv) ON {expressions} FROM "{partition}"'


def partition_model(schema_editor: Any, model: Any) -> None:
    """Migrations: recreate the new, empty table of ``model`` as partitioned by range on ``date``, with its
    indexes on the parent (so every partition gets them) and a default partition ``<table>_default``.
    PostgreSQL only; SQLite keeps the plain table ``CreateModel`` made."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.delete_model(model)  # also forgets CreateModel's deferred index statements
    sql, params = schema_editor.table_sql(model)
    schema_editor.execute(f"{sql} PARTITION BY RANGE ({schema_editor.quote_name('date')})", params or None)
    for index in model._meta.indexes:
        schema_editor.add_index(model, index)
    table = model._meta.db_table
    schema_editor.execute(
        f"CREATE TABLE {schema_editor.quote_name(table + '_default')} "
        f"PARTITION OF {schema_editor.quote_name(table)} DEFAULT"
    )
    if table == TABLE:
        schema_editor.execute(statistics_sql(DEFAULT_PARTITION))


def _start_of(name: str, table: str = TABLE) -> dt.datetime | None:
    found = re.fullmatch(re.escape(table) + r"_p(\d{8})", name)
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
        """Create the partitions of the week from ``start`` (of every table); False if a lock wait timed out
        (only when not ``required``; then a later write tries again)."""
        from django.db import DatabaseError, transaction

        end = start + dt.timedelta(days=7)
        try:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PARTITION_LOCK_ID])
                for table in TABLES:
                    _create_one(connection, cursor, table, start, end)
        except DatabaseError as exc:
            if getattr(exc.__cause__, "sqlstate", None) == "55P03" and not required:  # lock_not_available
                LOGGER.info("partitions of %s not created ahead of time (a table was busy); retried later", start)
                return False
            raise
        return True


def _create_one(connection: Any, cursor: Any, table: str, start: dt.datetime, end: dt.datetime) -> None:
    """One table's partition of a week, in a savepoint: a default partition holding rows of that week makes
    PostgreSQL refuse it (check_violation), and that week then stays in the default partition."""
    from django.db import DatabaseError, transaction

    name = partition_name(start, table)
    try:
        with transaction.atomic(using=connection.alias):
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {connection.ops.quote_name(name)} PARTITION OF {table} "
                "FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )
            if table == TABLE:
                cursor.execute(statistics_sql(name))
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != "23514":  # check_violation
            raise
        LOGGER.warning(
            "partition %s not created: the default partition holds rows of that week; they stay there (%s)",
            name,
            exc,
        )


def list_partitions(table: str = TABLE, connection: Any = None) -> list[tuple[str, dt.datetime]]:
    """The weekly partitions of ``table`` with their Monday, oldest first (empty on SQLite)."""
    from django.db import connection as default

    conn = connection if connection is not None else default
    if conn.vendor != "postgresql":
        return []
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [table],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = [(name, start) for name in names if (start := _start_of(name, table)) is not None]
    return sorted(found, key=lambda item: item[1])


def drop_partitions_before(cutoff: dt.datetime | dt.date) -> list[str]:
    """Retention: remove every crash of the weeks that end on or before ``cutoff``'s week starts.

    On PostgreSQL the weekly partitions wholly before the week of ``cutoff`` are dropped (both tables'; instant,
    no vacuum), and rows of those weeks that sit in the default partitions are deleted; the names of the dropped
    ``search_crash`` partitions are returned. On SQLite the rows are deleted. Rows of ``cutoff``'s own week stay.
    """
    from django.db import connection, transaction

    boundary = week_start(cutoff)
    dropped: list[str] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for name, start in list_partitions():
            if start + dt.timedelta(days=7) <= boundary:
                for table in TABLES:
                    cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(partition_name(start, table))}")
                dropped.append(name)
        for table in TABLES:  # the default partitions / SQLite
            cursor.execute(f"DELETE FROM {table} WHERE date < %s", [boundary])  # noqa: S608 (a constant name)
    if dropped:
        LOGGER.info("retention dropped %d crash index partitions before %s", len(dropped), boundary.date())
    return dropped
