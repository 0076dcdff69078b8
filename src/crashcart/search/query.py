"""Socorro's Super Search query language, parsed into a typed ``SearchQuery`` (pure: no Django, no I/O).

``parse`` takes the request's parameters (each key with its list of values, as a query string gives them),
the field catalogue and the caller's right to protected data, and returns frozen dataclasses that a
``SearchBackend`` executes. Every refusal raises ``BadArgumentError`` with Socorro's message, so a client
written against Socorro reads the same errors.

The language (socorro-api.md §2.4): ``<field>=<value>`` where the value may start with ``!`` (not) and one
of the operators its type allows; values of one field are OR'ed except ranges, which are AND'ed; fields are
AND'ed. ``date`` always has a range (the last 7 days by default, at most 365 days). Meta parameters start
with ``_``. Unknown parameters are ignored, as Socorro does.

Where Crashcart chooses (the user-facing account is ``docs/search.md``):

* "has terms" (no operator) on a text field (a ``string`` with Socorro's ``.full`` copy, ``analyzed``) matches
  a value holding any of the given words, whole and case-insensitively (a word is a run of letters, digits and
  ``_``: ES's standard analyzer, simplified); on keyword and enum fields it is a case-insensitive whole-value
  match (Socorro lowercases enum values); on a list field, an element equal to the value, case-insensitively.
* ``=``, ``~``, ``^``, ``$`` and ``@`` are case-sensitive, like Socorro's, which run on the keyword copy of the
  field; ``@`` matches the whole value (Lucene regular expressions are anchored) with the syntax common to
  PostgreSQL and Python.
* Within one field, the field matches when every range clause holds and, if there are other clauses, at
  least one of them does (Socorro's result depends on the order of the values; this does not).
* A negated clause also matches crashes without the field (as ``must_not`` does in Elasticsearch).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from crashcart.errors import BadArgumentError
from crashcart.search import cursor as cursors

QueryType = Literal["string", "enum", "integer", "float", "date", "bool"]
ValidationType = Literal["str", "enum", "int", "float", "datetime", "bool"]


class Field(Protocol):
    """What the parser needs of a catalogue field (``crashcart.search.fields.SearchField`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def query_type(self) -> QueryType: ...
    @property
    def permission(self) -> Literal["public", "protected"]: ...
    @property
    def column(self) -> str | None: ...
    @property
    def is_list(self) -> bool: ...
    @property
    def facetable(self) -> bool: ...
    @property
    def histogrammable(self) -> bool: ...
    @property
    def operators(self) -> frozenset[str]: ...
    @property
    def validation_type(self) -> ValidationType: ...
    @property
    def has_full_version(self) -> bool: ...


class Catalogue(Protocol):
    """What the parser needs of the catalogue (``crashcart.search.fields.Catalogue`` has it)."""

    def get(self, name: str) -> Field | None: ...


# --- bounds -------------------------------------------------------------------------------------------
DEFAULT_COLUMNS = ("uuid", "date", "signature", "product", "version")
DEFAULT_FACETS = ("signature",)
DEFAULT_FACETS_SIZE = 50
MAX_FACETS_SIZE = 10_000
DEFAULT_RESULTS_NUMBER = 100
MAX_RESULTS_NUMBER = 1_000
#: Socorro stops at offset + number ≤ 10,000 (Elasticsearch's window); Crashcart pages further with ``_cursor``,
#: and keeps offsets only below this sane bound (an offset makes the database walk and drop that many rows).
MAX_RESULTS_OFFSET = 1_000_000
DEFAULT_DATE_RANGE = dt.timedelta(days=7)
MAX_DATE_RANGE = dt.timedelta(days=365)
#: Longest filter value; the index keeps at most 10,000 characters of a keyword and 32 KiB of a text.
MAX_VALUE_LENGTH = 32_768
#: Most values one parameter may carry (each becomes a clause of the SQL query).
MAX_VALUES_PER_FIELD = 1_000
#: Most words a "has terms" value may hold.
MAX_TERMS = 64
#: Longest regular expression accepted for ``@``.
MAX_REGEX_LENGTH = 1_000
#: Deepest ``_aggs.a.b.c…`` nesting, leaf values included.
MAX_AGG_DEPTH = 5
#: Most histogram buckets one request may produce before it is refused as too complex.
MAX_HISTOGRAM_BUCKETS = 100_000
INT64 = 2**63

TOO_COMPLEX = "Search query is too complex. Try a shorter value, fewer values or a simpler regular expression."

#: Socorro's prefixes, longest first (``<=`` before ``<``); ``!`` (not) comes before any of them.
_OPERATOR_ORDER = ("__null__", "__true__", ">=", "<=", ">", "<", "=", "~", "^", "$", "@", "")
RANGE_OPERATORS = frozenset({">", ">=", "<", "<="})
_INT = re.compile(r"\s*[+-]?[0-9]{1,19}\s*")
_WORD = re.compile(r"\w+")
_TRUE = frozenset({"true", "t", "1", "y", "yes"})

Value = str | int | float | bool | dt.datetime | None


@dataclass(frozen=True)
class Clause:
    """One value of a filter: ``[!]<operator><value>``, the value converted to the field's type."""

    operator: str
    value: Value
    negated: bool = False


@dataclass(frozen=True)
class FieldFilter:
    """A field's clauses: it matches when all of ``all_of`` (ranges) and, if any, one of ``any_of`` hold."""

    field: Field
    any_of: tuple[Clause, ...]
    all_of: tuple[Clause, ...]


@dataclass(frozen=True)
class DateRange:
    """The crash dates searched: always bounded, never more than 365 days."""

    start: dt.datetime
    end: dt.datetime
    start_inclusive: bool = True
    end_inclusive: bool = True


@dataclass(frozen=True)
class SortKey:
    field: Field
    descending: bool


@dataclass(frozen=True)
class Interval:
    """A histogram interval: a calendar unit (``day``…), a fixed number of seconds, or a number step."""

    calendar: str | None = None  # "minute", "hour", "day", "week", "month", "quarter", "year"
    seconds: int | None = None
    step: int | float | None = None


@dataclass(frozen=True)
class Aggregation:
    """One entry of ``facets``: terms of a field, its cardinality, or its histogram, with sub-aggregations."""

    kind: Literal["terms", "cardinality", "histogram"]
    field: Field
    children: tuple[Aggregation, ...] = ()
    interval: Interval | None = None

    @property
    def key(self) -> str:
        """The name of this aggregation in ``facets`` (Socorro's)."""
        if self.kind == "terms":
            return self.field.name
        return f"{self.kind}_{self.field.name}"


@dataclass(frozen=True)
class SearchQuery:
    """A parsed Super Search request, ready for a ``SearchBackend``."""

    date_field: Field
    date_range: DateRange
    filters: tuple[FieldFilter, ...]
    columns: tuple[Field, ...]
    sort: tuple[SortKey, ...]  # always ends with the crash id, so the order is total
    aggregations: tuple[Aggregation, ...]  # empty when _facets_size=0
    facets_size: int
    results_number: int
    results_offset: int
    cursor: tuple[cursors.CursorValue, ...] | None = None

    def sort_spec(self) -> tuple[tuple[str, bool], ...]:
        """``(field name, descending)`` pairs: what a cursor is made for."""
        return tuple((key.field.name, key.descending) for key in self.sort)


def analyzed(field: Field) -> bool:
    """Whether "has terms" matches words of the value (Socorro's text fields, those with a ``.full`` copy)
    rather than the whole value, case-insensitively (its keyword fields)."""
    return field.query_type == "string" and field.has_full_version and not field.is_list


def words(value: str) -> list[str]:
    """The lowercased words of ``value``, as "has terms" matches them (runs of letters, digits and ``_``)."""
    return [w.lower() for w in _WORD.findall(value)]


# --- parsing --------------------------------------------------------------------------------------------


def parse(
    params: Mapping[str, Sequence[str]],
    catalogue: Catalogue,
    *,
    allow_protected: bool,
    now: dt.datetime,
) -> SearchQuery:
    """Turn request parameters into a ``SearchQuery``; raise ``BadArgumentError`` with Socorro's message."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(dt.UTC)

    def visible(field: Field) -> bool:
        return allow_protected or field.permission == "public"

    def known(name: str) -> Field:
        field = catalogue.get(name)
        if field is None:
            raise BadArgumentError(f"Unknown field {_shown(name)!r}")
        return field

    date_field = known("date")
    uuid_field = known("uuid")

    filters: list[FieldFilter] = []
    date_clauses: list[Clause] = []
    for name, raw_values in params.items():
        if name.startswith("_"):
            continue
        field = catalogue.get(name)
        if field is None:
            continue  # unknown parameters are ignored, as Socorro does
        values = _values(name, raw_values)
        if not values:
            continue
        clauses = [c for c in (_clause(field, value) for value in values) if c is not None]
        if not clauses:
            continue
        if field.name == date_field.name:
            date_clauses.extend(clauses)
            continue
        if not visible(field):
            continue  # dropped silently (Socorro's SuperSearch without view_pii)
        clauses = _fix_version(field, clauses)
        filters.append(
            FieldFilter(
                field=field,
                any_of=tuple(c for c in clauses if c.operator not in RANGE_OPERATORS),
                all_of=tuple(c for c in clauses if c.operator in RANGE_OPERATORS),
            )
        )
    date_range = _date_range(date_clauses, now)

    columns = tuple(
        field for field in (known(name) for name in _list(params, "_columns", DEFAULT_COLUMNS)) if visible(field)
    )
    sort = _sort(params, known, visible, uuid_field)

    facets_size = _int_param(params, "_facets_size", DEFAULT_FACETS_SIZE)
    if facets_size > MAX_FACETS_SIZE:
        raise BadArgumentError("_facets_size greater than 10,000")
    if facets_size < 0:
        raise BadArgumentError("_facets_size cannot be negative")
    results_number = _int_param(params, "_results_number", DEFAULT_RESULTS_NUMBER)
    if results_number > MAX_RESULTS_NUMBER:
        raise BadArgumentError("_results_number cannot be greater than 1,000")
    if results_number < 0:
        raise BadArgumentError("_results_number cannot be negative")
    results_offset = _int_param(params, "_results_offset", 0)
    if results_offset < 0:
        raise BadArgumentError("_results_offset cannot be negative")
    if results_offset > MAX_RESULTS_OFFSET:
        raise BadArgumentError("_results_offset cannot be greater than 1,000,000: page further with _cursor")

    aggregations: tuple[Aggregation, ...] = ()
    if facets_size:
        aggregations = _aggregations(params, catalogue, known, visible, date_range)

    query = SearchQuery(
        date_field=date_field,
        date_range=date_range,
        filters=tuple(filters),
        columns=columns,
        sort=sort,
        aggregations=aggregations,
        facets_size=facets_size,
        results_number=results_number,
        results_offset=results_offset,
    )
    token = _single(params, "_cursor")
    if token:
        after = cursors.decode(token, query.sort_spec())
        for key, value in zip(query.sort, after, strict=True):
            if key.field.query_type == "date" and value is not None:
                if not isinstance(value, str):
                    raise BadArgumentError("Bad value for parameter _cursor: not a valid cursor")
                _datetime("_cursor", value)
        # The cursor says where the page starts: an offset (crashstats-tools always sends one) would skip more.
        query = dataclasses.replace(query, cursor=after, results_offset=0)
    return query


def _shown(text: str, limit: int = 100) -> str:
    """User input quoted in a message, cut short (a 1 MB field name must not come back as a 1 MB error)."""
    return text if len(text) <= limit else text[:limit] + "…"


def _values(name: str, raw: Sequence[str] | str) -> list[str]:
    values = [raw] if isinstance(raw, str) else list(raw)
    if len(values) > MAX_VALUES_PER_FIELD:
        raise BadArgumentError(TOO_COMPLEX)
    out = []
    for value in values:
        if not isinstance(value, str):
            raise BadArgumentError(f"Bad value for parameter {name}: not a string")
        if len(value) > MAX_VALUE_LENGTH:
            raise BadArgumentError(TOO_COMPLEX)
        if "\x00" in value or not _encodable(value):
            raise BadArgumentError(f"Bad value for parameter {name}: not valid text")
        if value:
            out.append(value)
    return out


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clause(field: Field, text: str) -> Clause | None:
    """``[!]<operator><value>`` → a typed clause; a prefix the field's type does not allow stays in the value."""
    negated = text.startswith("!")
    if negated:
        text = text[1:]
    operator = ""
    for candidate in _OPERATOR_ORDER:
        if candidate and candidate in field.operators and text.startswith(candidate):
            operator = candidate
            text = text[len(candidate) :]
            break
    if operator in ("__null__", "__true__"):
        return Clause(operator, None, negated)
    if not operator and not text:
        return None  # "!" alone: nothing to search for (Socorro ignores empty values)
    return Clause(operator, _convert(field, operator, text), negated)


def _convert(field: Field, operator: str, text: str) -> Value:
    kind = field.validation_type
    bad = BadArgumentError(f"Bad value for parameter {field.name}: not a valid {kind}")
    if kind == "int":
        if not _INT.fullmatch(text):
            raise bad
        number = int(text)
        if not -INT64 <= number < INT64:
            raise bad
        return number
    if kind == "float":
        try:
            real = float(text)
        except ValueError:
            raise bad from None
        if not math.isfinite(real):
            raise bad
        return real
    if kind == "datetime":
        return _datetime(field.name, text)
    if kind == "bool":
        return text.strip().lower() in _TRUE
    if operator == "@":
        _check_regex(field.name, text)
    elif not operator and analyzed(field):
        if not words(text):
            raise BadArgumentError(f"Bad value for parameter {field.name}: no word to search for")
        if len(words(text)) > MAX_TERMS:
            raise BadArgumentError(TOO_COMPLEX)
    return text


def _check_regex(name: str, pattern: str) -> None:
    if len(pattern) > MAX_REGEX_LENGTH:
        raise BadArgumentError(TOO_COMPLEX)
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        raise BadArgumentError(f"Bad value for parameter {name}: not a valid regular expression") from None


def _datetime(name: str, text: str) -> dt.datetime:
    """``YYYY-MM-DD``, or ISO 8601 with ``T`` or a space, optional fraction, ``Z`` or ``±HH:MM``; naive = UTC."""
    text = text.strip()
    if len(text) > 40:
        raise BadArgumentError(f"Bad value for parameter {name}: not a valid datetime")
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadArgumentError(f"Bad value for parameter {name}: not a valid datetime") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise BadArgumentError(f"Bad value for parameter {name}: not a valid datetime") from None


def _fix_version(field: Field, clauses: list[Clause]) -> list[Clause]:
    """``version=120.0b`` (no operator, ending in ``b``) means every beta of 120.0: a starts-with search."""
    if field.name != "version":
        return clauses
    return [
        Clause("^", c.value, c.negated) if not c.operator and isinstance(c.value, str) and c.value.endswith("b") else c
        for c in clauses
    ]


_NEGATED_RANGE = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}


def _date_range(clauses: list[Clause], now: dt.datetime) -> DateRange:
    """The tightest lower and upper bounds given (``!>x`` is ``<=x``); defaults: up to now, 7 days back."""
    lower: tuple[dt.datetime, bool] | None = None  # (value, inclusive)
    upper: tuple[dt.datetime, bool] | None = None
    for clause in clauses:
        if not clause.operator:
            raise BadArgumentError("date must have a prefix operator")
        if clause.operator not in RANGE_OPERATORS:
            continue  # a crash always has a date: __null__ says nothing useful here
        operator = _NEGATED_RANGE[clause.operator] if clause.negated else clause.operator
        assert isinstance(clause.value, dt.datetime)
        bound = (clause.value, "=" in operator)
        if operator.startswith(">"):
            # tighter: later, or the same instant exclusive
            if lower is None or (bound[0], not bound[1]) > (lower[0], not lower[1]):
                lower = bound
        elif upper is None or (bound[0], bound[1]) < (upper[0], upper[1]):
            upper = bound
    if upper is None:
        upper = (now, True)
    if lower is None:
        lower = (upper[0] - DEFAULT_DATE_RANGE, True)
    if upper[0] - lower[0] > MAX_DATE_RANGE:
        raise BadArgumentError("Date range is bigger than 365 days")
    return DateRange(start=lower[0], end=upper[0], start_inclusive=lower[1], end_inclusive=upper[1])


def _list(params: Mapping[str, Sequence[str]], name: str, default: Sequence[str]) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return list(default)
    values = [raw] if isinstance(raw, str) else list(raw)
    if len(values) > MAX_VALUES_PER_FIELD:
        raise BadArgumentError(TOO_COMPLEX)
    return [v for v in values if isinstance(v, str) and v]


def _single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    raw = params.get(name)
    if raw is None:
        return None
    values = [raw] if isinstance(raw, str) else list(raw)
    values = [v for v in values if v]
    if not values:
        return None
    value = values[-1]
    if not isinstance(value, str):
        raise BadArgumentError(f"Bad value for parameter {name}: not a string")
    return value


def _int_param(params: Mapping[str, Sequence[str]], name: str, default: int) -> int:
    value = _single(params, name)
    if value is None:
        return default
    if not _INT.fullmatch(value):
        raise BadArgumentError(f"Bad value for parameter {name}: not a valid int")
    return int(value)


def _sort(
    params: Mapping[str, Sequence[str]], known: _Known, visible: _Visible, uuid_field: Field
) -> tuple[SortKey, ...]:
    keys: list[SortKey] = []
    seen: set[str] = set()
    for value in _list(params, "_sort", ()):
        descending = value.startswith("-")
        field = known(value[1:] if descending else value)
        if not visible(field) or field.name in seen:
            continue
        seen.add(field.name)
        keys.append(SortKey(field, descending))
    if uuid_field.name not in seen:
        keys.append(SortKey(uuid_field, False))  # ties broken by crash id: pages never overlap or skip
    return tuple(keys)


class _Known(Protocol):
    def __call__(self, name: str) -> Field: ...


class _Visible(Protocol):
    def __call__(self, field: Field) -> bool: ...


def _aggregations(
    params: Mapping[str, Sequence[str]],
    catalogue: Catalogue,
    known: _Known,
    visible: _Visible,
    date_range: DateRange,
) -> tuple[Aggregation, ...]:
    intervals: dict[str, Interval] = {}

    def interval(field: Field) -> Interval:
        if field.name not in intervals:
            intervals[field.name] = _interval(field, _single(params, f"_histogram_interval.{field.name}"), date_range)
        return intervals[field.name]

    def leaf(value: str, depth: int) -> Aggregation | None:
        """A value of ``_facets``/``_aggs.*``/``_histogram.*``: a field, ``_cardinality.f`` or ``_histogram.f``."""
        if depth > MAX_AGG_DEPTH:
            raise BadArgumentError(TOO_COMPLEX)
        for prefix, kind in (("_cardinality.", "cardinality"), ("_histogram.", "histogram")):
            if value.startswith(prefix):
                field = known(value[len(prefix) :])
                if not visible(field):
                    return None
                if kind == "histogram":
                    if not field.histogrammable:
                        return None  # Socorro has no such aggregation: ignored
                    return Aggregation("histogram", field, interval=interval(field))
                return Aggregation("cardinality", field)
        field = known(value)
        if not visible(field):
            return None
        _check_facetable(field)
        return Aggregation("terms", field)

    def leaves(name: str, depth: int) -> tuple[Aggregation, ...]:
        found = (leaf(v, depth) for v in _list(params, name, ()))
        return tuple(a for a in found if a is not None)

    result: dict[str, Aggregation] = {}
    for value in _list(params, "_facets", DEFAULT_FACETS):
        agg = leaf(value, 1)
        if agg is not None:
            result[agg.key] = agg
    for name in sorted(params):
        if name.startswith("_aggs."):
            path = name[len("_aggs.") :].split(".")
            fields = [catalogue.get(p) for p in path]
            if not path or any(f is None for f in fields):
                continue  # not a parameter Socorro knows: ignored
            if len(path) >= MAX_AGG_DEPTH:
                raise BadArgumentError(TOO_COMPLEX)
            chain = [f for f in fields if f is not None]
            if not all(visible(f) for f in chain):
                continue
            for f in chain:
                _check_facetable(f)
            node = Aggregation("terms", chain[-1], children=leaves(name, len(chain) + 1))
            for f in reversed(chain[:-1]):
                node = Aggregation("terms", f, children=(node,))
            result[node.key] = node
        elif name.startswith("_histogram.") and not name.startswith("_histogram_interval."):
            field = catalogue.get(name[len("_histogram.") :])
            if field is None or not field.histogrammable or not visible(field):
                continue
            agg = Aggregation("histogram", field, children=leaves(name, 2), interval=interval(field))
            result[agg.key] = agg
    return tuple(result.values())


def _check_facetable(field: Field) -> None:
    if not field.facetable:
        raise BadArgumentError(f"Field {field.name!r} cannot be aggregated")


_CALENDAR = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 0, "quarter": 0, "year": 0}
_CALENDAR_SHORT = {
    "1m": "minute",
    "1h": "hour",
    "1d": "day",
    "1w": "week",
    "1M": "month",
    "1q": "quarter",
    "1y": "year",
}
_FIXED = re.compile(r"([1-9][0-9]{0,5})([smhd])")
_FIXED_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _interval(field: Field, text: str | None, date_range: DateRange) -> Interval:
    name = f"_histogram_interval.{field.name}"
    if field.query_type == "date":
        text = text or "day"
        if text in _CALENDAR_SHORT:
            text = _CALENDAR_SHORT[text]
        if text in _CALENDAR:
            result = Interval(calendar=text)
            seconds = _CALENDAR[text] or 28 * 86400
        else:
            match = _FIXED.fullmatch(text)
            if not match:
                raise BadArgumentError(f"Bad value for parameter {name}: not a valid interval")
            seconds = int(match.group(1)) * _FIXED_SECONDS[match.group(2)]
            result = Interval(seconds=seconds)
        if (date_range.end - date_range.start).total_seconds() / seconds > MAX_HISTOGRAM_BUCKETS:
            raise BadArgumentError(TOO_COMPLEX)
        return result
    if not text:
        return Interval(step=1.0 if field.query_type == "float" else 1)
    try:
        step: int | float = int(text) if _INT.fullmatch(text) else float(text)
    except ValueError:
        raise BadArgumentError(f"Bad value for parameter {name}: not a valid number") from None
    if not math.isfinite(step) or step <= 0 or abs(step) >= INT64:
        raise BadArgumentError(f"Bad value for parameter {name}: not a valid number")
    return Interval(step=step)
