"""The Super Search page's pure parts: the form's inputs into Super Search's parameters and back, and the links."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

import pytest

from crashcart.search.fields import catalogue
from crashcart.search.query import parse
from crashcart.web.pages import supersearch as ss
from crashcart.web.pages.topcrashers import term

NOW = dt.datetime(2026, 12, 8, 12, tzinfo=dt.UTC)


def _spec(name: str) -> ss.SearchField:
    spec = catalogue().get(name)
    assert spec is not None
    return spec


def test_a_submitted_form_becomes_super_search_parameters() -> None:
    form = [
        ("product", "Firefox"),
        ("product", "Thunderbird"),
        ("version", " 120.0 "),
        ("platform", ""),
        ("process_type", "content"),
        ("date_from", "2026-12-01"),
        ("date_to", ""),
        ("f0_field", "signature"),
        ("f0_op", "~"),
        ("f0_value", "OOM | small"),
        ("f1_field", "build_id"),
        ("f1_op", ">="),
        ("f1_value", "20231211093035"),
        ("f2_field", "reason"),
        ("f2_op", "!__null__"),
        ("f2_value", "ignored"),
        ("f3_field", ""),
        ("f3_op", ""),
        ("f3_value", ""),
        ("_columns", "uuid"),
        ("_columns", "signature"),
        ("_sort", "-date"),
        ("_facets", "platform"),
        ("_results_number", "25"),
        ("_results_offset", "50"),  # a new search starts at its first page
        ("_facets_size", "7"),  # carried in a hidden input
        ("csrfmiddlewaretoken", "x"),  # not Super Search's: dropped
    ]
    assert ss.is_form_submission(form)
    assert ss.translate(form, sees_protected=False) == [
        ("product", "Firefox"),
        ("product", "Thunderbird"),
        ("version", "120.0"),
        ("process_type", "content"),
        ("signature", "~OOM | small"),
        ("build_id", ">=20231211093035"),
        ("reason", "!__null__"),
        ("date", ">=2026-12-01"),
        ("_columns", "uuid"),
        ("_columns", "signature"),
        ("_sort", "-date"),
        ("_facets", "platform"),
        ("_results_number", "25"),
        ("_facets_size", "7"),
    ]
    # and Super Search takes what came out
    parse(ss.as_params(ss.translate(form, sees_protected=False)), catalogue(), allow_protected=False, now=NOW)


def test_a_canonical_query_is_not_a_form_submission() -> None:
    assert not ss.is_form_submission([("product", "Firefox"), ("signature", "~x"), ("_facets", "version")])
    assert not ss.is_form_submission([])
    assert ss.is_form_submission([("product", "")])  # an empty input: the form's
    assert ss.is_form_submission([("f0_field", "x")])


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("no_such_field", "=", "x"), "filter 1: unknown field 'no_such_field'"),
        (("x" * 10_000, "=", "x"), "filter 1: unknown field 'xxxx"),
        (("signature", ">", "x"), "filter 1: signature does not take the operator '>'"),
        (("product", "~", "Fire"), "filter 1: product does not take the operator 'contains'"),
        (("build_id", "@", "1.*"), "filter 1: build_id does not take the operator 'matches regex'"),
        (("signature", "<script>", "x"), "filter 1: signature does not take the operator '<script>'"),
        (("signature", "=", "x" * 10_000), "filter 1: the value is longer than 1,000 characters"),
        (("", "=", "orphan"), "filter 1: choose a field for the value 'orphan'"),
        (("signature", "", "!foo"), "filter 1: a value starting with '!foo' reads as an operator"),
        (("signature", "", "=foo"), "filter 1: a value starting with '=foo' reads as an operator"),
        (("url", "=", "https://x"), "filter 1: unknown field 'url'"),  # protected: not for this reader
    ],
)
def test_a_row_that_cannot_be_searched_is_a_clear_error(row: tuple[str, str, str], message: str) -> None:
    field, op, value = row
    with pytest.raises(ss.FormError) as caught:
        ss.translate([("f0_field", field), ("f0_op", op), ("f0_value", value)], sees_protected=False)
    assert str(caught.value).startswith(message), str(caught.value)
    assert len(str(caught.value)) < 300  # a 10,000-character input is not echoed back whole


def test_protected_fields_are_for_view_pii_only() -> None:
    row = [("f0_field", "url"), ("f0_op", "~"), ("f0_value", "example")]
    assert ss.translate(row, sees_protected=True) == [("url", "~example")]
    public = {f.name for f in ss.fields_for(False)}
    everything = {f.name for f in ss.fields_for(True)}
    assert {"url", "user_comments", "remote_type", "glean_client_id"} <= everything - public
    assert public == {name for name, f in catalogue().fields.items() if f.is_public}
    # a protected column asked for is not shown to a reader without view_pii
    asked = [("_columns", "uuid"), ("_columns", "url"), ("_columns", "uuid")]
    assert ss.shown_columns(asked, False) == ["uuid"]
    assert ss.shown_columns(asked, True) == ["uuid", "url"]


def test_other_main_inputs_and_overlong_values() -> None:
    with pytest.raises(ss.FormError, match="longer than 1,000"):
        ss.translate([("version", "9" * 10_000)], sees_protected=False)
    with pytest.raises(ss.FormError, match="reads as an operator"):
        ss.translate([("product", "!Firefox"), ("date_from", "")], sees_protected=False)
    # a row emptied removes its filter; a null test needs no value
    assert ss.translate([("f0_field", "signature"), ("f0_op", "~"), ("f0_value", " ")], False) == []
    assert ss.translate([("f0_field", "accessibility"), ("f0_op", "__true__"), ("f0_value", "")], False) == [
        ("accessibility", "__true__")
    ]


def test_operators_offered_are_the_fields_own() -> None:
    assert [code for code, _ in ss.operators_of(_spec("product"))] == ["", "__null__", "!", "!__null__"]
    codes = [code for code, _ in ss.operators_of(_spec("build_id"))]
    assert ">=" in codes and "~" not in codes and "!<" in codes
    assert dict(ss.operators_of(None))["!~"] == "not contains"


def test_results_number_is_bounded_on_the_page() -> None:
    assert ss.results_number([]) == 100
    assert ss.results_number([("_results_number", "2")]) == 2
    with pytest.raises(ss.FormError, match="greater than 100"):
        ss.results_number([("_results_number", "101")])


def test_form_state_shows_a_query_back() -> None:
    pairs = [
        ("product", "Firefox"),
        ("version", "120.0"),
        ("version", "121.0b3"),
        ("signature", "~OOM"),
        ("url", "~secret"),  # protected: neither a row nor kept for this reader
        ("date", ">=2026-12-01"),
        ("date", "<2026-12-08"),
        ("_sort", "-date"),
        ("_sort", "product"),
        ("_histogram.date", "product"),
        ("_results_offset", "100"),
    ]
    state = ss.form_state(pairs, sees_protected=False)
    assert state.products == ["Firefox"] and state.version == "120.0"
    assert (state.date_from, state.date_to) == ("2026-12-01", "2026-12-08")
    filled = [(r.field, r.op, r.value) for r in state.rows if r.field]
    assert filled == [("version", "", "121.0b3"), ("signature", "~", "OOM")]
    assert len(state.rows) == len(filled) + ss.EXTRA_ROWS
    assert state.sort == "-date" and state.hidden == [("_histogram.date", "product"), ("_sort", "product")]
    # submitting the form as shown gives the same search back
    form: list[tuple[str, str]] = [("product", p) for p in state.products]
    form += [("version", state.version), ("date_from", state.date_from), ("date_to", state.date_to)]
    for row in state.rows:
        n = row.number
        form += [(f"f{n}_field", row.field), (f"f{n}_op", row.op), (f"f{n}_value", row.value)]
    form += [("_sort", state.sort), *state.hidden]
    again = ss.translate(form, sees_protected=False)
    assert sorted(again) == sorted(p for p in pairs if p[0] not in ("url", "_results_offset"))


def test_pages_keep_the_whole_query() -> None:
    pairs = [("product", "Firefox"), ("signature", "=a & b"), ("_results_number", "2"), ("_results_offset", "4")]
    assert parse_qsl(ss.at_offset(pairs, 6)) == [*pairs[:3], ("_results_offset", "6")]
    assert parse_qsl(ss.at_offset(pairs, 0)) == pairs[:3]
    keyset = [*pairs[:3], ("_cursor", "old")]
    assert parse_qsl(ss.after_cursor(keyset, "next&=")) == [*pairs[:3], ("_cursor", "next&=")]


def test_a_term_super_search_cannot_read_back_gets_no_link() -> None:
    facets = {
        "product": [{"term": "!Firefox", "count": 1}, {"term": "__null__x", "count": 1}, {"term": "F", "count": 2}]
    }
    facets["signature"] = [{"term": "!x", "count": 1}]
    facets["accessibility"] = [{"term": "F", "count": 1}]
    product, signature, accessibility = ss.facet_tables(facets, [], sees_protected=False)
    assert [b.href for b in product.buckets] == [None, None, "?product=F"]
    assert signature.buckets[0].href == "?signature=%3D%21x"
    assert accessibility.buckets[0].href == "?accessibility=%21__true__"


def test_a_facet_link_narrows_with_the_fields_own_operator() -> None:
    pairs = [
        ("product", "Firefox"),
        ("product", "Thunderbird"),
        ("build_id", ">=1"),
        ("_results_offset", "100"),
    ]
    # an enum: the plain value, the field's other (OR'ed) values give way, its ranges stay
    assert parse_qsl(ss.narrowed(pairs, "product", "Firefox")) == [("build_id", ">=1"), ("product", "Firefox")]
    assert parse_qsl(ss.narrowed(pairs, "build_id", "5")) == [*pairs[:2], ("build_id", ">=1"), ("build_id", "5")]
    hostile = "</a><script>x</script> | =!~@"
    assert parse_qsl(ss.narrowed(pairs, "signature", hostile))[-1] == ("signature", "=" + hostile)
    assert term("accessibility", "T") == "__true__" and term("accessibility", "F") == "!__true__"
    assert term("cpu_arch", "amd64") == "amd64"  # an enum the old hand-kept list missed
    assert term("process_type", "content") == "=content"
    for name, value in [("product", "Firefox"), ("signature", hostile), ("build_id", "5"), ("cpu_arch", "x86")]:
        query = parse({name: [term(name, value)]}, catalogue(), allow_protected=False, now=NOW)
        (only,) = query.filters
        assert only.field.name == name and only.any_of[0].value in (value, 5) and not only.any_of[0].negated


def test_result_rows_and_facets() -> None:
    hits = [{"uuid": "abc", "signature": "a&b", "addons": ["x", "y"], "version": None}]
    rows = ss.result_rows(hits, ["uuid", "signature", "addons", "version"])
    assert [(c.text, c.href) for c in rows[0]] == [
        ("abc", "/report/index/abc"),
        ("a&b", "/signature/?signature=a%26b"),
        ("x, y", None),
        ("", None),
    ]
    facets = {
        "platform": [{"term": "Linux", "count": 3}],
        "url": [{"term": "secret", "count": 1}],  # (not sent to this reader; never linked if it were)
        "cardinality_install_time": {"value": 4},
    }
    tables = ss.facet_tables(facets, [("product", "Firefox")], sees_protected=False)
    assert tables[0].buckets[0] == ss.Bucket("Linux", 3, "?product=Firefox&platform=Linux")
    assert tables[1].buckets[0].href is None
    assert tables[2].value == 4
