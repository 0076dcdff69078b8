"""Writing processed crashes into the crash index (and reading rows back).

``index_row`` is a pure function from a processed crash to the row of ``search.models.Crash``: every field of
the Super Search catalogue, read from its source key and normalised to its type. Processed crashes come from
hostile input (and from older or foreign deployments), so an odd value is dropped, never a failure: text is
bounded (Socorro's limits: 10,000 characters for a keyword, 32,766 UTF-8 bytes for a text field; typed text
columns carry b-tree indexes, so at most 2,000 bytes), integers must fit a bigint, floats must be finite,
booleans come from ``true``/``1``/``"1"``/``"true"`` (and their false forms), list fields hold strings.

``CrashIndex`` writes a row with one ``INSERT … ON CONFLICT (uuid, date) DO UPDATE`` statement into each index
table (typed columns into ``search_crash``, ``data`` into ``search_crashdata``), on SQLite and PostgreSQL alike
(reprocessing replaces the row), run with ``executemany`` over a batch in one transaction;
it keeps ``search_signature``'s first date and build current, and creates PostgreSQL's weekly partitions on
demand.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crashcart import database as db
from crashcart.crashid import date_of
from crashcart.errors import IndexUnavailable
from crashcart.search.fields import COLUMNS, SEMICOLON_LISTS, Catalogue, SearchField, catalogue
from crashcart.search.partitions import DATA_TABLE, TABLE, TABLES, Partitions

if TYPE_CHECKING:
    from crashcart.settings import Settings

LOGGER = logging.getLogger(__name__)

KEYWORD_MAX_CHARS = 10_000
TEXT_MAX_BYTES = 32_766
#: Typed text columns are b-tree indexed; PostgreSQL refuses index entries over ~2,700 bytes.
COLUMN_MAX_BYTES = 2_000
LIST_MAX_ITEMS = 1_000
BIGINT = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)
#: A ``date_processed`` further than this from the crash id's date is not believed (a hostile or broken
#: value would otherwise create partitions for arbitrary weeks); the id's date is used instead.
MAX_DATE_SKEW = dt.timedelta(days=2)
#: Rows per transaction in ``upsert_many`` and ``index rebuild``.
BATCH = 500

#: Fields of an index row (``index_row``) in statement order: ``search_crash``'s columns, then ``data`` (which
#: is written to ``search_crashdata``).
COLUMN_ORDER: tuple[str, ...] = (*COLUMNS, "data")

_TRUE = frozenset({"1", "true", "True", "TRUE"})
_FALSE = frozenset({"0", "false", "False", "FALSE"})


# --- normalising values (pure) -------------------------------------------------------------------------------


def _clean_text(value: str) -> str:
    """Text the databases accept: no NUL (PostgreSQL refuses it) and no lone surrogate (not UTF-8)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _cut_bytes(value: str, limit: int) -> str:
    """``value`` shortened to at most ``limit`` UTF-8 bytes, never inside a character."""
    if len(value) * 4 <= limit:
        return value
    encoded = value.encode("utf-8")
    if len(encoded) <= limit:
        return value
    return encoded[:limit].decode("utf-8", "ignore")


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    return None


def _text_normaliser(field: SearchField) -> Callable[[Any], str | None]:
    if field.column is not None:

        def bounded(text: str) -> str:
            return _cut_bytes(text, COLUMN_MAX_BYTES)
    elif field.has_full_version:

        def bounded(text: str) -> str:
            return _cut_bytes(text, TEXT_MAX_BYTES)
    else:

        def bounded(text: str) -> str:
            return text[:KEYWORD_MAX_CHARS]

    def normalise(value: Any) -> str | None:
        text = _as_text(value)
        return None if text is None else bounded(_clean_text(text))

    return normalise


def _int(value: Any, bounds: tuple[int, int] = BIGINT) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        value = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not (1 <= len(text) <= 21) or not text.lstrip("+-").isdigit():
            return None
        value = int(text)
    if not isinstance(value, int):
        return None
    return value if bounds[0] <= value <= bounds[1] else None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip()) if len(value) <= 64 else None
        except ValueError:
            return None
    if isinstance(value, int):
        value = float(value)
    return value if isinstance(value, float) and math.isfinite(value) else None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return True if value == 1 else False if value == 0 else None
    if isinstance(value, str):
        return True if value in _TRUE else False if value in _FALSE else None
    return None


def _list_normaliser(field: SearchField) -> Callable[[Any], list[str] | None]:
    split = field.name in SEMICOLON_LISTS

    def normalise(value: Any) -> list[str] | None:
        if isinstance(value, str):
            items: list[Any] = value.split(";") if split else [value]
        elif isinstance(value, list):
            items = value
        else:
            return None
        out = []
        for item in items[:LIST_MAX_ITEMS]:
            text = _as_text(item)
            if text is None:
                continue
            text = _clean_text(text).strip() if split else _clean_text(text)
            if text:
                out.append(text[:KEYWORD_MAX_CHARS])
        return out or None

    return normalise


def _normaliser(field: SearchField) -> Callable[[Any], Any]:
    if field.is_list:
        return _list_normaliser(field)
    if field.validation_type == "bool":
        return _bool
    if field.query_type == "integer":
        bounds = INT32 if field.name == "major_version" else BIGINT
        return lambda value: _int(value, bounds)
    if field.query_type == "float":
        return _float
    return _text_normaliser(field)


def parse_date(value: Any) -> dt.datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (naive means UTC); None if it is not one."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def crash_date(crash_id: str, date_processed: Any) -> dt.datetime:
    """The row's ``date``: ``date_processed``, or midnight UTC of the crash id's date when that is missing,
    malformed or more than two days away from it."""
    fallback = dt.datetime.combine(date_of(crash_id), dt.time(), dt.UTC)
    parsed = parse_date(date_processed)
    if parsed is None or abs(parsed - fallback) > MAX_DATE_SKEW:
        return fallback
    return parsed


@dataclass(frozen=True)
class _Step:
    name: str
    path: tuple[str, ...]
    column: bool
    normalise: Callable[[Any], Any]


_PLANS: dict[int, tuple[Catalogue, tuple[_Step, ...]]] = {}


def _plan(fields: Catalogue) -> tuple[_Step, ...]:
    """How to read and normalise each catalogue field, computed once per catalogue."""
    cached = _PLANS.get(id(fields))
    if cached is not None and cached[0] is fields:
        return cached[1]
    steps = tuple(
        _Step(name, tuple(spec.source_key.split(".")), spec.column is not None, _normaliser(spec))
        for name, spec in fields.fields.items()
        if name not in ("uuid", "date")
    )
    _PLANS[id(fields)] = (fields, steps)
    return steps


def _lookup(processed: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = processed
    for step in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def index_row(crash_id: str, processed: Mapping[str, Any], fields: Catalogue | None = None) -> dict[str, Any]:
    """The ``search_crash`` row of ``crash_id``: every catalogue field from its source key, normalised.

    Typed columns are keys of the result (None when absent); every other field with a value is in
    ``result["data"]`` by its Super Search name. ``crash_id`` must be a crash id (its date is the fallback).
    """
    row: dict[str, Any] = dict.fromkeys(COLUMN_ORDER)
    row["uuid"] = crash_id
    row["date"] = crash_date(crash_id, processed.get("date_processed"))
    data: dict[str, Any] = {}
    for step in _plan(fields or catalogue()):
        raw = processed.get(step.path[0]) if len(step.path) == 1 else _lookup(processed, step.path)
        if raw is None:
            continue
        value = step.normalise(raw)
        if value is None:
            continue
        if step.column:
            row[step.name] = value
        else:
            data[step.name] = value
    row["data"] = data
    return row


# --- writing ---------------------------------------------------------------------------------------------------


def _signature_updates(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, dt.datetime, int | None]]:
    """(signature, first date, first build) per signature in ``rows``, sorted (a fixed lock order)."""
    firsts: dict[str, tuple[dt.datetime, int | None]] = {}
    for row in rows:
        signature = row["signature"]
        if not signature:
            continue
        date, build = row["date"], row["build_id"]
        seen = firsts.get(signature)
        if seen is None:
            firsts[signature] = (date, build)
            continue
        best_build = seen[1] if build is None or (seen[1] is not None and seen[1] <= build) else build
        firsts[signature] = (min(seen[0], date), best_build)
    return [(signature, *firsts[signature]) for signature in sorted(firsts)]


_UPDATE_COLUMNS = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in ("uuid", "date"))
_SIGNATURE_SQL = (
    "INSERT INTO search_signature (signature, first_date, first_build) VALUES (%s, %s, %s) "
    "ON CONFLICT (signature) DO UPDATE SET "
    "first_date = CASE WHEN excluded.first_date < search_signature.first_date "
    "THEN excluded.first_date ELSE search_signature.first_date END, "
    "first_build = CASE WHEN search_signature.first_build IS NULL "
    "OR excluded.first_build < search_signature.first_build "
    "THEN excluded.first_build ELSE search_signature.first_build END "
    "WHERE excluded.first_date < search_signature.first_date OR (excluded.first_build IS NOT NULL "
    "AND (search_signature.first_build IS NULL OR excluded.first_build < search_signature.first_build))"
)
#: The statements that write a crash's rows, on SQLite and PostgreSQL alike (run with ``executemany``): the
#: typed columns, then ``data`` in its own table under the same key.
CRASH_UPSERT_SQL = (
    f"INSERT INTO {TABLE} (" + ", ".join(COLUMNS) + ") "
    "VALUES (" + ", ".join(["%s"] * len(COLUMNS)) + ") "
    f"ON CONFLICT (uuid, date) DO UPDATE SET {_UPDATE_COLUMNS}"
)
DATA_UPSERT_SQL = (
    f"INSERT INTO {DATA_TABLE} (uuid, date, data) VALUES (%s, %s, %s) "  # noqa: S608 (a constant name)
    "ON CONFLICT (uuid, date) DO UPDATE SET data = excluded.data"
)
#: Delete a crash's rows under another date (its ``date_processed`` changed), so each crash has one row. The
#: date window (``date_window``) keeps PostgreSQL to the partitions such a row can be in.
_MOVED_SQL = tuple(
    f"DELETE FROM {table} WHERE uuid = %s AND date >= %s AND date < %s AND date <> %s"  # noqa: S608 (constant names)
    for table in TABLES
)


def date_window(crash_ids: Iterable[str]) -> tuple[dt.datetime, dt.datetime]:
    """Bounds of every ``date`` the rows of ``crash_ids`` can have (``crash_date`` keeps a row's date within
    ``MAX_DATE_SKEW`` of its id's day), so reads and deletes by id touch only those partitions."""
    id_days = [date_of(crash_id) for crash_id in crash_ids]
    low = dt.datetime.combine(min(id_days), dt.time(), dt.UTC) - MAX_DATE_SKEW
    high = dt.datetime.combine(max(id_days), dt.time(), dt.UTC) + dt.timedelta(days=1) + MAX_DATE_SKEW
    return low, high


class CrashIndex:
    """The index for one process; Django is configured on construction (call ``db.migrate`` at start)."""

    def __init__(self, settings: Settings, fields: Catalogue | None = None) -> None:
        db.configure(settings)
        self._fields = fields or catalogue()
        self._partitions = Partitions()

    def check(self) -> None:
        """Run a trivial query; raise ``IndexUnavailable`` if the database does not answer."""
        from django.db import DatabaseError, connection

        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError as exc:
            self._reset()
            raise IndexUnavailable(f"crash index: {exc}") from exc

    @property
    def fields(self) -> Catalogue:
        return self._fields

    def row(self, crash_id: str, processed: Mapping[str, Any]) -> dict[str, Any]:
        """``index_row`` with this index's catalogue (for ``write_rows``)."""
        return index_row(crash_id, processed, self._fields)

    def upsert(self, crash_id: str, processed: Mapping[str, Any], public: Mapping[str, Any] | None = None) -> None:
        """Insert or replace the row of ``crash_id`` (reprocessing overwrites), committed on return.

        ``public`` is ignored: the row keeps every catalogue field and search enforces permissions (the
        argument stays for callers written when the index held public fields only).
        """
        try:
            self.write_rows([index_row(crash_id, processed, self._fields)])
        except IndexUnavailable as exc:
            raise IndexUnavailable(f"{crash_id}: cannot index: {exc}") from exc

    def upsert_many(self, items: Iterable[tuple[str, Mapping[str, Any]]], batch: int = BATCH) -> int:
        """Index ``(crash_id, processed)`` pairs in batches of ``batch`` rows; returns how many were written."""
        written = 0
        pending: list[dict[str, Any]] = []
        for crash_id, processed in items:
            pending.append(index_row(crash_id, processed, self._fields))
            if len(pending) >= batch:
                written += self.write_rows(pending)
                pending = []
        if pending:
            written += self.write_rows(pending)
        return written

    def write_rows(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Write rows made by ``index_row`` in one transaction (the last of a repeated crash id wins)."""
        from django.db import DatabaseError, connection, transaction

        unique = sorted({row["uuid"]: row for row in rows}.values(), key=lambda row: row["uuid"])
        if not unique:
            return 0
        ops = connection.ops
        crashes: list[list[Any]] = []
        datas: list[tuple[Any, ...]] = []
        moved: list[tuple[Any, ...]] = []
        for row in unique:
            date = ops.adapt_datetimefield_value(row["date"])
            low, high = date_window([row["uuid"]])
            moved.append((row["uuid"], ops.adapt_datetimefield_value(low), ops.adapt_datetimefield_value(high), date))
            values = [row[column] for column in COLUMNS]
            values[1] = date
            crashes.append(values)
            datas.append((row["uuid"], date, ops.adapt_json_value(row["data"], None)))
        signatures = [
            (signature, ops.adapt_datetimefield_value(first_date), first_build)
            for signature, first_date, first_build in _signature_updates(unique)
        ]
        try:
            self._partitions.ensure(connection, [row["date"] for row in unique])
            # Short statements run with executemany (pipelined on PostgreSQL): one long multi-row statement
            # would be re-parsed by the driver on every batch, which cost more than the database's work.
            with transaction.atomic(), connection.cursor() as cursor:
                for sql in _MOVED_SQL:
                    cursor.executemany(sql, moved)
                cursor.executemany(CRASH_UPSERT_SQL, crashes)
                cursor.executemany(DATA_UPSERT_SQL, datas)
                if signatures:
                    cursor.executemany(_SIGNATURE_SQL, signatures)
        except DatabaseError as exc:
            self._reset()
            raise IndexUnavailable(f"cannot write {len(unique)} index rows: {exc}") from exc
        return len(unique)

    def get(self, crash_id: str) -> dict[str, Any] | None:
        """The row of ``crash_id`` as a dict (typed columns and ``data``), or None."""
        from django.db import DatabaseError

        from crashcart.search.models import Crash, CrashData

        try:
            low, high = date_window([crash_id])
            found = Crash.objects.filter(uuid=crash_id, date__gte=low, date__lt=high).values(*COLUMNS).first()
            data = None
            if found is not None:
                rows = CrashData.objects.filter(uuid=crash_id, date=found["date"])
                data = rows.values_list("data", flat=True).first()
        except DatabaseError as exc:
            self._reset()
            raise IndexUnavailable(f"{crash_id}: cannot read the index: {exc}") from exc
        if found is None:
            return None
        if isinstance(data, str):  # a JSON column read through a raw path comes back as text
            data = json.loads(data)
        return {**found, "data": data or {}}

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
        rows = Crash.objects.filter(signature=signature).order_by("uuid").values_list("uuid", flat=True)
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

    def _reset(self) -> None:
        """Drop a broken connection so the next call reconnects (the database may have restarted), and
        forget the partitions seen (the database may be another one now)."""
        from django.db import connection

        self._partitions.forget()
        try:
            connection.close()
        except Exception:
            LOGGER.debug("closing a broken index connection failed", exc_info=True)
