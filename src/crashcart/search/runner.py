"""Super Search executed in SQL on the crash index (SQLite embedded, PostgreSQL at scale), through Django.

This is the only module that knows SQL for searching. ``SqlSearchBackend.search(query)`` compiles a parsed
``SearchQuery`` into a few statements on table ``search_crash`` (alias ``c``: the typed columns) and answers in
Socorro's shape. The other fields are in the JSON column ``data`` of ``search_crashdata`` (alias ``x``), joined
only to the statements that use one of them; the ``data`` columns of hits are read for the page alone.

* ``total``: ``COUNT(*)`` under the filters; ``hits``: one page, ordered by ``_sort`` then crash id, with every
  requested column (``null`` when absent, one-element lists collapsed, empty lists ``null``) and the page's
  ``next_cursor`` (keyset pagination: the next page starts strictly after the last hit's sort key);
* ``facets``: one ``GROUP BY`` per aggregation level (terms: top ``_facets_size`` by count then term, the top-level
  terms facets on scalar fields all in one ``GROUPING SETS`` statement on PostgreSQL; nested
  ``_aggs`` restricted to the parent's chosen terms; histograms; exact cardinalities).

Every statement is bounded by the date range (PostgreSQL prunes partitions) and by a deadline
(``CRASHCART_SEARCH_TIMEOUT``): PostgreSQL gets ``statement_timeout`` for what is left of it (and ``work_mem``
raised to ``WORK_MEM`` and ``parallel_tuple_cost`` set to ``PARALLEL_TUPLE_COST``, for the search's
transaction only), SQLite a progress handler. Regular expressions
run in PostgreSQL's engine or, on SQLite, in the ``regex`` module with the time left as its timeout, so a
pathological pattern ends in Socorro's 400 "Search query timed out…", never in a stuck worker.
Values always travel as bound parameters; field names come from the catalogue (checked to be identifiers) and
are written into the SQL so expression indexes on JSON keys can be used.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import regex  # type: ignore[import-untyped]  # ships no type information

from crashcart.errors import BadArgumentError, IndexUnavailable
from crashcart.search import cursor as cursors
from crashcart.search.query import (
    MAX_HISTOGRAM_BUCKETS,
    TOO_COMPLEX,
    Aggregation,
    Clause,
    Field,
    FieldFilter,
    Interval,
    SearchQuery,
    analyzed,
    parse,
    words,
)

if TYPE_CHECKING:
    from crashcart.search.backend import SearchBackend
    from crashcart.settings import Settings

LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

TABLE = "search_crash"
DATA_TABLE = "search_crashdata"
#: Columns that are never NULL (the primary key). Their sort keys go without ``NULLS LAST``: descending with it,
#: a b-tree index cannot give the order, so the newest 100 of 42,000 matching crashes took a scan and a sort
#: (75 ms) where reading the date index backwards takes under 1 ms (bench/results/search-20261208-0013,
#: filters3_facets3's hits statement).
_NEVER_NULL = frozenset({"uuid", "date"})
#: A key of ``data`` as the PostgreSQL dialect reads it (``x.data -> 'key'``, ``x.data ->> 'key'``).
_PG_DATA_KEY = re.compile(r"x\.data\s*->>?\s*'([a-z_][a-z0-9_]{0,62})'")
#: How every generated expression reads the companion table's JSON: a statement mentioning it joins the table.
_DATA = "x.data"
DEFAULT_TIMEOUT = 4.0  # the setting's default (CRASHCART_SEARCH_TIMEOUT)
TIMED_OUT = "Search query timed out. Try a shorter date range, fewer facets or a simpler filter."
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: How many SQLite virtual-machine steps run between two looks at the clock.
_SQLITE_PROGRESS_STEPS = 20_000
_REGEX_OVERRUN = 2.5
#: PostgreSQL's ``work_mem`` for one search (``SET LOCAL``, only ever raised, never lowered): at the server's
#: default 4 MB the GROUP BY/ORDER BY of a facet over a week's window (tens of thousands of signatures) spills
#: to disk by external merge (bench/results/search-20261207-2215, item 3). 64 MB keeps those sorts and hashes in
#: memory and bounds what one search may take per sort or hash node (a few per statement, at most one statement
#: at a time per search). ``None`` leaves the server's setting (bench/search/ab_facets.py's "before").
WORK_MEM: str | None = "64MB"
#: PostgreSQL's ``parallel_tuple_cost`` for one search (``SET LOCAL``; the server's default is 0.1). A facet or a
#: distinct count cannot be computed in parallel workers, but the scan and the filters under it can, handing the
#: matching rows up through a Gather; at 0.1 a row the planner judges that hand-over too dear once it knows
#: (from the statistics on ``lower(product)`` and the like) that a week holds 100,000 matching rows, and scans
#: in one process. Measured on the benchmark's million crashes: 3 filters + 3 facets in one scan 150 -> 106 ms
#: (bench/results/search-20261208-0013, explain-experiments.txt E5). ``None`` leaves the server's.
PARALLEL_TUPLE_COST: str | None = "0.01"
#: Answer every top-level terms facet on a scalar field (and the total) with one statement, one scan of the
#: matching rows instead of one per facet (``GROUPING SETS`` on PostgreSQL, a materialized CTE on SQLite).
#: ``False`` runs a statement per facet, as before (bench/search/ab_facets.py's "before"; the tests run both).
GROUPING_SETS = True


def _ident(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


# --- SQL per database ----------------------------------------------------------------------------------


@dataclass
class _Sql:
    """A fragment of SQL and its parameters (``%s`` placeholders; a literal percent is written ``%%``)."""

    text: str
    params: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class _Group:
    """One level of an aggregation: the expression grouped on, and the join it needs (list fields)."""

    expr: str
    join: str | None
    distinct_rows: bool  # a list field: a crash may be in several groups, so count crashes, not rows
    convert: Callable[[Any], Any]
    order: str = ""  # the expression ordering ties as Python orders the terms (text: by code point)


class _Dialect:
    """What differs between SQLite and PostgreSQL; the compiler above it is shared."""

    vendor = ""

    def value(self, f: Field) -> str:
        """The field's scalar value (SQL NULL when absent)."""
        raise NotImplementedError

    def raw_json(self, f: Field) -> str:
        """The field's value in ``data`` as JSON text, for hits."""
        raise NotImplementedError

    def elements(self, f: Field, alias: str) -> str:
        """A table of a list field's elements, one row per element, column ``<alias>.value``."""
        raise NotImplementedError

    def element(self, f: Field, alias: str) -> str:
        """The scalar value of one element from ``elements``."""
        raise NotImplementedError

    def list_empty(self, f: Field) -> str:
        raise NotImplementedError

    def list_contains(self, f: Field, value: Any) -> _Sql | None:
        return None

    def has_word(self, expr: str, word: str) -> _Sql:
        raise NotImplementedError

    def contains(self, expr: str, op: str, value: str) -> _Sql:
        raise NotImplementedError

    def regex(self, expr: str, pattern: str) -> _Sql:
        raise NotImplementedError

    def param(self, f: Field, value: Any) -> Any:
        return value

    def date_bucket(self, expr: str, interval: Interval) -> str:
        raise NotImplementedError

    def number_bucket(self, expr: str, step: int | float) -> str:
        raise NotImplementedError

    def sort_expr(self, f: Field) -> str:
        return self.value(f) if not f.is_list else self.raw_json(f)

    def nulls_last(self) -> str:
        return " NULLS LAST"

    def by_code_point(self, expr: str) -> str:
        """``expr`` (text) compared by code point, as Python compares ``str``."""
        return expr

    def is_same(self, left: str) -> str:
        raise NotImplementedError

    def to_datetime(self, value: Any) -> dt.datetime | None:
        raise NotImplementedError


class _SqliteDialect(_Dialect):
    vendor = "sqlite"

    def __init__(self, adapt_datetime: Callable[[dt.datetime], Any]) -> None:
        self._adapt_datetime = adapt_datetime

    def value(self, f: Field) -> str:
        if f.column:
            return f'c."{_ident(f.column)}"'
        return f"json_extract(x.data, '$.{_ident(f.name)}')"

    def raw_json(self, f: Field) -> str:
        return f"(x.data -> '$.{_ident(f.name)}')"

    def elements(self, f: Field, alias: str) -> str:
        return f"json_each(x.data, '$.{_ident(f.name)}') AS {alias}"

    def element(self, f: Field, alias: str) -> str:
        return f"{alias}.value"

    def list_empty(self, f: Field) -> str:
        return f"COALESCE(json_array_length(x.data, '$.{_ident(f.name)}'), 0) = 0"

    def has_word(self, expr: str, word: str) -> _Sql:
        if word.isascii():  # cheap pre-filter; SQLite's lower() folds ASCII only
            return _Sql(f"(instr(lower({expr}), %s) > 0 AND crashcart_has_word({expr}, %s))", [word, word])
        return _Sql(f"crashcart_has_word({expr}, %s)", [word])

    def contains(self, expr: str, op: str, value: str) -> _Sql:
        # instr/substr compare characters exactly: no wildcard to escape, case-sensitive like Socorro's.
        if op == "~":
            return _Sql(f"instr({expr}, %s) > 0", [value])
        if op == "^":
            return _Sql(f"substr({expr}, 1, %s) = %s", [len(value), value])
        return _Sql(f"(length({expr}) >= %s AND substr({expr}, -%s) = %s)", [len(value), len(value), value])

    def regex(self, expr: str, pattern: str) -> _Sql:
        return _Sql(f"crashcart_regexp(%s, {expr})", [pattern])

    def param(self, f: Field, value: Any) -> Any:
        if isinstance(value, dt.datetime) and f.column:
            return self._adapt_datetime(value)
        if isinstance(value, dt.datetime):
            return value.isoformat()
        return value

    def date_bucket(self, expr: str, interval: Interval) -> str:
        if interval.seconds:
            return f"(CAST(strftime('%%s', {expr}) AS INTEGER) / {int(interval.seconds)} * {int(interval.seconds)})"
        formats = {
            "minute": f"strftime('%%Y-%%m-%%d %%H:%%M:00', {expr})",
            "hour": f"strftime('%%Y-%%m-%%d %%H:00:00', {expr})",
            "day": f"strftime('%%Y-%%m-%%d 00:00:00', {expr})",
            "week": f"strftime('%%Y-%%m-%%d 00:00:00', {expr}, 'weekday 0', '-6 days')",
            "month": f"strftime('%%Y-%%m-01 00:00:00', {expr})",
            "quarter": f"printf('%%s-%%02d-01 00:00:00', strftime('%%Y', {expr}), "
            f"((CAST(strftime('%%m', {expr}) AS INTEGER) - 1) / 3) * 3 + 1)",
            "year": f"strftime('%%Y-01-01 00:00:00', {expr})",
        }
        return formats[interval.calendar or "day"]

    def number_bucket(self, expr: str, step: int | float) -> str:
        q = f"(({expr}) / {step!r})"
        if isinstance(step, int):
            return f"((({expr}) - ((({expr}) % {step}) + {step}) % {step}))"
        return f"((CAST({q} AS INTEGER) - (CASE WHEN {q} < CAST({q} AS INTEGER) THEN 1 ELSE 0 END)) * {step!r})"

    def is_same(self, left: str) -> str:
        return f"{left} IS %s"

    def to_datetime(self, value: Any) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value, dt.UTC)
        parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


class _PostgresDialect(_Dialect):
    vendor = "postgresql"

    def value(self, f: Field) -> str:
        if f.column:
            return f'c."{_ident(f.column)}"'
        key = f"x.data -> '{_ident(f.name)}'"
        if f.validation_type in ("int", "float"):
            return f"(CASE WHEN jsonb_typeof({key}) = 'number' THEN ({key} #>> '{{}}')::numeric END)"
        if f.validation_type == "bool":
            return f"(CASE WHEN jsonb_typeof({key}) = 'boolean' THEN ({key} #>> '{{}}')::boolean END)"
        return f"(x.data ->> '{_ident(f.name)}')"

    def raw_json(self, f: Field) -> str:
        return f"(x.data -> '{_ident(f.name)}')::text"

    def _array(self, f: Field) -> str:
        """The field as a JSON array: absent or null → [], a scalar → [scalar] (hostile data never errors)."""
        key = f"(x.data -> '{_ident(f.name)}')"
        kind = f"jsonb_typeof({key})"
        return (
            f"(CASE WHEN {kind} = 'array' THEN {key} WHEN {key} IS NULL OR {kind} = 'null' THEN '[]'::jsonb "
            f"ELSE jsonb_build_array({key}) END)"
        )

    def elements(self, f: Field, alias: str) -> str:
        return f"LATERAL jsonb_array_elements({self._array(f)}) AS {alias}(value)"

    def element(self, f: Field, alias: str) -> str:
        if f.validation_type in ("int", "float"):
            return f"(CASE WHEN jsonb_typeof({alias}.value) = 'number' THEN ({alias}.value #>> '{{}}')::numeric END)"
        if f.validation_type == "bool":
            return f"(CASE WHEN jsonb_typeof({alias}.value) = 'boolean' THEN ({alias}.value #>> '{{}}')::boolean END)"
        return f"({alias}.value #>> '{{}}')"

    def list_empty(self, f: Field) -> str:
        return f"jsonb_array_length({self._array(f)}) = 0"

    def list_contains(self, f: Field, value: Any) -> _Sql | None:
        if f.validation_type in ("str", "enum"):  # jsonb containment: a GIN index on data can answer it
            return _Sql(f"x.data -> '{_ident(f.name)}' @> %s::jsonb", [json.dumps([value])])
        return None

    def has_word(self, expr: str, word: str) -> _Sql:
        # A word is letters, digits and '_' only, so it is safe inside the pattern; \m \M are word edges.
        return _Sql(f"{expr} ~* %s", [f"\\m{word}\\M"])

    def contains(self, expr: str, op: str, value: str) -> _Sql:
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = {"~": f"%{escaped}%", "^": f"{escaped}%", "$": f"%{escaped}"}[op]
        return _Sql(f"{expr} LIKE %s ESCAPE '\\'", [pattern])

    def regex(self, expr: str, pattern: str) -> _Sql:
        return _Sql(f"{expr} ~ %s", [f"^(?:{pattern})$"])

    def param(self, f: Field, value: Any) -> Any:
        return value

    def date_bucket(self, expr: str, interval: Interval) -> str:
        if interval.seconds:
            n = int(interval.seconds)
            return f"to_timestamp(floor(extract(epoch FROM {expr}) / {n}) * {n})"
        return f"date_trunc('{interval.calendar or 'day'}', {expr}, 'UTC')"

    def number_bucket(self, expr: str, step: int | float) -> str:
        return f"(floor(({expr})::numeric / {step!r}) * {step!r})"

    def is_same(self, left: str) -> str:
        return f"{left} IS NOT DISTINCT FROM %s"

    def by_code_point(self, expr: str) -> str:
        return f'{expr} COLLATE "C"'  # UTF-8 byte order is code-point order

    def to_datetime(self, value: Any) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        return dt.datetime.fromisoformat(str(value)).astimezone(dt.UTC)


# --- compiling filters ------------------------------------------------------------------------------


def _where(query: SearchQuery, d: _Dialect) -> _Sql:
    parts = [_date_range(query, d, d.value(query.date_field))]
    parts.extend(_field_filter(f, d) for f in query.filters)
    return _join(parts, " AND ")


def _date_range(query: SearchQuery, d: _Dialect, date: str) -> _Sql:
    """``date`` (an expression) within the search's date range: every statement has it, so PostgreSQL reads
    only the partitions of those weeks."""
    rng = query.date_range
    return _join(
        [
            _Sql(f"{date} {'>=' if rng.start_inclusive else '>'} %s", [d.param(query.date_field, rng.start)]),
            _Sql(f"{date} {'<=' if rng.end_inclusive else '<'} %s", [d.param(query.date_field, rng.end)]),
        ],
        " AND ",
    )


def _join(parts: Sequence[_Sql], sep: str) -> _Sql:
    return _Sql(sep.join(f"({p.text})" for p in parts), [v for p in parts for v in p.params])


def _field_filter(flt: FieldFilter, d: _Dialect) -> _Sql:
    parts = [_clause(flt.field, c, d) for c in flt.all_of]
    if flt.any_of:
        parts.append(_join([_clause(flt.field, c, d) for c in flt.any_of], " OR "))
    return _join(parts, " AND ")


def _clause(f: Field, clause: Clause, d: _Dialect) -> _Sql:
    sql = _predicate(f, clause, d)
    if clause.negated:
        return _Sql(f"NOT COALESCE(({sql.text}), FALSE)", sql.params)
    return sql


def _predicate(f: Field, clause: Clause, d: _Dialect) -> _Sql:
    op, value = clause.operator, clause.value
    if op == "__null__":
        return _Sql(d.list_empty(f) if f.is_list else f"{d.value(f)} IS NULL")
    if f.is_list:
        if op == "=":
            fast = d.list_contains(f, value)
            if fast is not None:
                return fast
        inner = _scalar_predicate(f, op, value, d.element(f, "j"), d)
        sql = f"EXISTS (SELECT 1 FROM {d.elements(f, 'j')} WHERE {inner.text})"  # noqa: S608 (values are bound; names are checked)
        return _Sql(sql, inner.params)
    return _scalar_predicate(f, op, value, d.value(f), d)


def _scalar_predicate(f: Field, op: str, value: Any, expr: str, d: _Dialect) -> _Sql:
    if op == "__true__":
        return _Sql(f"{expr} = %s", [True])
    if op in (">", ">=", "<", "<="):
        return _Sql(f"{expr} {op} %s", [d.param(f, value)])
    if op == "=":
        return _Sql(f"{expr} = %s", [d.param(f, value)])
    if op in ("~", "^", "$"):
        if value == "":
            return _Sql(f"{expr} IS NOT NULL")
        return d.contains(expr, op, str(value))
    if op == "@":
        return d.regex(expr, str(value))
    # "has terms"
    if analyzed(f):
        return _join([d.has_word(expr, w) for w in dict.fromkeys(words(str(value)))], " OR ")
    if isinstance(value, str):
        if f.name == "uuid":  # crash ids are lowercase by construction: keep the primary key usable
            return _Sql(f"{expr} = %s", [value.lower()])
        return _Sql(f"lower({expr}) = %s", [value.lower()])
    return _Sql(f"{expr} = %s", [d.param(f, value)])


# --- the backend ------------------------------------------------------------------------------------


@dataclass
class _Deadline:
    at: float
    expired: bool = False
    bad_regex: bool = False

    def left(self) -> float:
        return self.at - time.monotonic()


class SqlSearchBackend:
    """Super Search on the Django database ``alias`` (SQLite or PostgreSQL), each search within ``timeout`` s."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, alias: str = "default") -> None:
        self.timeout = timeout
        self.alias = alias

    def search(self, query: SearchQuery) -> dict[str, Any]:
        return self.run(lambda run, dialect: _Search(query, dialect, run).answer())

    def run(self, work: Callable[[_Runner, _Dialect], _T]) -> _T:
        """Call ``work`` with a statement runner bounded by this backend's deadline, translating errors."""
        from django.db import DatabaseError, connections

        connection = connections[self.alias]
        deadline = _Deadline(time.monotonic() + self.timeout)
        try:
            with self._bounded(connection, deadline) as runner:
                return work(runner, self._dialect(connection))
        except DatabaseError as exc:
            raise self._translate(exc, deadline) from exc

    @staticmethod
    def _dialect(connection: Any) -> _Dialect:
        if connection.vendor == "postgresql":
            return _PostgresDialect()
        if connection.vendor == "sqlite":
            return _SqliteDialect(connection.ops.adapt_datetimefield_value)
        raise IndexUnavailable(f"Super Search does not support {connection.vendor} databases")

    @contextmanager
    def _bounded(self, connection: Any, deadline: _Deadline) -> Iterator[_Runner]:
        """A statement runner that stops every statement at the deadline."""
        from django.db import transaction

        if connection.vendor == "postgresql":
            with transaction.atomic(using=self.alias), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT current_setting('statement_timeout'), current_setting('work_mem'), "
                    "current_setting('parallel_tuple_cost')"
                )
                previous, previous_work_mem, previous_tuple_cost = cursor.fetchone()
                if WORK_MEM is not None:  # raise it for this transaction, never lower it
                    cursor.execute(
                        "SELECT set_config('work_mem', %s, true) "
                        "WHERE pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(%s)",
                        [WORK_MEM, WORK_MEM],
                    )
                if PARALLEL_TUPLE_COST is not None:
                    cursor.execute("SELECT set_config('parallel_tuple_cost', %s, true)", [PARALLEL_TUPLE_COST])
                yield _Runner(cursor, deadline, postgres=True)
                # Inside a caller's transaction this block is a savepoint, and a transaction-local setting would
                # outlive it: put the caller's settings back (a rolled-back savepoint restores them by itself).
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true), set_config('work_mem', %s, true), "
                    "set_config('parallel_tuple_cost', %s, true)",
                    [previous, previous_work_mem, previous_tuple_cost],
                )
            return
        connection.ensure_connection()
        raw = connection.connection

        def progress() -> int:
            if time.monotonic() > deadline.at:
                deadline.expired = True
                return 1
            return 0

        raw.set_progress_handler(progress, _SQLITE_PROGRESS_STEPS)
        raw.create_function("crashcart_regexp", 2, functools.partial(_sqlite_regexp, deadline))
        raw.create_function("crashcart_has_word", 2, _sqlite_has_word, deterministic=True)
        try:
            with connection.cursor() as cursor:
                yield _Runner(cursor, deadline, postgres=False)
        finally:
            raw.set_progress_handler(None, 0)

    @staticmethod
    def _translate(exc: Exception, deadline: _Deadline) -> Exception:
        cause = exc.__cause__
        state = getattr(cause, "sqlstate", None)
        text = str(exc)
        if deadline.expired or state == "57014" or "interrupted" in text:
            return BadArgumentError(TIMED_OUT)
        if state == "2201B" or "regular expression" in text or deadline.bad_regex:
            if "too complex" in text or "out of memory" in text:
                return BadArgumentError(TOO_COMPLEX)
            return BadArgumentError("Bad value for a regular expression (@): not a valid regular expression")
        if state == "54001" or "too many SQL variables" in text or "too complex" in text:
            return BadArgumentError(TOO_COMPLEX)
        LOGGER.warning("search failed: %s", exc)
        return IndexUnavailable(f"the crash index could not answer: {type(exc).__name__}")


@dataclass
class _Runner:
    cursor: Any
    deadline: _Deadline
    postgres: bool

    def rows(self, sql: _Sql) -> list[tuple[Any, ...]]:
        left = self.deadline.left()
        if left <= 0:
            self.deadline.expired = True
            raise BadArgumentError(TIMED_OUT)
        if self.postgres:
            self.cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(max(1, int(left * 1000)))])
        self.cursor.execute(sql.text, sql.params)
        return list(self.cursor.fetchall())


def _sqlite_regexp(deadline: _Deadline, pattern: str, value: Any) -> bool | None:
    if value is None:
        return None
    left = deadline.left()
    if left <= 0:
        deadline.expired = True
        raise TimeoutError("search deadline")
    try:
        compiled = _compiled(pattern)
    except regex.error:
        deadline.bad_regex = True
        raise
    try:
        # The regex module overruns its timeout by up to about twice (measured): ask for less than is left.
        return compiled.fullmatch(str(value), timeout=left / _REGEX_OVERRUN) is not None
    except TimeoutError:
        deadline.expired = True
        raise


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    return regex.compile(pattern, regex.VERSION0)


@functools.lru_cache(maxsize=256)
def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", re.IGNORECASE)


def _sqlite_has_word(value: Any, word: str) -> bool | None:
    if value is None:
        return None
    return _word_pattern(word).search(str(value)) is not None


# --- one search -------------------------------------------------------------------------------------


class _Search:
    def __init__(self, query: SearchQuery, dialect: _Dialect, run: _Runner) -> None:
        self.q = query
        self.d = dialect
        self.run = run
        self.where = _where(query, dialect)
        #: Set by the first top-level facet on a scalar field (its groups, missing values included, add up to
        #: the total), which saves the search one scan of the matching rows.
        self.total: int | None = None
        #: Top-level terms facets already answered by :meth:`_merged_facets`: rows ``(term, count)`` by the
        #: facet's group expression.
        self.merged: dict[str, list[tuple[Any, ...]]] = {}

    def answer(self) -> dict[str, Any]:
        facets: dict[str, Any] = {}
        self._merged_facets()
        for agg in self.q.aggregations:
            facets[agg.key] = self._aggregate(agg, [], None).get((), _empty(agg))
        if self.total is None:
            source = self._from(self.where.text)
            count = f"SELECT COUNT(*) FROM {source.text} WHERE {self.where.text}"  # noqa: S608 (values are bound; names are checked)
            self.total = int(self.run.rows(_Sql(count, [*source.params, *self.where.params]))[0][0])
        hits, next_cursor = self._hits()
        return {
            "hits": hits,
            "total": self.total,
            "facets": facets,
            "errors": [],
            "next_cursor": next_cursor,
        }

    def _from(self, *texts: str) -> _Sql:
        """The FROM of a statement made of ``texts``: the crash table, joined to its ``data`` only if they read
        it (bounded by the date range too, so PostgreSQL reads only those weeks' partitions of both)."""
        if not any(_DATA in text for text in texts):
            return _Sql(f"{TABLE} c")
        if self.d.vendor == "postgresql":
            # Only the keys the statement reads travel through the join: PostgreSQL hashes the joined rows,
            # and whole documents (about 1 KB each, a week of them) made the hash the statement's main cost.
            keys = sorted({key for text in texts for key in _PG_DATA_KEY.findall(text)})
            within = _date_range(self.q, self.d, 'd."date"')
            parts = "".join(
                f" || CASE WHEN jsonb_exists(d.data, '{_ident(k)}') THEN jsonb_build_object('{k}', d.data -> '{k}') "
                "ELSE '{}'::jsonb END"
                for k in keys
            )
            return _Sql(
                f"{TABLE} c LEFT JOIN (SELECT d.uuid, d.\"date\", ('{{}}'::jsonb{parts}) AS data FROM {DATA_TABLE} d "  # noqa: S608 (names are checked)
                f'WHERE {within.text}) x ON x.uuid = c.uuid AND x."date" = c."date"',
                within.params,
            )
        within = _date_range(self.q, self.d, 'x."date"')
        return _Sql(
            f'{TABLE} c LEFT JOIN {DATA_TABLE} x ON x.uuid = c.uuid AND x."date" = c."date" AND {within.text}',
            within.params,
        )

    # hits ------------------------------------------------------------------------------------------
    def _hits(self) -> tuple[list[dict[str, Any]], str | None]:
        q, d = self.q, self.d
        if q.results_number == 0:
            return [], None
        sort_exprs = [d.sort_expr(k.field) for k in q.sort]
        where = _Sql(self.where.text, list(self.where.params))
        if q.cursor is not None:
            after = self._after(sort_exprs, q.cursor)
            where = _Sql(f"({where.text}) AND ({after.text})", where.params + after.params)
        order = ", ".join(
            f"{expr} {'DESC' if key.descending else 'ASC'}{'' if key.field.column in _NEVER_NULL else d.nulls_last()}"
            for expr, key in zip(sort_exprs, q.sort, strict=True)
        )
        # Columns kept in ``data`` are read for this page only, unless the page's own statement joins it anyway.
        later = _DATA not in where.text + order
        select = [d.value(f) if f.column else ("NULL" if later else d.raw_json(f)) for f in q.columns]
        select += [*sort_exprs, "c.uuid"]
        source = self._from(*select, where.text, order)
        sql = _Sql(
            f"SELECT {', '.join(select)} FROM {source.text} WHERE {where.text} ORDER BY {order} LIMIT %s OFFSET %s",  # noqa: S608 (values are bound; names are checked)
            [*source.params, *where.params, q.results_number, q.results_offset],
        )
        rows = self.run.rows(sql)
        n = len(q.columns)
        data = self._data_columns(rows) if later else {}
        hits = [
            {
                f.name: self._hit_value(f, row[i] if f.column or not later else data.get(row[-1], {}).get(f.name))
                for i, f in enumerate(q.columns)
            }
            for row in rows
        ]
        next_cursor = None
        if rows and len(rows) == q.results_number:
            last = rows[-1][n:-1]
            values = [
                self.d.to_datetime(v) if key.field.query_type == "date" and v is not None else _plain(v)
                for key, v in zip(q.sort, last, strict=True)
            ]
            next_cursor = cursors.encode(q.sort_spec(), values)
        return hits, next_cursor

    def _data_columns(self, rows: Sequence[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
        """The requested columns kept in ``data`` for the crashes of ``rows`` (crash id last), by crash id."""
        fields = [f for f in self.q.columns if not f.column]
        if not fields or not rows:
            return {}
        ids = [row[-1] for row in rows]
        within = _date_range(self.q, self.d, 'x."date"')
        sql = _Sql(
            f"SELECT x.uuid, {', '.join(self.d.raw_json(f) for f in fields)} FROM {DATA_TABLE} x "  # noqa: S608 (values are bound; names are checked)
            f"WHERE x.uuid IN ({', '.join(['%s'] * len(ids))}) AND {within.text}",
            [*ids, *within.params],
        )
        return {row[0]: {f.name: row[i + 1] for i, f in enumerate(fields)} for row in self.run.rows(sql)}

    def _after(self, sort_exprs: list[str], values: Sequence[Any]) -> _Sql:
        """Rows strictly after ``values`` in the sort order (NULLs last in either direction)."""
        options: list[_Sql] = []
        for i, (expr, key, value) in enumerate(zip(sort_exprs, self.q.sort, values, strict=True)):
            if value is None:
                continue  # only NULLs come after a NULL, and they are equal to it
            param = self._cursor_param(key.field, value)
            same = [
                _Sql(self.d.is_same(e), [self._cursor_param(k.field, v)])
                for e, k, v in zip(sort_exprs[:i], self.q.sort[:i], values[:i], strict=True)
            ]
            step = _Sql(f"{expr} {'<' if key.descending else '>'} %s OR {expr} IS NULL", [param])
            options.append(_join([*same, step], " AND "))
        if not options:
            return _Sql("1 = 0")
        return _join(options, " OR ")

    def _cursor_param(self, f: Field, value: Any) -> Any:
        if f.query_type == "date" and isinstance(value, str):
            return self.d.param(f, dt.datetime.fromisoformat(value).astimezone(dt.UTC))
        return value

    def _hit_value(self, f: Field, raw: Any) -> Any:
        if f.column:
            value = raw
        elif raw is None:
            return None
        else:
            value = json.loads(raw) if isinstance(raw, str | bytes) else raw
        if f.query_type == "date" and value is not None and f.column:
            when = self.d.to_datetime(value)
            return when.isoformat() if when else None
        if isinstance(value, list):
            if not value:
                return None
            if len(value) == 1:
                return value[0]
        return _plain(value)

    # aggregations ----------------------------------------------------------------------------------
    def _merged_facets(self) -> None:
        """Every top-level terms facet on a scalar field, and the total, from one scan of the matching rows.

        On PostgreSQL ``GROUP BY GROUPING SETS ((f1), (f2), …, ())``; SQLite has no grouping sets, so there the
        facets' values of the matching rows go once into a materialized common table expression and each facet
        groups that (``UNION ALL``). A statement per facet scans the rows once per facet instead
        (bench/results/search-20261207-2215, item 2). Each facet keeps, as :meth:`_grouped` does, its top
        ``_facets_size`` terms by count then term (missing values ranked last and dropped later); the empty
        grouping set is the total. Facets on list fields, histograms and cardinalities, and the
        sub-aggregations of these facets (``_aggs``), keep their own statements; with fewer than two such
        facets nothing is merged (the facet's own statement already gives the total).
        """
        if not GROUPING_SETS or self.q.facets_size < 1:
            return
        groups: dict[str, tuple[_Group, Field]] = {}
        for agg in self.q.aggregations:
            if agg.kind == "terms" and not agg.field.is_list:
                group = self._group(agg, "j0")
                groups.setdefault(group.expr, (group, agg.field))
        if len(groups) < 2:
            return
        members = list(groups.values())
        exprs = [g.expr for g, _ in members]
        source = self._from(*exprs, self.where.text)
        matching = f"FROM {source.text} WHERE {self.where.text}"
        prefix = ""
        if self.d.vendor == "postgresql":
            columns = ", ".join(f"GROUPING({e}) AS g{i}, {e} AS k{i}" for i, e in enumerate(exprs))
            sets = ", ".join(f"({e})" for e in exprs)
            grouped = f"SELECT {columns}, COUNT(*) AS n {matching} GROUP BY GROUPING SETS ({sets}, ())"
        else:
            keys = ", ".join(f"{e} AS k{i}" for i, e in enumerate(exprs))
            prefix = f"WITH m AS MATERIALIZED (SELECT {keys} {matching}) "

            def one_set(chosen: int | None) -> str:
                cols = ", ".join(
                    f"0 AS g{i}, k{i}" if i == chosen else f"1 AS g{i}, NULL AS k{i}" for i in range(len(exprs))
                )
                group_by = f" GROUP BY k{chosen}" if chosen is not None else ""
                return f"SELECT {cols}, COUNT(*) AS n FROM m{group_by}"  # noqa: S608 (names only)

            grouped = " UNION ALL ".join([*(one_set(i) for i in range(len(exprs))), one_set(None)])
        ranks = ", ".join(
            f"ROW_NUMBER() OVER (PARTITION BY g{i} ORDER BY CASE WHEN k{i} IS NULL THEN 1 ELSE 0 END, n DESC, "
            f"{self.d.by_code_point(f'k{i}') if f.validation_type in ('str', 'enum') else f'k{i}'}) AS r{i}"
            for i, (_, f) in enumerate(members)
        )
        keep = [f"(g{i} = 0 AND r{i} <= %s)" for i in range(len(members))]
        keep.append("(" + " AND ".join(f"g{i} = 1" for i in range(len(members))) + ")")
        sql = (
            f"{prefix}SELECT * FROM (SELECT grouped.*, {ranks} FROM ({grouped}) AS grouped) AS ranked "  # noqa: S608 (as above)
            f"WHERE {' OR '.join(keep)}"
        )
        rows = self.run.rows(_Sql(sql, [*source.params, *self.where.params, *([self.q.facets_size] * len(members))]))
        merged: dict[str, list[tuple[Any, ...]]] = {expr: [] for expr in groups}
        total = 0
        for row in rows:
            which = [i for i in range(len(members)) if row[2 * i] == 0]
            if not which:
                total = int(row[2 * len(members)])
                continue
            (i,) = which
            merged[members[i][0].expr].append((row[2 * i + 1], row[2 * len(members)]))
        self.merged = merged
        if self.total is None:
            self.total = total

    def _group(self, agg: Aggregation, alias: str) -> _Group:
        d, f = self.d, agg.field
        if f.is_list:
            expr, join = d.element(f, alias), d.elements(f, alias)
        else:
            expr, join = d.value(f), None
        if agg.kind == "histogram":
            assert agg.interval is not None
            if f.query_type == "date":
                return _Group(d.date_bucket(expr, agg.interval), join, f.is_list, self._date_term)
            step = agg.interval.step or 1
            convert = _int_term if f.query_type == "integer" and isinstance(step, int) else _float_term
            return _Group(d.number_bucket(expr, step), join, f.is_list, convert)
        order = d.by_code_point(expr) if f.validation_type in ("str", "enum") else expr
        return _Group(expr, join, f.is_list, functools.partial(_term, f, self._date_term), order)

    def _date_term(self, value: Any) -> str:
        when = self.d.to_datetime(value)
        assert when is not None
        return when.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def _grouped(
        self,
        groups: list[_Group],
        measure: str,
        restrict: tuple[_Group, Sequence[Any]] | None,
        extra_joins: Sequence[str] = (),
        *,
        keep_nulls: bool = False,
        top: int | None = None,
        parent_sums: dict[tuple[Any, ...], int] | None = None,
    ) -> tuple[list[tuple[Any, ...]], int | None]:
        """Rows ``(group keys…, measure)``, and the sum of the measure over every group (with ``top``).

        ``top`` keeps, per parent (every group but the last), the groups whose count ranks within the first
        ``top`` by count, ties broken by term in the order Python uses for the final cut: a facet on a field with
        a million values sends ``_facets_size`` rows, not a million. ``parent_sums`` (with
        ``top`` and ``keep_nulls``) receives each parent's total, so the parent level needs no statement of its own.
        """
        joins = "".join(f" CROSS JOIN {j}" for j in [*(g.join for g in groups if g.join), *extra_joins])
        conditions = [] if keep_nulls else [f"{g.expr} IS NOT NULL" for g in groups]
        params = list(self.where.params)
        if restrict is not None:
            group, values = restrict
            if not values:
                return [], 0  # no parent bucket was chosen: nothing to break down
            conditions.append(f"{group.expr} IN ({', '.join(['%s'] * len(values))})")
            params.extend(values)
        source = self._from(joins, measure, self.where.text, *conditions, *(g.expr for g in groups))
        params = [*source.params, *params]
        keys = ", ".join(g.expr for g in groups)
        select = f"{keys + ', ' if keys else ''}{measure}"
        if top is not None and groups:
            partition = ", ".join(g.expr for g in groups[:-1])
            last = groups[-1].expr
            over = f"PARTITION BY {partition}" if partition else ""
            select += (
                f", SUM({measure}) OVER () AS total_n, SUM({measure}) OVER ({over}) AS parent_n, "
                f"ROW_NUMBER() OVER ({over} ORDER BY CASE WHEN {last} IS NULL THEN 1 ELSE 0 END, {measure} DESC, "
                f"{groups[-1].order or last}) AS rk"
            )
        sql = f"SELECT {select} FROM {source.text}{joins} WHERE ({self.where.text})"  # noqa: S608 (values are bound; names are checked)
        if conditions:
            sql += " AND " + " AND ".join(conditions)
        if groups:
            sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(groups)))
        if top is None or not groups:
            found = self.run.rows(_Sql(sql, params))
            if len(found) > MAX_HISTOGRAM_BUCKETS:
                raise BadArgumentError(TOO_COMPLEX)  # Elasticsearch refuses past 65,536 buckets; this, past 100,000
            return found, None
        width = len(groups) + 1
        ranked = f"SELECT * FROM ({sql}) AS ranked WHERE ranked.rk <= %s"  # noqa: S608 (as above)
        rows = self.run.rows(_Sql(ranked, [*params, top]))
        if len(rows) > MAX_HISTOGRAM_BUCKETS:
            raise BadArgumentError(TOO_COMPLEX)
        total = int(rows[0][width]) if rows else 0
        if parent_sums is not None:
            for r in rows:
                parent_sums[tuple(r[: width - 2])] = int(r[width + 1])
        return [tuple(r[:width]) for r in rows], total

    def _aggregate(
        self,
        agg: Aggregation,
        prefix: list[_Group],
        restrict: tuple[_Group, Sequence[Any]] | None,
        parent_sums: dict[tuple[Any, ...], int] | None = None,
    ) -> dict[tuple[Any, ...], Any]:
        """This aggregation's value for every combination of the enclosing groups' raw keys.

        ``parent_sums``: fill it with each enclosing bucket's count (missing values of this field included).
        """
        depth = len(prefix)
        alias = f"j{depth}"
        if agg.kind == "cardinality":
            target = self._group(Aggregation("terms", agg.field), alias)
            extra = [target.join] if target.join else []
            # A top-level cardinality of a scalar field counts the matching rows too, saving the total's scan.
            with_total = depth == 0 and not extra and self.total is None
            measure = f"COUNT(DISTINCT {target.expr})" + (", COUNT(*)" if with_total else "")
            rows, _ = self._grouped(prefix, measure, restrict, extra)
            if with_total and rows:
                self.total = int(rows[0][1])
            return {tuple(r[:depth]): {"value": int(r[depth])} for r in rows}
        group = self._group(agg, alias)
        groups = [*prefix, group]
        distinct = any(g.distinct_rows for g in groups)
        measure = "COUNT(DISTINCT c.uuid)" if distinct else "COUNT(*)"
        # A histogram's buckets are counted by its first sub-facet on a scalar field (missing values included).
        deriving = next(
            (
                c
                for c in agg.children
                if agg.kind == "histogram" and not distinct and c.kind == "terms" and not c.field.is_list
            ),
            None,
        )
        children: dict[str, dict[tuple[Any, ...], Any]] = {}
        if deriving is not None:
            sums: dict[tuple[Any, ...], int] = {}
            children[deriving.key] = self._aggregate(deriving, groups, restrict, sums)
            rows = [(*key, count) for key, count in sums.items()]
            if depth == 0 and self.total is None:
                self.total = sum(count for key, count in sums.items())
        elif depth == 0 and agg.kind == "terms" and group.expr in self.merged:
            rows = self.merged[group.expr]
        else:
            counts_total = depth == 0 and not group.join and self.total is None
            keep_nulls = counts_total or parent_sums is not None
            top = self.q.facets_size if agg.kind == "terms" else None
            rows, total = self._grouped(
                groups, measure, restrict, keep_nulls=keep_nulls, top=top, parent_sums=parent_sums
            )
            if counts_total:
                self.total = total if total is not None else sum(int(r[-1]) for r in rows)
        rows = [r for r in rows if all(v is not None for v in r[: depth + 1])]
        per_parent: dict[tuple[Any, ...], list[tuple[Any, int]]] = defaultdict(list)
        for r in rows:
            per_parent[tuple(r[:depth])].append((r[depth], int(r[depth + 1])))
        chosen: dict[tuple[Any, ...], list[tuple[Any, int]]] = {}
        for parent, buckets in per_parent.items():
            if agg.kind == "terms":
                buckets.sort(key=lambda b: (-b[1], _order_key(b[0])))
                chosen[parent] = buckets[: self.q.facets_size]
            else:
                chosen[parent] = sorted(buckets, key=lambda b: _order_key(b[0]))
        child_restrict = restrict
        if depth == 0 and agg.kind == "terms" and agg.children:
            child_restrict = (group, [raw for raw, _ in chosen.get((), [])])
        for c in agg.children:
            if c.key not in children:
                children[c.key] = self._aggregate(c, groups, child_restrict)
        result: dict[tuple[Any, ...], Any] = {}
        for parent, buckets in chosen.items():
            out = []
            for raw, count in buckets:
                bucket: dict[str, Any] = {"term": group.convert(raw), "count": count}
                if agg.children or agg.kind == "histogram":
                    bucket["facets"] = {c.key: children[c.key].get((*parent, raw), _empty(c)) for c in agg.children}
                out.append(bucket)
            result[parent] = out
        return result


def _empty(agg: Aggregation) -> Any:
    return {"value": 0} if agg.kind == "cardinality" else []


def _order_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, "")
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float | Decimal):
        return (0, value)
    return (1, str(value))


def _plain(value: Any) -> Any:
    """A JSON-able value (PostgreSQL's numeric comes back as Decimal)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _int_term(value: Any) -> int:
    return int(value)


def _float_term(value: Any) -> float:
    return float(value)


def _term(f: Field, date_term: Callable[[Any], str], value: Any) -> Any:
    kind = f.validation_type
    if kind == "bool":
        return "T" if value in (True, 1, "true", "1") else "F"
    if kind == "datetime":
        return date_term(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return _plain(value)


# --- the entry point --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _backend(timeout: float) -> SqlSearchBackend:
    return SqlSearchBackend(timeout=timeout)


def supersearch(
    params: Mapping[str, Sequence[str]],
    *,
    allow_protected: bool,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
    backend: SearchBackend | None = None,
) -> dict[str, Any]:
    """Parse Socorro's Super Search parameters and run them on the configured crash index.

    Django must already be configured (``crashcart.database.configure``) by the process's composition root.
    ``settings`` gives the search timeout (``CRASHCART_SEARCH_TIMEOUT``); ``backend`` replaces the SQL one.
    """
    from crashcart.search.fields import catalogue

    query = parse(params, catalogue(), allow_protected=allow_protected, now=now or dt.datetime.now(dt.UTC))
    if backend is None:
        backend = _backend(settings.search_timeout if settings is not None else DEFAULT_TIMEOUT)
    return backend.search(query)
