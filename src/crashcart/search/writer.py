"""Writing processed crashes into the crash index (and reading rows back).

``index_row`` is a pure function from a processed crash to column values, bounded to the column sizes:
processed crashes come from hostile input, and an over-long annotation must not make a crash unindexable.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from crashcart import database as db
from crashcart.crashid import date_of
from crashcart.errors import IndexUnavailable

if TYPE_CHECKING:
    from crashcart.settings import Settings

LOGGER = logging.getLogger(__name__)

#: Column ← processed-crash field, with the column's maximum length (None: unbounded text).
_TEXT_COLUMNS: dict[str, tuple[str, int | None]] = {
    "product": ("product", 100),
    "version": ("version", 100),
    "release_channel": ("release_channel", 100),
    "build_id": ("build", 50),
    "platform": ("os_name", 100),
    "os_version": ("os_pretty_version", 200),
    "cpu_arch": ("cpu_arch", 50),
    "process_type": ("process_type", 50),
    "signature": ("signature", None),
    "reason": ("reason", 255),
    "address": ("address", 50),
}
_INT_COLUMNS = {"uptime": "uptime", "install_age": "install_age"}
_MAX_SIGNATURE = 8192


def index_row(crash_id: str, processed: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Column values for ``crash_id``; ``date`` always comes from the id, never from the payload."""
    row: dict[str, Any] = {"date": date_of(crash_id), "processed_at": now}
    for column, (field, limit) in _TEXT_COLUMNS.items():
        value = processed.get(field)
        if column == "os_version" and not value:
            value = processed.get("os_version")
        text = "" if value is None else str(value)
        row[column] = text[: limit or _MAX_SIGNATURE]
    for column, field in _INT_COLUMNS.items():
        value = processed.get(field)
        row[column] = value if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**62 else None
    row["submitted_at"] = _parse_timestamp(processed.get("submitted_timestamp"))
    return row


def _parse_timestamp(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


class CrashIndex:
    """The index for one process; Django is configured on construction (call ``db.migrate`` at start)."""

    def __init__(self, settings: Settings) -> None:
        db.configure(settings)

    def check(self) -> None:
        """Run a trivial query; raise ``IndexUnavailable`` if the database does not answer."""
        from django.db import DatabaseError, connection

        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError as exc:
            self._reset()
            raise IndexUnavailable(f"crash index: {exc}") from exc

    def upsert(self, crash_id: str, processed: Mapping[str, Any], public: Mapping[str, Any]) -> None:
        """Insert or replace the row of ``crash_id`` (reprocessing overwrites), committed on return."""
        from django.db import DatabaseError

        from crashcart.search.models import Crash

        row = index_row(crash_id, processed, dt.datetime.now(dt.UTC))
        row["public"] = dict(public)
        try:
            Crash.objects.update_or_create(crash_id=crash_id, defaults=row)
        except DatabaseError as exc:
            self._reset()
            raise IndexUnavailable(f"{crash_id}: cannot index: {exc}") from exc

    def get(self, crash_id: str) -> dict[str, Any] | None:
        """The row of ``crash_id`` as a dict, or None."""
        from django.db import DatabaseError

        from crashcart.search.models import Crash

        try:
            found = Crash.objects.filter(crash_id=crash_id).values().first()
        except DatabaseError as exc:
            self._reset()
            raise IndexUnavailable(f"{crash_id}: cannot read the index: {exc}") from exc
        return dict(found) if found is not None else None

    def count_with_signature(self, signature: str) -> int:
        """How many indexed crashes have exactly ``signature``."""
        from django.db import DatabaseError

        from crashcart.search.models import Crash

        self._require_tables()
        try:
            count: int = Crash.objects.filter(signature=signature).count()
        except DatabaseError as exc:
            self._reset()
            raise IndexUnavailable(f"cannot count crashes by signature: {exc}") from exc
        return count

    def ids_with_signature(self, signature: str, chunk: int = 500) -> Iterator[str]:
        """Ids of the indexed crashes with exactly ``signature``, in id order, read ``chunk`` rows at a time."""
        from django.db import DatabaseError

        from crashcart.search.models import Crash

        self._require_tables()
        rows = Crash.objects.filter(signature=signature).order_by("crash_id").values_list("crash_id", flat=True)
        try:
            yield from rows.iterator(chunk_size=chunk)
        except DatabaseError as exc:
            self._reset()
            raise IndexUnavailable(f"cannot list crashes by signature: {exc}") from exc

    def _require_tables(self) -> None:
        """Refuse to query an index that was never migrated, with a message saying so (Django would only
        say "no such table"). Reading never migrates: schema changes are the processor's, at its start."""
        from django.db import DatabaseError, connection

        from crashcart.search.models import Crash

        try:
            tables = connection.introspection.table_names()
        except DatabaseError as exc:
            self._reset()
            raise IndexUnavailable(f"crash index: {exc}") from exc
        if Crash._meta.db_table not in tables:
            raise IndexUnavailable(
                "the crash index has no tables yet, so nothing is indexed (the processor creates them at start)"
            )

    def close(self) -> None:
        from django.db import connections

        connections.close_all()

    @staticmethod
    def _reset() -> None:
        """Drop a broken connection so the next call reconnects (the database may have restarted)."""
        from django.db import connection

        try:
            connection.close()
        except Exception:
            LOGGER.debug("closing a broken index connection failed", exc_info=True)
