"""The Super Search page: a form over Super Search's own query string.

Pure. The page's query string *is* Super Search's (the parameters ``/api/SuperSearch/`` takes, as ordered
``(name, value)`` pairs), so a shared URL reproduces the search and the page can show the equivalent API URL.
A form without JavaScript cannot write ``date=>=…`` or ``signature=~…`` itself, so its inputs have names of
their own (``date_from``, ``date_to`` and the "more filters" rows ``f<n>_field``, ``f<n>_op``, ``f<n>_value``):
``is_form_submission`` tells such a request, ``translate`` turns it into Super Search's pairs (refusing an
unknown field, an operator the field does not take or an over-long value with a ``FormError``) and the view
redirects to that canonical URL. ``form_state`` goes the other way (pairs → what the form shows), and the rest
builds the page: the columns shown, the result rows, the facet tables and the links (pages, facet terms).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from crashcart.search.fields import SearchField, catalogue
from crashcart.web.pages.topcrashers import PLATFORMS, term

Pairs = list[tuple[str, str]]

#: The form's first line: plain values, no operator (whole-value matches).
MAIN_FIELDS = ("product", "version", "platform", "process_type")
#: Empty "more filters" rows the form offers below the query's own filters.
EXTRA_ROWS = 3
#: Most filter rows a form may send (row numbers above are ignored).
MAX_ROWS = 100
#: Longest value the form takes (a shared URL goes to Super Search as it is, which has its own bounds).
MAX_FORM_VALUE = 1_000
PAGE_SIZES = (10, 25, 50, 100)
#: The page's largest page (the API takes up to 1,000); without ``_results_number``, Super Search's 100.
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 100
DEFAULT_COLUMNS = ("uuid", "date", "signature", "product", "version")
DEFAULT_FACETS = ("signature",)
#: Meta parameters the form edits itself; any other (``_facets_size``, ``_aggs.…``, ``_histogram.…``) is carried
#: along in hidden inputs so the form's next search keeps the whole query.
FORM_META = ("_columns", "_sort", "_facets", "_results_number")
#: Parameters that say where a page starts: a new search starts at the first.
PAGING = ("_results_offset", "_cursor")
DATE_INPUTS = {"date_from": ">=", "date_to": "<"}
DATE_FIELDS = {operator: name for name, operator in DATE_INPUTS.items()}
_ROW = re.compile(r"f([0-9]{1,3})_(field|op|value)")
RANGE_OPERATORS = frozenset({">", ">=", "<", "<="})
NO_VALUE_OPERATORS = frozenset({"__null__", "__true__"})
#: Every operator in the order the form lists them, with what it reads as; "!" before any negates it.
OPERATORS: tuple[tuple[str, str], ...] = (
    ("", "has terms"),
    ("=", "is"),
    ("~", "contains"),
    ("^", "starts with"),
    ("$", "ends with"),
    ("@", "matches regex"),
    (">", ">"),
    (">=", "≥"),
    ("<", "<"),
    ("<=", "≤"),
    ("__true__", "is true"),
    ("__null__", "is missing"),
)
_LABELS = dict(OPERATORS)


class FormError(ValueError):
    """A form input the page cannot turn into a search; the message is shown to the reader."""


def _shown(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def label(operator: str) -> str:
    """What an operator (``!`` prefix and all) reads as in the form."""
    bare = operator.removeprefix("!")
    text = _LABELS.get(bare, bare)
    return f"not {text}" if operator.startswith("!") else text


def operators_of(spec: SearchField | None) -> list[tuple[str, str]]:
    """The operators (code, label) the form offers for a field: its own, then their negations; every one for
    a row without a field."""
    codes = [code for code, _ in OPERATORS if spec is None or code in spec.operators]
    return [(code, label(code)) for code in codes] + [("!" + code, label("!" + code)) for code in codes]


def fields_for(sees_protected: bool) -> list[SearchField]:
    """The catalogue fields this reader may filter, show, sort and facet on (protected ones with view_pii)."""
    return sorted((f for f in catalogue().fields.values() if sees_protected or f.is_public), key=lambda f: f.name)


def _field(name: str, sees_protected: bool) -> SearchField | None:
    spec = catalogue().get(name)
    return spec if spec is not None and (sees_protected or spec.is_public) else None


def split(spec: SearchField, value: str) -> tuple[str, str]:
    """A Super Search value as (operator with its ``!``, the rest), read as the parser reads it: a prefix the
    field does not take stays in the value."""
    negated = value.startswith("!")
    rest = value[1:] if negated else value
    prefix = "!" if negated else ""
    for operator in sorted(spec.operators, key=len, reverse=True):
        if operator and rest.startswith(operator):
            return prefix + operator, ("" if operator in NO_VALUE_OPERATORS else rest[len(operator) :])
    return prefix, rest


def join(spec: SearchField, operator: str, value: str, where: str) -> str:
    """The Super Search value for ``<operator> <value>`` on the field; FormError when the field does not take
    the operator, or when the value would read as another operator (``!x`` or ``=x`` under "has terms")."""
    bare = operator.removeprefix("!")
    if bare not in spec.operators:
        allowed = ", ".join(label(code) for code, _ in OPERATORS if code in spec.operators)
        raise FormError(f"{where}: {spec.name} does not take the operator {_shown(label(operator))} ({allowed})")
    if len(value) > MAX_FORM_VALUE:
        raise FormError(f"{where}: the value is longer than {MAX_FORM_VALUE:,} characters")
    text = operator if bare in NO_VALUE_OPERATORS else operator + value
    expected = (operator, "" if bare in NO_VALUE_OPERATORS else value)
    if split(spec, text) != expected:
        raise FormError(f"{where}: a value starting with {_shown(value[:8])} reads as an operator; choose it instead")
    return text


def is_form_submission(pairs: Sequence[tuple[str, str]]) -> bool:
    """Whether the request comes from the form (its own input names, or empty inputs): the view translates
    it and redirects to the canonical URL."""
    return any(name in DATE_INPUTS or _ROW.fullmatch(name) or not value.strip() for name, value in pairs)


def translate(pairs: Sequence[tuple[str, str]], sees_protected: bool) -> Pairs:
    """The form's inputs as Super Search's parameters (empty inputs and paging dropped, rows and dates written
    with their operators); FormError for what cannot be searched."""
    main: Pairs = []
    dates: Pairs = []
    rest: Pairs = []
    rows: dict[int, dict[str, str]] = {}
    for name, value in pairs:
        if (row := _ROW.fullmatch(name)) is not None:
            if int(row[1]) < MAX_ROWS:
                rows.setdefault(int(row[1]), {})[row[2]] = value
            continue
        if not value.strip() or name in PAGING:
            continue
        if len(value) > MAX_FORM_VALUE:
            raise FormError(f"{_shown(name, 30)}: the value is longer than {MAX_FORM_VALUE:,} characters")
        if name in DATE_INPUTS:
            dates.append(("date", DATE_INPUTS[name] + value.strip()))
        elif name in MAIN_FIELDS:
            spec = catalogue().get(name)
            assert spec is not None  # the main fields are catalogue fields
            main.append((name, join(spec, "", value.strip(), name)))
        elif name.startswith("_") or _field(name, sees_protected) is not None:
            rest.append((name, value))
        # anything else: not a Super Search parameter, dropped (Super Search ignores it anyway)
    filters: Pairs = []
    for number in sorted(rows):
        inputs = rows[number]
        where = f"filter {number + 1}"
        name, operator, value = inputs.get("field", "").strip(), inputs.get("op", ""), inputs.get("value", "")
        if not name:
            if value.strip():
                raise FormError(f"{where}: choose a field for the value {_shown(value)}")
            continue
        spec = _field(name, sees_protected)
        if spec is None:
            raise FormError(f"{where}: unknown field {_shown(name)}")
        if not value.strip() and operator.removeprefix("!") not in NO_VALUE_OPERATORS:
            if operator.removeprefix("!") not in spec.operators:
                raise FormError(f"{where}: {spec.name} does not take the operator {_shown(label(operator))}")
            continue  # a row emptied: its filter is removed
        filters.append((spec.name, join(spec, operator, value, where)))
    return main + filters + dates + rest


def results_number(pairs: Sequence[tuple[str, str]]) -> int:
    """The page size asked for (Super Search's default without one); FormError above the page's maximum.
    A value that is not a number is left for Super Search to refuse with its own message."""
    values = [v for name, v in pairs if name == "_results_number"]
    text = values[-1].strip() if values else ""
    if not text.isdigit():
        return DEFAULT_PAGE_SIZE
    if int(text) > MAX_PAGE_SIZE:
        raise FormError(f"_results_number cannot be greater than {MAX_PAGE_SIZE} on this page (the API takes 1,000)")
    return int(text)


def results_offset(pairs: Sequence[tuple[str, str]]) -> int:
    values = [v for name, v in pairs if name == "_results_offset"]
    text = values[-1].strip() if values else ""
    return int(text) if text.isdigit() and len(text) < 10 else 0


def as_params(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Pairs as Super Search takes them: each name with its values, in order."""
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def query_string(pairs: Sequence[tuple[str, str]]) -> str:
    return urlencode(list(pairs))


def at_offset(pairs: Sequence[tuple[str, str]], offset: int) -> str:
    """The query string of the same search starting at ``offset`` (the first page without one)."""
    kept = [(name, value) for name, value in pairs if name not in PAGING]
    return query_string(kept + ([("_results_offset", str(offset))] if offset > 0 else []))


def narrowed(pairs: Sequence[tuple[str, str]], name: str, value: str) -> str:
    """The query string of the same search restricted to crashes whose field ``name`` is ``value`` (a facet's
    term), from its first page. The field's other values are OR'ed with each other in Super Search, so they
    give way to the term (its ranges, AND'ed, stay): the result is a subset of the search's."""
    spec = catalogue().get(name)
    kept: Pairs = []
    for key, current in pairs:
        if key in PAGING:
            continue
        if key == name and spec is not None and split(spec, current)[0].removeprefix("!") not in RANGE_OPERATORS:
            continue
        kept.append((key, current))
    return query_string([*kept, (name, term(name, value))])


def shown_columns(pairs: Sequence[tuple[str, str]], sees_protected: bool) -> list[str]:
    """The results table's columns: those asked for (Super Search's default without any) that the reader may
    see, each once."""
    asked = [v for name, v in pairs if name == "_columns"] or list(DEFAULT_COLUMNS)
    return list(dict.fromkeys(c for c in asked if _field(c, sees_protected) is not None))


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def result_rows(hits: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> list[list[Cell]]:
    """The results table's cells: a crash id links to its report, a signature to its signature report."""
    rows = []
    for hit in hits:
        row = []
        for column in columns:
            text = _text(hit.get(column))
            href = None
            if text and column == "uuid":
                href = f"/report/index/{quote(text, safe='')}"
            elif text and column == "signature":
                href = "/signature/?" + urlencode({"signature": text})
            row.append(Cell(text, href))
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Bucket:
    term: str
    count: int
    href: str | None


@dataclass(frozen=True)
class Facet:
    name: str
    buckets: list[Bucket]
    value: int | None = None  # a cardinality's


def facet_tables(facets: Mapping[str, Any], pairs: Sequence[tuple[str, str]], sees_protected: bool) -> list[Facet]:
    """One table per facet of the answer; the terms of a field's facet link to the search narrowed to them."""
    out = []
    for name, found in facets.items():
        if isinstance(found, dict):
            out.append(Facet(name, [], int(found.get("value") or 0)))
            continue
        spec = _field(name, sees_protected)
        buckets = []
        for found_bucket in found:
            if not isinstance(found_bucket, Mapping):
                continue
            text = _text(found_bucket.get("term"))
            href = "?" + narrowed(pairs, name, text) if spec is not None and linkable(spec, text) else None
            buckets.append(Bucket(text, int(found_bucket.get("count") or 0), href))
        out.append(Facet(name, buckets))
    return out


def linkable(spec: SearchField, value: str) -> bool:
    """Whether Super Search reads ``term(field, value)`` back as "equal to ``value``": not so for an enum's
    value that starts with ``!`` or ``__null__`` (the language has no escape), which then gets no link."""
    if spec.validation_type == "bool":
        return True
    operator, rest = split(spec, term(spec.name, value))
    return operator in ("", "=") and rest == value


def after_cursor(pairs: Sequence[tuple[str, str]], cursor: str) -> str:
    """The query string of the page after a keyset page (a URL with ``_cursor``): the same search from
    ``next_cursor``."""
    kept = [(name, value) for name, value in pairs if name not in PAGING]
    return query_string([*kept, ("_cursor", cursor)])


@dataclass
class Row:
    """One "more filters" row of the form."""

    number: int
    field: str
    op: str
    value: str
    operators: list[tuple[str, str]]


@dataclass
class FormState:
    """What the form shows for a query."""

    products: list[str] = field(default_factory=list)
    version: str = ""
    platform: str = ""
    process_type: str = ""
    date_from: str = ""
    date_to: str = ""
    rows: list[Row] = field(default_factory=list)
    columns: list[str] = field(default_factory=lambda: list(DEFAULT_COLUMNS))
    sort: str = ""
    facets: list[str] = field(default_factory=lambda: list(DEFAULT_FACETS))
    results_number: str = str(DEFAULT_PAGE_SIZE)
    hidden: Pairs = field(default_factory=list)


def form_state(pairs: Sequence[tuple[str, str]], sees_protected: bool) -> FormState:
    """The form filled in with a query (Super Search's pairs, or a refused form's own inputs): the first plain
    value of each main field in its input, every other filter in a row of its own, then empty rows."""
    state = FormState()
    filled: list[tuple[str, str, str]] = []
    raw_rows: dict[int, dict[str, str]] = {}
    columns, facets, sorts = [], [], []
    for name, value in pairs:
        if (row := _ROW.fullmatch(name)) is not None:
            if int(row[1]) < MAX_ROWS:
                raw_rows.setdefault(int(row[1]), {})[row[2]] = value
            continue
        if name in DATE_INPUTS:
            setattr(state, name, value)
            continue
        if name == "_columns":
            columns.append(value)
        elif name == "_facets":
            facets.append(value)
        elif name == "_sort":
            sorts.append(value)
        elif name == "_results_number":
            state.results_number = value
        elif name.startswith("_"):
            if name not in PAGING:
                state.hidden.append((name, value))
        elif (spec := _field(name, sees_protected)) is not None:
            operator, rest = split(spec, value)
            if name == "product" and not operator:
                state.products.append(rest)
            elif name in MAIN_FIELDS and not operator and not getattr(state, name):
                setattr(state, name, rest)
            elif name == "date" and operator in (">=", "<") and not getattr(state, DATE_FIELDS[operator]):
                setattr(state, DATE_FIELDS[operator], rest)
            else:
                filled.append((name, operator, rest))
    for number in sorted(raw_rows):
        got = raw_rows[number]
        if got.get("field") or got.get("value"):
            filled.append((got.get("field", ""), got.get("op", ""), got.get("value", "")))
    if columns:
        state.columns = columns
    if facets:
        state.facets = facets
    if sorts:
        state.sort = sorts[0]
        state.hidden.extend(("_sort", s) for s in sorts[1:])
    for number, (name, operator, value) in enumerate([*filled, *[("", "", "")] * EXTRA_ROWS]):
        spec = _field(name, sees_protected) if name else None
        state.rows.append(Row(number, name, operator, value, operators_of(spec)))
    return state


def choices(known: Sequence[str], chosen: str) -> list[str]:
    """A select's options: the known ones, and the chosen value if it is not among them."""
    return list(known) + ([chosen] if chosen and chosen not in known else [])


def platforms(chosen: str) -> list[str]:
    return choices(PLATFORMS, chosen)


def process_types(chosen: str) -> list[str]:
    spec = catalogue().get("process_type")
    return choices(spec.form_field_choices if spec is not None else (), chosen)
