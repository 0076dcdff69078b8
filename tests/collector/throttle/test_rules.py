"""Compiled rules and decide: every condition, results and sampling, and never raising on any value."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crashcart.collector.throttle import ACCEPT_EVERYTHING_RULE, NO_MATCH_RULE, ConditionSpec, Decision, ThrottleRules
from crashcart.crashid import Throttle
from tests.collector.throttle import EXAMPLE, EXAMPLE_RULES, NOW, build_id, matches, one_rule

# --- conditions -----------------------------------------------------------------------------------------

CONDITION_CASES: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    # equals / not_equals
    ({"equals": "Firefox"}, {"K": "Firefox"}, True),
    ({"equals": "Firefox"}, {"K": "firefox"}, False),
    ({"equals": "Firefox"}, {"K": "Firefox "}, False),
    ({"equals": "Firefox"}, {}, False),
    ({"equals": "0"}, {"K": 0}, True),
    ({"equals": 0}, {"K": "0"}, True),
    ({"equals": "true"}, {"K": True}, True),
    ({"equals": "null"}, {"K": None}, True),
    ({"equals": '{"a":1}'}, {"K": {"a": 1}}, True),
    ({"not_equals": "beta"}, {"K": "release"}, True),
    ({"not_equals": "beta"}, {"K": "beta"}, False),
    ({"not_equals": "beta"}, {}, False),
    ({"not_equals": "1"}, {"K": 2}, True),
    # in / not_in
    ({"in": ["gpu", "rdd"]}, {"K": "gpu"}, True),
    ({"in": ["gpu", "rdd"]}, {"K": "tab"}, False),
    ({"in": ["gpu", "rdd"]}, {}, False),
    ({"in": ["1", 2]}, {"K": 2}, True),
    ({"not_in": ["MyApp"]}, {"K": "Other"}, True),
    ({"not_in": ["MyApp"]}, {"K": "MyApp"}, False),
    ({"not_in": ["MyApp"]}, {}, False),
    ({"not_in": ["1"]}, {"K": [1]}, True),
    # regex / not_regex (full match)
    ({"regex": "nightly(-.*)?"}, {"K": "nightly-try"}, True),
    ({"regex": "nightly"}, {"K": "my-nightly"}, False),
    ({"regex": "nightly"}, {"K": "nightly2"}, False),
    ({"regex": ".*"}, {}, False),
    ({"regex": "[0-9]+"}, {"K": 42}, True),
    ({"regex": r"\[.*\]"}, {"K": [1, "a"]}, True),
    ({"not_regex": "[0-9.]+"}, {"K": "1.2x"}, True),
    ({"not_regex": "[0-9.]+"}, {"K": "1.2"}, False),
    ({"not_regex": "[0-9.]+"}, {}, False),
    # missing / exists
    ({"missing": True}, {}, True),
    ({"missing": True}, {"K": ""}, False),
    ({"missing": True}, {"K": None}, False),
    ({"missing": False}, {"K": ""}, True),
    ({"missing": False}, {}, False),
    ({"exists": True}, {"K": {"nested": 1}}, True),
    ({"exists": True}, {}, False),
    ({"exists": False}, {}, True),
    ({"exists": False}, {"K": "x"}, False),
    ({"exists": True, "missing": False}, {"K": "x"}, True),
    # numbers
    ({"gt": 5}, {"K": "10"}, True),
    ({"gt": 5}, {"K": "5"}, False),
    ({"gt": 5}, {"K": 7}, True),
    ({"gt": 5}, {"K": 5.5}, True),
    ({"gt": 5}, {"K": " 12 "}, True),
    ({"gt": 999}, {"K": "1e3"}, True),
    ({"gt": 5}, {"K": "abc"}, False),
    ({"gt": 5}, {"K": "nan"}, False),
    ({"gt": 5}, {"K": "1_000"}, False),
    ({"gt": 5}, {"K": "٣٣"}, False),
    ({"gt": 0}, {"K": True}, False),
    ({"gt": 0}, {"K": {"a": 1}}, False),
    ({"gt": 0}, {"K": float("nan")}, False),
    ({"gt": 0}, {}, False),
    ({"ge": 5}, {"K": "5"}, True),
    ({"ge": 5}, {"K": "4.99"}, False),
    ({"lt": 5}, {"K": "4.5"}, True),
    ({"lt": 5}, {"K": "5"}, False),
    ({"lt": 5}, {"K": "-1"}, True),
    ({"le": 5}, {"K": "5.0"}, True),
    ({"le": 5}, {"K": "5.01"}, False),
    ({"le": 9007199254740993}, {"K": "9007199254740993"}, True),
    ({"lt": 9007199254740993}, {"K": "9007199254740993"}, False),
    ({"ge": 0, "lt": 10}, {"K": "3"}, True),
    ({"ge": 0, "lt": 10}, {"K": "10"}, False),
    # versions
    ({"version_lt": "121.0"}, {"K": "120.0.1"}, True),
    ({"version_lt": "121.0"}, {"K": "121.0"}, False),
    ({"version_lt": "121.0"}, {"K": "121.0b3"}, True),
    ({"version_le": "121.0"}, {"K": "121"}, True),
    ({"version_le": "121.0"}, {"K": "121.0.1"}, False),
    ({"version_gt": "121.0"}, {"K": "121.0.1"}, True),
    ({"version_gt": "121.0"}, {"K": "121.0rc1"}, False),
    ({"version_ge": "121.0"}, {"K": "121.0esr"}, True),
    ({"version_ge": "2"}, {"K": 10}, True),
    ({"version_ge": "1.0"}, {"K": "not a version"}, False),
    ({"version_ge": "1.0"}, {"K": None}, False),
    ({"version_ge": "1.0"}, {}, False),
    ({"version_ge": "121.0", "version_lt": "122.0"}, {"K": "121.5"}, True),
    # build age (NOW is fixed)
    ({"build_age_days_gt": 730}, {"K": build_id(731)}, True),
    ({"build_age_days_gt": 730}, {"K": build_id(729)}, False),
    ({"build_age_days_gt": 730}, {"K": int(build_id(800))}, True),
    ({"build_age_days_gt": 730}, {"K": "2020"}, False),
    ({"build_age_days_gt": 730}, {"K": "20201340000000"}, False),
    ({"build_age_days_gt": 730}, {"K": "2020010100000x"}, False),
    ({"build_age_days_gt": 730}, {"K": "202001010000000"}, False),
    ({"build_age_days_gt": 730}, {"K": True}, False),
    ({"build_age_days_gt": 730}, {}, False),
    ({"build_age_days_lt": 7}, {"K": build_id(3)}, True),
    ({"build_age_days_lt": 7}, {"K": build_id(10)}, False),
    ({"build_age_days_lt": 7}, {"K": build_id(-2)}, True),
    ({"build_age_days_gt": 1, "build_age_days_lt": 7}, {"K": build_id(0.5)}, False),
    # case-insensitive flag
    ({"equals": "Firefox", "case_insensitive": True}, {"K": "FIREFOX"}, True),
    ({"not_equals": "Firefox", "case_insensitive": True}, {"K": "firefox"}, False),
    ({"in": ["Beta", "Release"], "case_insensitive": True}, {"K": "beta"}, True),
    ({"not_in": ["MyApp"], "case_insensitive": True}, {"K": "MYAPP"}, False),
    ({"regex": "nightly.*", "case_insensitive": True}, {"K": "Nightly-Try"}, True),
    ({"not_regex": "nightly.*", "case_insensitive": True}, {"K": "NIGHTLY"}, False),
    ({"equals": "straße", "case_insensitive": True}, {"K": "STRASSE"}, True),
]


@pytest.mark.parametrize(("condition", "annotations", "expected"), CONDITION_CASES)
def test_condition(condition: dict[str, Any], annotations: dict[str, Any], expected: bool) -> None:
    assert matches(condition, annotations) is expected


def test_every_condition_kind_has_a_true_and_a_false_case() -> None:
    kinds = {name for name in ConditionSpec.model_fields if name != "case_insensitive"} | {"in"}
    kinds.discard("in_")
    seen: dict[str, set[bool]] = {kind: set() for kind in kinds}
    for condition, _, expected in CONDITION_CASES:
        for kind in condition:
            if kind in seen:
                seen[kind].add(expected)
    assert {kind: outcomes for kind, outcomes in seen.items() if outcomes != {True, False}} == {}


def test_all_conditions_of_a_rule_must_hold() -> None:
    rules = ThrottleRules.from_dict(
        {
            "rules": [
                {
                    "name": "both",
                    "when": {"ProductName": {"equals": "MyApp"}, "ReleaseChannel": {"equals": "beta"}},
                    "result": "reject",
                }
            ]
        }
    )
    assert rules.decide({"ProductName": "MyApp", "ReleaseChannel": "beta"}, NOW).rule == "both"
    assert rules.decide({"ProductName": "MyApp", "ReleaseChannel": "release"}, NOW).rule == NO_MATCH_RULE
    assert rules.decide({"ReleaseChannel": "beta"}, NOW).rule == NO_MATCH_RULE


def test_naive_now_is_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    rules = ThrottleRules.from_dict(
        one_rule(when={"BuildID": {"build_age_days_lt": 1}}, result="reject") | {"default": "accept"}
    )
    built = (NOW - dt.timedelta(hours=23)).strftime("%Y%m%d%H%M%S")
    assert rules.decide({"BuildID": built}, naive).result is Throttle.REJECT
    other_zone = NOW.astimezone(dt.timezone(dt.timedelta(hours=-8)))
    assert rules.decide({"BuildID": built}, other_zone).result is Throttle.REJECT


# --- results, sampling, order ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "throttle"),
    [
        ("accept", Throttle.ACCEPT),
        ("defer", Throttle.DEFER),
        ("reject", Throttle.REJECT),
        ("fakeaccept", Throttle.FAKEACCEPT),
    ],
)
def test_fixed_results(result: str, throttle: Throttle) -> None:
    rules = ThrottleRules.from_dict(one_rule(result=result))
    assert rules.decide({}, NOW) == Decision(throttle, "the_rule", None)


def test_first_decisive_rule_wins() -> None:
    rules = ThrottleRules.from_dict(
        {
            "rules": [
                {"name": "no", "when": {"A": {"equals": "x"}}, "result": "reject"},
                {"name": "first", "when": {"B": {"exists": True}}, "result": "defer"},
                {"name": "second", "when": {"B": {"exists": True}}, "result": "reject"},
            ]
        }
    )
    assert rules.decide({"B": "1"}, NOW) == Decision(Throttle.DEFER, "first", None)


def test_continue_falls_through() -> None:
    rules = ThrottleRules.from_dict(
        {
            "rules": [
                {"name": "noop", "result": "continue"},
                {"name": "next", "when": {"A": {"equals": "1"}}, "result": "fakeaccept"},
                {"name": "last", "result": "reject"},
            ]
        }
    )
    assert rules.decide({"A": "1"}, NOW).rule == "next"
    assert rules.decide({"A": "2"}, NOW).rule == "last"


@pytest.mark.parametrize("default", ["accept", "defer", "reject", "fakeaccept"])
def test_default_when_nothing_decides(default: str) -> None:
    rules = ThrottleRules.from_dict(
        {"default": default, "rules": [{"name": "r", "when": {"A": {"missing": False}}, "result": "accept"}]}
    )
    decision = rules.decide({}, NOW)
    assert decision == Decision(Throttle[default.upper()], NO_MATCH_RULE, None)
    assert rules.default is Throttle[default.upper()]


def test_default_default_is_accept() -> None:
    assert ThrottleRules.from_dict({"rules": []}).decide({}, NOW) == Decision(Throttle.ACCEPT, NO_MATCH_RULE)


def sampler(percent: float, then: str = "accept", otherwise: str = "reject") -> ThrottleRules:
    return ThrottleRules.from_dict(
        {
            "default": "defer",
            "rules": [{"name": "s", "sample": {"percent": percent, "then": then, "else": otherwise}}],
        }
    )


@pytest.mark.parametrize("percent", [10, 33.3, 50, 90])
def test_sampling_proportion(percent: float) -> None:
    rules = sampler(percent)
    rng = random.Random(1234)
    decisions = [rules.decide({}, NOW, rng) for _ in range(10_000)]
    accepted = sum(decision.result is Throttle.ACCEPT for decision in decisions) / len(decisions)
    assert abs(accepted - percent / 100) < 0.02  # > 4 standard deviations at n = 10,000
    assert {decision.percent for decision in decisions} == {percent}
    assert {decision.rule for decision in decisions} == {"s"}


def test_sampling_is_repeatable_with_a_seed() -> None:
    rules = sampler(50)
    first = [rules.decide({}, NOW, random.Random(7)).result for _ in range(20)]
    rng_a, rng_b = random.Random(99), random.Random(99)
    assert [rules.decide({}, NOW, rng_a) for _ in range(200)] == [rules.decide({}, NOW, rng_b) for _ in range(200)]
    assert len(set(first)) == 1


class Extremes(random.Random):
    """Draws only the edge values 0.0 and the largest float below 1.0."""

    def random(self) -> float:
        return 0.0 if super().random() < 0.5 else 1.0 - 2**-53


def test_percent_0_and_100_are_exact() -> None:
    rng = Extremes(3)
    assert {sampler(0).decide({}, NOW, rng).result for _ in range(2_000)} == {Throttle.REJECT}
    assert {sampler(100).decide({}, NOW, rng).result for _ in range(2_000)} == {Throttle.ACCEPT}


def test_sampling_continue_falls_through() -> None:
    rules = ThrottleRules.from_dict(
        {
            "rules": [
                {"name": "keep_some", "sample": {"percent": 30, "then": "continue", "else": "reject"}},
                {"name": "rest", "sample": {"percent": 100, "then": "accept", "else": "continue"}},
            ]
        }
    )
    rng = random.Random(5)
    decisions = [rules.decide({}, NOW, rng) for _ in range(5_000)]
    by_rule = {(d.rule, d.result, d.percent) for d in decisions}
    assert by_rule == {("keep_some", Throttle.REJECT, 30.0), ("rest", Throttle.ACCEPT, 100.0)}
    kept = sum(d.rule == "rest" for d in decisions) / len(decisions)
    assert abs(kept - 0.30) < 0.03


def test_sampling_without_rng_uses_the_random_module() -> None:
    assert sampler(100).decide({}, NOW).result is Throttle.ACCEPT
    assert sampler(0).decide({}, NOW).result is Throttle.REJECT


def test_sampling_only_applies_when_the_rule_matches() -> None:
    rules = ThrottleRules.from_dict(
        {
            "rules": [
                {
                    "name": "s",
                    "when": {"A": {"exists": True}},
                    "sample": {"percent": 0, "then": "accept", "else": "reject"},
                }
            ]
        }
    )
    assert rules.decide({}, NOW, random.Random(1)) == Decision(Throttle.ACCEPT, NO_MATCH_RULE, None)


def test_no_file_accepts_everything() -> None:
    rules = ThrottleRules.load(None)
    assert rules.rule_names == (ACCEPT_EVERYTHING_RULE,)
    assert rules.decide({}, NOW) == Decision(Throttle.ACCEPT, ACCEPT_EVERYTHING_RULE, None)
    assert rules.decide({"ProductName": "Anything", "BuildID": "19990101000000"}, NOW).result is Throttle.ACCEPT


# --- robustness -----------------------------------------------------------------------------------------

EXAMPLE_KEYS = sorted(
    {key for rule in yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["rules"] for key in rule.get("when", {})}
)


def huge_int() -> int:
    """Past the 4300-digit limit of int's str(); built lazily so hypothesis never has to repr the constant."""
    return 10**5000


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.builds(huge_int),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet="0123456789.abrcesv-+ ", max_size=20),
    st.sampled_from(["20231101120000", "20231340000000", "121.0b3", "release", "MyApp", "0", "ShutDownKill"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=10,
)
annotation_maps = st.dictionaries(st.one_of(st.sampled_from(EXAMPLE_KEYS), st.text(max_size=20)), values, max_size=40)
moments = st.datetimes(
    min_value=dt.datetime(1900, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.sampled_from([None, dt.UTC]),
)


@settings(max_examples=300, deadline=None)
@given(annotations=annotation_maps, now=moments, seed=st.integers(0, 2**32))
def test_decide_never_raises(annotations: dict[str, Any], now: dt.datetime, seed: int) -> None:
    decision = EXAMPLE_RULES.decide(annotations, now, random.Random(seed))
    assert isinstance(decision.result, Throttle)
    assert decision.rule in (*EXAMPLE_RULES.rule_names, NO_MATCH_RULE)


def test_deeply_nested_value_does_not_raise() -> None:
    deep: Any = "x"
    for _ in range(5_000):
        deep = [deep]
    for key in EXAMPLE_KEYS:
        assert isinstance(EXAMPLE_RULES.decide({key: deep, "ProductName": "MyApp"}, NOW).result, Throttle)
