"""The Super Search parser: Socorro's operators, types, dates, meta parameters and messages (pure, no database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crashcart.errors import BadArgumentError, CrashcartError
from crashcart.search import cursor as cursors
from crashcart.search.fields import catalogue
from crashcart.search.query import (
    MAX_RESULTS_OFFSET,
    TOO_COMPLEX,
    Clause,
    DateRange,
    Interval,
    SearchQuery,
    parse,
    words,
)

NOW = dt.datetime(2031, 3, 15, 12, 0, 0, tzinfo=dt.UTC)
UTC = dt.UTC


def q(allow_protected: bool = True, **params: str | Sequence[str]) -> SearchQuery:
    values = {k.replace("__", "."): [v] if isinstance(v, str) else list(v) for k, v in params.items()}
    return parse(values, catalogue(), allow_protected=allow_protected, now=NOW)


def clauses(query: SearchQuery, name: str) -> tuple[tuple[Clause, ...], tuple[Clause, ...]]:
    (flt,) = [f for f in query.filters if f.field.name == name]
    return flt.any_of, flt.all_of


# --- operators per type -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("OOM", Clause("", "OOM")),
        ("=OOM | small", Clause("=", "OOM | small")),
        ("~GC", Clause("~", "GC")),
        ("^OOM", Clause("^", "OOM")),
        ("$Send", Clause("$", "Send")),
        ("@OOM.*", Clause("@", "OOM.*")),
        ("__null__", Clause("__null__", None)),
        ("!__null__", Clause("__null__", None, negated=True)),
        ("!~GC", Clause("~", "GC", negated=True)),
        ("!=x", Clause("=", "x", negated=True)),
        ("~", Clause("~", "")),
        (">x", Clause("", ">x")),  # ranges are not string operators: the prefix stays in the value
    ],
)
def test_string_operators(value: str, expected: Clause) -> None:
    any_of, all_of = clauses(q(signature=value), "signature")
    assert any_of == (expected,) and all_of == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Firefox", Clause("", "Firefox")),
        ("=Firefox", Clause("", "=Firefox")),  # '=' is not an enum operator: folded into the value
        ("~Fire", Clause("", "~Fire")),
        ("!Firefox", Clause("", "Firefox", negated=True)),
        ("__null__", Clause("__null__", None)),
    ],
)
def test_enum_operators(value: str, expected: Clause) -> None:
    assert clauses(q(product=value), "product")[0] == (expected,)


def test_numbers_ranges_are_anded_and_plain_values_ored() -> None:
    any_of, all_of = clauses(q(build_id=[">=20231201093000", "<20240101000000", "20231215000000", "!5"]), "build_id")
    assert all_of == (Clause(">=", 20231201093000), Clause("<", 20240101000000))
    assert any_of == (Clause("", 20231215000000), Clause("", 5, negated=True))
    any_of, all_of = clauses(q(uptime_ts=["<=1.5", ">-2", "__null__"]), "uptime_ts")
    assert all_of == (Clause("<=", 1.5), Clause(">", -2.0))
    assert any_of == (Clause("__null__", None),)


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("build_id", "abc", "int"),
        ("build_id", "~12", "int"),
        ("build_id", "1.5", "int"),
        ("build_id", "9" * 30, "int"),
        ("build_id", "١٢", "int"),
        ("uptime_ts", "nan", "float"),
        ("uptime_ts", "inf", "float"),
        ("uptime_ts", "x", "float"),
        ("date", ">yesterday", "datetime"),
        ("date", ">2031-02-30", "datetime"),
    ],
)
def test_values_of_the_wrong_type_are_refused_with_socorros_message(name: str, value: str, kind: str) -> None:
    with pytest.raises(BadArgumentError, match=rf"^Bad value for parameter {name}: not a valid {kind}$"):
        q(**{name: value})


def test_booleans() -> None:
    assert clauses(q(startup_crash="__true__"), "startup_crash")[0] == (Clause("__true__", None),)
    assert clauses(q(startup_crash="!__true__"), "startup_crash")[0] == (Clause("__true__", None, negated=True),)
    assert clauses(q(startup_crash="true"), "startup_crash")[0] == (Clause("", True),)
    assert clauses(q(startup_crash="no"), "startup_crash")[0] == (Clause("", False),)


def test_beta_versions_become_starts_with() -> None:
    any_of, _ = clauses(q(version=["120.0b", "!121.0b", "120.0", "=120.0b"]), "version")
    assert any_of == (
        Clause("^", "120.0b"),
        Clause("^", "121.0b", negated=True),
        Clause("", "120.0"),
        Clause("^", "=120.0b"),  # Socorro's too: '=' is part of an enum's value, and it ends with 'b'
    )


def test_unknown_parameters_and_empty_values_are_ignored() -> None:
    query = q(nonsense="1", signature=["", "!"], _unknown_meta="x", _aggs__nope="product")
    assert query.filters == ()
    assert [a.key for a in query.aggregations] == ["signature"]


def test_words() -> None:
    assert words("js::GCMarker::markDelayedChildren | OOM_small, Ünïcode") == [
        "js",
        "gcmarker",
        "markdelayedchildren",
        "oom_small",
        "ünïcode",
    ]
    with pytest.raises(BadArgumentError, match="no word"):
        q(signature="|| ::")


def test_regular_expressions_are_checked() -> None:
    with pytest.raises(BadArgumentError, match="not a valid regular expression"):
        q(signature="@(unclosed")
    with pytest.raises(BadArgumentError, match=r"^Search query is too complex"):
        q(signature="@" + "a" * 1001)


# --- dates --------------------------------------------------------------------------------------------


def test_default_date_range_is_the_last_seven_days() -> None:
    assert q().date_range == DateRange(NOW - dt.timedelta(days=7), NOW)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([">=2031-03-01"], DateRange(dt.datetime(2031, 3, 1, tzinfo=UTC), NOW)),
        (
            ["<2031-03-05"],
            DateRange(dt.datetime(2031, 2, 26, tzinfo=UTC), dt.datetime(2031, 3, 5, tzinfo=UTC), True, False),
        ),
        (
            [">=2031-03-01", ">2031-03-02T10:00:00Z", "<=2031-03-09 23:59:59", "<2031-03-10"],
            DateRange(
                dt.datetime(2031, 3, 2, 10, tzinfo=UTC), dt.datetime(2031, 3, 9, 23, 59, 59, tzinfo=UTC), False, True
            ),
        ),
        (
            [">=2031-03-02T10:00:00+02:00", "<2031-03-03T00:00:00.5"],
            DateRange(
                dt.datetime(2031, 3, 2, 8, tzinfo=UTC),
                dt.datetime(2031, 3, 3, 0, 0, 0, 500000, tzinfo=UTC),
                True,
                False,
            ),
        ),
        ([">2031-03-02", ">=2031-03-02"], DateRange(dt.datetime(2031, 3, 2, tzinfo=UTC), NOW, False, True)),
        (
            ["!<2031-03-02", "!>2031-03-04"],
            DateRange(dt.datetime(2031, 3, 2, tzinfo=UTC), dt.datetime(2031, 3, 4, tzinfo=UTC)),
        ),
        ([">=2031-03-02", "__null__"], DateRange(dt.datetime(2031, 3, 2, tzinfo=UTC), NOW)),
    ],
)
def test_date_bounds(values: list[str], expected: DateRange) -> None:
    assert q(date=values).date_range == expected
    assert all(f.field.name != "date" for f in q(date=values).filters)


def test_date_errors() -> None:
    with pytest.raises(BadArgumentError, match=r"^date must have a prefix operator$"):
        q(date="2031-03-01")
    with pytest.raises(BadArgumentError, match=r"^Date range is bigger than 365 days$"):
        q(date=">=2029-03-01")
    q(date=[">=2030-03-15T12:00:00"])  # exactly 365 days is allowed


# --- meta parameters ----------------------------------------------------------------------------------


def test_defaults() -> None:
    query = q()
    assert [f.name for f in query.columns] == ["uuid", "date", "signature", "product", "version"]
    assert [(k.field.name, k.descending) for k in query.sort] == [("uuid", False)]
    assert [(a.kind, a.key) for a in query.aggregations] == [("terms", "signature")]
    assert (query.facets_size, query.results_number, query.results_offset, query.cursor) == (50, 100, 0, None)


def test_columns_and_sort() -> None:
    query = q(_columns=["uuid", "url", "addons"], _sort=["-date", "product", "-date", "url"])
    assert [f.name for f in query.columns] == ["uuid", "url", "addons"]
    assert [(k.field.name, k.descending) for k in query.sort] == [
        ("date", True),
        ("product", False),
        ("url", False),
        ("uuid", False),
    ]
    assert [(k.field.name, k.descending) for k in q(_sort="-uuid").sort] == [("uuid", True)]
    for name in ("_columns", "_sort", "_facets"):
        with pytest.raises(BadArgumentError, match=r"^Unknown field 'nope'$"):
            q(**{name: "nope"})
    with pytest.raises(BadArgumentError, match=r"^Unknown field 'xxxx.*…'$"):
        q(_columns="x" * 100_000)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"_results_number": "1001"}, "_results_number cannot be greater than 1,000"),
        ({"_results_number": "-1"}, "_results_number cannot be negative"),
        ({"_results_number": "ten"}, "Bad value for parameter _results_number: not a valid int"),
        ({"_facets_size": "10001"}, "_facets_size greater than 10,000"),
        ({"_facets_size": "-1"}, "_facets_size cannot be negative"),
        ({"_results_offset": "-1"}, "_results_offset cannot be negative"),
        ({"_results_offset": str(MAX_RESULTS_OFFSET + 1)}, "_results_offset cannot be greater than 1,000,000"),
        ({"_histogram_interval__date": "fortnight", "_histogram__date": "product"}, "not a valid interval"),
        ({"_histogram_interval__uptime": "0", "_histogram__uptime": "product"}, "not a valid number"),
        ({"_histogram_interval__date": "1s", "_histogram__date": "product"}, "^Search query is too complex"),
        ({"_aggs__product__version__platform__signature__cpu_arch": "x"}, "^Search query is too complex"),
        ({"_facets": "date"}, "Field 'date' cannot be aggregated"),
        ({"signature": ["x"] * 1001}, "^Search query is too complex"),
        ({"signature": "x" * 40_000}, "^Search query is too complex"),
        ({"signature": "a\x00b"}, "not valid text"),
        ({"signature": " ".join(["w"] * 65)}, "^Search query is too complex"),
    ],
)
def test_meta_errors(params: dict[str, str | list[str]], message: str) -> None:
    with pytest.raises(BadArgumentError, match=message):
        q(**params)


def test_no_ten_thousand_ceiling() -> None:
    assert q(_results_offset="50000", _results_number="1000").results_offset == 50_000


def test_facets_size_zero_turns_every_aggregation_off() -> None:
    query = q(_facets_size="0", _facets="product", _aggs__product="version", _histogram__date="product")
    assert query.aggregations == ()


def test_aggregations() -> None:
    query = q(
        _facets=["product", "_cardinality.install_time", "_histogram.uptime", "_histogram.signature"],
        _aggs__product__version=["_cardinality.install_time", "platform", "_histogram.date"],
        _histogram__date=["product", "_cardinality.signature"],
        _histogram_interval__date="6h",
        _histogram_interval__uptime="100",
    )
    by_key = {a.key: a for a in query.aggregations}
    assert list(by_key) == ["product", "cardinality_install_time", "histogram_uptime", "histogram_date"]
    assert by_key["histogram_uptime"].interval == Interval(step=100)
    product = by_key["product"]
    (version,) = product.children  # _aggs.product replaced the plain product facet
    assert version.key == "version"
    assert [c.key for c in version.children] == ["cardinality_install_time", "platform", "histogram_date"]
    assert version.children[2].interval == Interval(seconds=6 * 3600)
    assert [c.key for c in by_key["histogram_date"].children] == ["product", "cardinality_signature"]
    assert q(_histogram__date="product").aggregations[-1].interval == Interval(calendar="day")
    assert q(_histogram__date="product", _histogram_interval__date="1M").aggregations[-1].interval == Interval(
        calendar="month"
    )
    assert q(_histogram__uptime_ts="product").aggregations[-1].interval == Interval(step=1.0)


def test_protected_fields_are_dropped_without_permission() -> None:
    params: dict[str, Any] = {
        "url": "~x",
        "user_comments": "crash",
        "_columns": ["uuid", "url", "signature"],
        "_sort": ["url", "-date"],
        "_facets": ["url", "_cardinality.user_comments", "product"],
        "_aggs__url": "product",
        "_aggs__product": ["url", "version"],
        "_histogram__date": ["url", "platform"],
    }
    public = q(allow_protected=False, **params)
    assert public.filters == ()
    assert [f.name for f in public.columns] == ["uuid", "signature"]
    assert [k.field.name for k in public.sort] == ["date", "uuid"]
    keys = {a.key: a for a in public.aggregations}
    assert list(keys) == ["product", "histogram_date"]
    assert [c.key for c in keys["product"].children] == ["version"]
    assert [c.key for c in keys["histogram_date"].children] == ["platform"]
    full = q(allow_protected=True, **params)
    assert {f.field.name for f in full.filters} == {"url", "user_comments"}
    assert {a.key for a in full.aggregations} == {"url", "cardinality_user_comments", "product", "histogram_date"}


def test_cursor_round_trip_and_refusals() -> None:
    sort = (("date", True), ("uuid", False))
    token = cursors.encode(sort, [dt.datetime(2031, 3, 1, tzinfo=UTC), "abc"])
    assert q(_sort="-date", _cursor=token).cursor == ("2031-03-01T00:00:00+00:00", "abc")
    assert q(_sort="-date", _cursor=token, _results_offset="1000").results_offset == 0
    for bad in ["", "!!!", "e30", cursors.encode(sort, [1]), "A" * 70_000]:
        if bad:
            with pytest.raises(BadArgumentError, match="_cursor"):
                q(_sort="-date", _cursor=bad)
    with pytest.raises(BadArgumentError, match="another _sort"):
        q(_sort="date", _cursor=token)
    with pytest.raises(BadArgumentError, match="_cursor"):
        q(_sort="-date", _cursor=cursors.encode(sort, ["not a date", "abc"]))


def test_bad_argument_error_is_a_crashcart_error() -> None:
    error = BadArgumentError(TOO_COMPLEX)
    assert isinstance(error, CrashcartError) and error.code == "bad_argument" and error.message == TOO_COMPLEX


# --- anything at all ----------------------------------------------------------------------------------

NAMES = [
    "signature", "product", "version", "date", "build_id", "uptime_ts", "startup_crash", "addons", "url", "uuid",
    "_columns", "_sort", "_facets", "_facets_size", "_results_number", "_results_offset", "_cursor",
    "_aggs.product", "_aggs.product.version", "_histogram.date", "_histogram_interval.date",
    "_histogram.uptime", "_histogram_interval.uptime", "_cardinality.signature",
]  # fmt: skip
PREFIXES = ["", "!", "=", "~", "^", "$", "@", ">", ">=", "<", "<=", "__null__", "__true__", "!>", "_histogram."]
VALUE = st.builds(
    lambda prefix, text: prefix + text,
    st.sampled_from(PREFIXES),
    st.one_of(
        st.text(max_size=30),
        st.sampled_from(["2031-03-01", "2031-03-01T00:00:00Z", "120.0b", "signature", "12", "-3.5", "product"]),
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(NAMES), st.lists(VALUE, max_size=4), max_size=6), st.booleans())
def test_any_parameters_parse_or_raise_bad_argument(params: dict[str, list[str]], allow: bool) -> None:
    try:
        query = parse(params, catalogue(), allow_protected=allow, now=NOW)
    except BadArgumentError as exc:
        assert exc.message and len(exc.message) < 300
        return
    assert query.date_range.end - query.date_range.start <= dt.timedelta(days=365)
    assert query.sort[-1].field.name == "uuid" or any(k.field.name == "uuid" for k in query.sort)
    assert 0 <= query.results_number <= 1000 and 0 <= query.facets_size <= 10_000
    if not allow:
        assert all(f.field.permission == "public" for f in query.filters)
        assert all(f.permission == "public" for f in query.columns)
