"""Top crashers' pure parts: the form, the two searches, and the rows with ranks, shares and their changes."""

from __future__ import annotations

import datetime as dt

import pytest

from crashcart.web.pages import topcrashers as tc

NOW = dt.datetime(2026, 12, 7, 15, 42, tzinfo=dt.UTC)


def test_form_defaults_and_refusals() -> None:
    chosen = tc.form({}, "Firefox")
    assert (chosen.product, chosen.days, chosen.size, chosen.versions, dict(chosen.filters)) == (
        "Firefox", 7, 50, (), {},
    )  # fmt: skip
    chosen = tc.form({"product": ["Fenix"], "version": ["120.0", "120.0", " "], "days": ["28"],
                      "platform": ["Linux"], "other": ["x"]}, "Firefox")  # fmt: skip
    assert (chosen.product, chosen.versions, chosen.days, dict(chosen.filters)) == (
        "Fenix", ("120.0",), 28, {"platform": "Linux"},
    )  # fmt: skip
    for bad in ({"days": ["5"]}, {"days": ["-1"]}, {"_facets_size": ["10000"]}, {"product": ["x" * 300]}):
        with pytest.raises(tc.FormError):
            tc.form(bad, "Firefox")
    with pytest.raises(tc.FormError, match="no product"):
        tc.form({}, None)


def test_two_periods_of_the_same_length_end_to_end() -> None:
    current, previous = tc.searches(tc.form({"days": ["3"], "version": ["1.0"]}, "Firefox"), NOW)
    assert current["date"] == [">=2026-12-04T16:00:00+00:00", "<2026-12-07T16:00:00+00:00"]
    assert previous["date"] == [">=2026-12-01T16:00:00+00:00", "<2026-12-04T16:00:00+00:00"]
    assert current["product"] == ["Firefox"] and current["version"] == ["1.0"]  # enum fields: no operator
    assert current["_aggs.signature"] == ["platform", "_cardinality.install_time"]
    assert previous["_facets_size"] == [str(tc.PREVIOUS_DEPTH)]


def test_rows_rank_share_changes_new_and_bugs() -> None:
    current = {
        "total": 100,
        "facets": {
            "signature": [
                {"term": "b", "count": 60, "facets": {"platform": [{"term": "Linux", "count": 60}],
                                                     "cardinality_install_time": {"value": 12}}},
                {"term": "a", "count": 30, "facets": {}},
                {"term": "c", "count": 10, "facets": {}},
            ]
        },
    }  # fmt: skip
    previous = {"total": 50, "facets": {"signature": [{"term": "a", "count": 40}, {"term": "b", "count": 10}]}}
    start = NOW - dt.timedelta(days=7)
    first_seen = {"c": NOW - dt.timedelta(days=1), "a": NOW - dt.timedelta(days=100)}
    rows = tc.rows(current, previous, first_seen, {"a": [7, 3]}, start)
    assert [(r.signature, r.rank, r.rank_change) for r in rows] == [("b", 1, 1), ("a", 2, -1), ("c", 3, None)]
    assert rows[0].share == pytest.approx(60.0) and rows[0].share_change == pytest.approx(40.0)
    assert rows[1].share_change == pytest.approx(-50.0) and rows[1].bugs == [3, 7]
    assert rows[0].platforms == {"Linux": 60} and rows[0].installs == 12
    assert rows[2].is_new and not rows[1].is_new and rows[0].first_seen is None
