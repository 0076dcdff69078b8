"""Throttle rules: every condition, results and sampling, the shipped files, and validation messages."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crashcart.collector.throttle import (
    ACCEPT_EVERYTHING_RULE,
    MAX_FILE_BYTES,
    MAX_RULES,
    NO_MATCH_RULE,
    REGEX_INPUT_LIMIT,
    ConditionSpec,
    Decision,
    ThrottleRules,
    ThrottleRulesError,
    version_key,
)
from crashcart.crashid import Throttle

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "throttle-rules.example.yaml"
DEFAULT = ROOT / "config" / "throttle-rules.default.yaml"

NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)


def build_id(days_ago: float, now: dt.datetime = NOW) -> str:
    return (now - dt.timedelta(days=days_ago)).strftime("%Y%m%d%H%M%S")


def matches(condition: dict[str, Any], annotations: dict[str, Any], key: str = "K") -> bool:
    """Whether a single rule with ``when: {key: condition}`` matches these annotations."""
    rules = ThrottleRules.from_dict(
        {"default": "accept", "rules": [{"name": "r", "when": {key: condition}, "result": "reject"}]}
    )
    decision = rules.decide(annotations, NOW)
    return decision.result is Throttle.REJECT


def error_for(data: object) -> str:
    with pytest.raises(ThrottleRulesError) as info:
        ThrottleRules.from_dict(data, source="rules.yaml")
    return str(info.value)


def one_rule(**rule: Any) -> dict[str, Any]:
    return {"rules": [{"name": "the_rule", **rule}]}


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


def test_regex_sees_only_the_first_10_kib() -> None:
    long_value = "a" * REGEX_INPUT_LIMIT + "b" * 1_000_000
    assert matches({"regex": "a*"}, {"K": long_value})
    assert not matches({"regex": "a*b+"}, {"K": long_value})


def test_naive_now_is_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    rules = ThrottleRules.from_dict(
        one_rule(when={"BuildID": {"build_age_days_lt": 1}}, result="reject") | {"default": "accept"}
    )
    built = (NOW - dt.timedelta(hours=23)).strftime("%Y%m%d%H%M%S")
    assert rules.decide({"BuildID": built}, naive).result is Throttle.REJECT
    other_zone = NOW.astimezone(dt.timezone(dt.timedelta(hours=-8)))
    assert rules.decide({"BuildID": built}, other_zone).result is Throttle.REJECT


# --- versions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("120.0", "120.0.1"),
        ("120.0.1", "120.1"),
        ("9.0", "10.0"),
        ("1.9", "1.10"),
        ("120.0a1", "120.0b1"),
        ("120.0b2", "120.0b10"),
        ("120.0b3", "120.0rc1"),
        ("120.0rc1", "120.0"),
        ("120.0b3", "120.0"),
        ("1.2.3-beta", "1.2.3"),
        ("1.2.3-alpha.1", "1.2.3-beta"),
        ("1.2.3-beta.2", "1.2.3-beta.11"),
        ("1.2.3-dev", "1.2.3a1"),
        ("1.2.3-snapshot", "1.2.3-dev"),
        ("115.0esr", "115.0.1esr"),
        ("119.0.1", "120.0a1"),
    ],
)
def test_version_order(lower: str, higher: str) -> None:
    low, high = version_key(lower), version_key(higher)
    assert low is not None
    assert high is not None
    assert low < high


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("120", "120.0"),
        ("120.0", "120.0.0"),
        ("115.0esr", "115.0"),
        ("v1.2.3", "1.2.3"),
        ("1.2.3+build.7", "1.2.3"),
        ("120.0B3", "120.0b3"),
        (" 1.0 ", "1.0"),
        ("1.0beta", "1.0-beta.0"),
    ],
)
def test_version_equal(left: str, right: str) -> None:
    assert version_key(left) == version_key(right)


@pytest.mark.parametrize("text", ["", "abc", "beta", ".1", "x1.0", "1" * 100])
def test_not_a_version(text: str) -> None:
    assert version_key(text) is None


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


# --- shipped files --------------------------------------------------------------------------------------


def test_no_file_accepts_everything() -> None:
    rules = ThrottleRules.load(None)
    assert rules.rule_names == (ACCEPT_EVERYTHING_RULE,)
    assert rules.decide({}, NOW) == Decision(Throttle.ACCEPT, ACCEPT_EVERYTHING_RULE, None)
    assert rules.decide({"ProductName": "Anything", "BuildID": "19990101000000"}, NOW).result is Throttle.ACCEPT


def test_default_file_is_accept_everything() -> None:
    rules = ThrottleRules.load(DEFAULT)
    assert rules.rule_names == ThrottleRules.load(None).rule_names
    assert rules.default is Throttle.ACCEPT
    assert rules.decide({"X": 1}, NOW) == Decision(Throttle.ACCEPT, ACCEPT_EVERYTHING_RULE, None)


def test_example_file_uses_every_condition_and_result() -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    used_conditions = {op for rule in data["rules"] for cond in rule.get("when", {}).values() for op in cond}
    known = {field.alias or name for name, field in ConditionSpec.model_fields.items()}
    assert used_conditions == known
    outcomes = {rule.get("result") for rule in data["rules"]} | {
        value
        for rule in data["rules"]
        if "sample" in rule
        for value in (rule["sample"]["then"], rule["sample"]["else"])
    }
    assert {"accept", "defer", "reject", "fakeaccept", "continue"} <= outcomes


def example_decision(annotations: dict[str, Any], seed: int = 0) -> Decision:
    return EXAMPLE_RULES.decide(annotations, NOW, random.Random(seed))


EXAMPLE_RULES = ThrottleRules.load(EXAMPLE)
FRESH = build_id(30)


@pytest.mark.parametrize(
    ("annotations", "rule", "result"),
    [
        (
            {"ProductName": "MyApp", "BuildID": build_id(800), "Throttleable": "0"},
            "reject_old_builds",
            "REJECT",
        ),
        ({"BuildID": FRESH}, "reject_missing_product", "REJECT"),
        ({"ProductName": "MyKiosk", "Version": "1.9.2"}, "fakeaccept_legacy_kiosk", "FAKEACCEPT"),
        ({"ProductName": "MyKiosk", "Version": "2.0"}, "accept_everything", "ACCEPT"),
        ({"ProductName": "SomeoneElse", "Version": "1.0"}, "reject_unsupported_product", "REJECT"),
        ({"ProductName": "myapp", "Version": "1.0"}, "accept_everything", "ACCEPT"),
        ({"ProductName": "MyApp", "Version": "1.0 custom"}, "reject_malformed_version", "REJECT"),
        ({"ProductName": "MyApp", "Version": "121.0.1"}, "reject_known_bad_release", "REJECT"),
        ({"ProductName": "MyApp", "Version": "121.0b9"}, "accept_everything", "ACCEPT"),
        ({"ProductName": "MyApp", "Version": "131.0a1"}, "defer_unreleased_versions", "DEFER"),
        ({"ProductName": "MyApp", "HangID": "h"}, "reject_parent_hang", "REJECT"),
        (
            {"ProductName": "MyApp", "Throttleable": "0", "ReleaseChannel": "release"},
            "throttleable_0",
            "ACCEPT",
        ),
        (
            {"ProductName": "MyApp", "Throttleable": 0, "ReleaseChannel": "release"},
            "throttleable_0",
            "ACCEPT",
        ),
        ({"ProductName": "MyApp", "Comments": "", "ReleaseChannel": "release"}, "has_comments", "ACCEPT"),
        (
            {"ProductName": "MyApp", "ProcessType": "gpu", "ReleaseChannel": "release"},
            "background_process",
            "ACCEPT",
        ),
        ({"ProductName": "MyApp", "UptimeTS": "3.2", "ReleaseChannel": "release"}, "startup_crash", "ACCEPT"),
        ({"ProductName": "MyApp", "SystemMemoryUsePercentage": 97}, "memory_pressure", "ACCEPT"),
        ({"ProductName": "MyApp", "ReleaseChannel": "Nightly-Try"}, "prerelease_channels", "ACCEPT"),
        (
            {"ProductName": "MyApp", "ReleaseChannel": "release", "BuildID": build_id(2)},
            "fresh_builds",
            "ACCEPT",
        ),
        (
            {"ProductName": "MyApp", "ReleaseChannel": "esr", "BuildID": build_id(2)},
            "accept_everything",
            "ACCEPT",
        ),
    ],
)
def test_example_rules(annotations: dict[str, Any], rule: str, result: str) -> None:
    decision = example_decision(annotations)
    assert (decision.rule, decision.result) == (rule, Throttle[result])


def test_example_samples_release() -> None:
    rng = random.Random(42)
    crash = {"ProductName": "MyApp", "ReleaseChannel": "release", "BuildID": FRESH, "Version": "120.0"}
    decisions = [EXAMPLE_RULES.decide(crash, NOW, rng) for _ in range(10_000)]
    assert {d.rule for d in decisions} == {"sample_release"}
    accepted = sum(d.result is Throttle.ACCEPT for d in decisions) / len(decisions)
    assert abs(accepted - 0.10) < 0.015


def test_example_shutdown_kill_keeps_a_tenth_for_later_rules() -> None:
    rng = random.Random(8)
    crash = {"ProductName": "MyApp", "ipc_channel_error": "ShutDownKill", "ReleaseChannel": "beta"}
    decisions = [EXAMPLE_RULES.decide(crash, NOW, rng) for _ in range(5_000)]
    assert {(d.rule, d.result) for d in decisions} == {
        ("shutdown_kill", Throttle.REJECT),
        ("prerelease_channels", Throttle.ACCEPT),
    }
    kept = sum(d.rule == "prerelease_channels" for d in decisions) / len(decisions)
    assert abs(kept - 0.10) < 0.02


# --- validation -----------------------------------------------------------------------------------------


def test_unknown_condition_is_named() -> None:
    message = error_for(one_rule(when={"ProductName": {"equal": "x"}}, result="reject"))
    assert "rules.yaml" in message
    assert "rules[0] 'the_rule'" in message
    assert "when.ProductName" in message
    assert "unknown condition 'equal'" in message
    assert "equals" in message  # the list of known conditions


def test_bad_regex_is_named() -> None:
    message = error_for(one_rule(when={"Version": {"regex": "([0-9]"}}, result="reject"))
    assert "rules[0] 'the_rule': when.Version.regex: invalid regular expression" in message


@pytest.mark.parametrize("pattern", [r"(a+)+", r"(\w+\s?)*x", r"(x|y+)+", r"((ab)+)+", r"(a*)*", r"(?:a+){2,9}"])
def test_catastrophic_regex_is_refused(pattern: str) -> None:
    message = error_for(one_rule(when={"K": {"not_regex": pattern}}, result="reject"))
    assert "when.K.not_regex" in message
    assert "exponential" in message


@pytest.mark.parametrize(
    "pattern", [r"(\d+\.)+\d+", r"(?:a|b)+", r".*", r"(?>a+)+", r"a++", r"[0-9]+(\.[0-9]+){0,3}", r"(a?)+b"]
)
def test_safe_regex_is_accepted(pattern: str) -> None:
    ThrottleRules.from_dict(one_rule(when={"K": {"regex": pattern}}, result="reject"))


def test_duplicate_name_is_named() -> None:
    message = error_for(
        {
            "rules": [
                {"name": "a", "result": "accept"},
                {"name": "b", "result": "accept"},
                {"name": "a", "result": "reject"},
            ]
        }
    )
    assert "rules[2] 'a': name: duplicate rule name (also rules[0])" in message


def test_bad_result_is_named() -> None:
    message = error_for(one_rule(result="drop"))
    assert "rules[0] 'the_rule': result:" in message
    assert "'accept'" in message
    assert "'drop'" in message


def test_bad_default_is_named() -> None:
    message = error_for({"default": "continue", "rules": []})
    assert "default:" in message
    assert "'continue'" in message


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("rules: []\n" + "#" * MAX_FILE_BYTES, encoding="utf-8")
    with pytest.raises(ThrottleRulesError) as info:
        ThrottleRules.load(path)
    assert str(path) in str(info.value)
    assert "larger than 1048576 bytes" in str(info.value)


def test_too_many_rules() -> None:
    rules = [{"name": f"r{i}", "result": "accept"} for i in range(MAX_RULES + 1)]
    assert f"more than the limit of {MAX_RULES}" in error_for({"rules": rules})
    ThrottleRules.from_dict({"rules": rules[:MAX_RULES]})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("not a mapping", "expected a mapping with a 'rules' list"),
        ({}, "rules: required field is missing"),
        ({"rules": [], "extra": 1}, "unknown top-level field 'extra'"),
        ({"rules": [], "schema_version": 2}, "schema_version:"),
        ({"rules": [{"result": "accept"}]}, "rules[0]: name: required field is missing"),
        (one_rule(result="accept", colour="red"), "unknown rule field 'colour'"),
        (
            {"rules": [{"name": "Bad-Name", "result": "accept"}]},
            "rules[0] 'Bad-Name': name: String should match",
        ),
        ({"rules": [{"name": "no_match", "result": "accept"}]}, "'no_match' is reserved"),
        (one_rule(), "give exactly one of 'result' or 'sample'"),
        (
            one_rule(result="accept", sample={"percent": 1, "then": "accept", "else": "reject"}),
            "give exactly one of 'result' or 'sample'",
        ),
        (
            one_rule(sample={"percent": 101, "then": "accept", "else": "reject"}),
            "sample.percent: Input should be",
        ),
        (one_rule(sample={"percent": 10, "then": "accept"}), "sample.else: required field is missing"),
        (
            one_rule(sample={"percent": "10", "then": "accept", "else": "x"}),
            "sample.percent: expected a number",
        ),
        (one_rule(sample={"percent": 10, "then": "accept", "else": "x"}), "sample.else: Input should be"),
        (one_rule(sample={"percent": 1, "then": "a", "else": "b", "also": 1}), "unknown sample field 'also'"),
        (one_rule(when={"K": {}}, result="accept"), "when.K: no condition given"),
        (one_rule(when={"K": {"case_insensitive": True}}, result="accept"), "when.K: no condition given"),
        (
            one_rule(when={"K": {"missing": True, "equals": "1"}}, result="accept"),
            "a missing key has no value",
        ),
        (one_rule(when={"K": {"exists": False, "gt": 1}}, result="accept"), "a missing key has no value"),
        (one_rule(when={"K": {"missing": True, "exists": True}}, result="accept"), "contradict"),
        (
            one_rule(when={"K": {"equals": True}}, result="accept"),
            "when.K.equals: YAML read this as a boolean",
        ),
        (
            one_rule(when={"K": {"in": ["a", 1.10]}}, result="accept"),
            "when.K.in.1: YAML read this as the number",
        ),
        (one_rule(when={"K": {"in": []}}, result="accept"), "when.K.in:"),
        (one_rule(when={"K": {"gt": "10"}}, result="accept"), "when.K.gt: expected a number"),
        (one_rule(when={"K": {"gt": True}}, result="accept"), "when.K.gt: expected a number"),
        (one_rule(when={"K": {"gt": float("inf")}}, result="accept"), "when.K.gt: expected a finite number"),
        (one_rule(when={"K": {"missing": "yes"}}, result="accept"), "when.K.missing:"),
        (one_rule(when={"K": {"build_age_days_gt": -1}}, result="accept"), "when.K.build_age_days_gt:"),
        (one_rule(when={"K": {"version_lt": "latest"}}, result="accept"), "when.K.version_lt: not a version"),
        (one_rule(when={"": {"exists": True}}, result="accept"), "annotation key must not be empty"),
        (one_rule(when=["K"], result="accept"), "rules[0] 'the_rule': when: expected a mapping"),
        (one_rule(when={"K": "Firefox"}, result="accept"), "when.K: expected a mapping of conditions"),
        (one_rule(when={1: {"exists": True}}, result="accept"), "when.1: keys must be text"),
        ({"rules": ["accept"]}, "rules[0]: expected a mapping, got 'accept'"),
    ],
)
def test_validation_messages(data: object, expected: str) -> None:
    message = error_for(data)
    assert message.startswith("invalid throttle rules in rules.yaml")
    assert expected in message


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ThrottleRulesError) as info:
        ThrottleRules.from_dict(
            {
                "rules": [
                    {"name": "a", "result": "nope"},
                    {"name": "b", "when": {"K": {"bogus": 1}}, "result": "accept"},
                ]
            }
        )
    assert len(info.value.problems) == 2
    assert info.value.code == "throttle_rules_invalid"


def test_when_may_be_empty_or_null() -> None:
    when: dict[str, Any] | None
    for when in (None, {}):
        rules = ThrottleRules.from_dict(
            {"default": "reject", "rules": [{"name": "all", "when": when, "result": "accept"}]}
        )
        assert rules.decide({}, NOW).rule == "all"


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "rules.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules: [", "not valid YAML"),
        ("", "expected a mapping"),
        ("- a\n- b\n", "expected a mapping"),
        (
            "rules:\n  - name: a\n    when:\n      K: {equals: '1'}\n      K: {equals: '2'}\n    result: accept\n",
            "found duplicate key 'K'",
        ),
        (
            "products: &p [a, b]\nrules:\n  - name: a\n    when: {K: {in: *p}}\n    result: accept\n",
            "aliases (*name) are not allowed",
        ),
        ("rules: []\n---\nrules: []\n", "not valid YAML"),
        ("rules:\n  - name: a\n    result: !!python/object:os.system x\n", "not valid YAML"),
        (b"rules: []\n# \xff\xfe\n", "not UTF-8"),
    ],
)
def test_file_problems(tmp_path: Path, text: str | bytes, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ThrottleRulesError) as info:
        ThrottleRules.load(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_yaml_error_gives_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  - name: a\n    result: accept\n  - name: b\n    when: {K: {in: [a, b}}\n")
    with pytest.raises(ThrottleRulesError, match="line 5"):
        ThrottleRules.load(path)


def test_missing_configured_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ThrottleRulesError, match="cannot read the file"):
        ThrottleRules.load(tmp_path / "nope.yaml")


def test_file_round_trip(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "default: reject\nrules:\n  - name: keep_zero\n"
        "    when:\n      Throttleable: {equals: 0}\n    result: accept\n",
    )
    rules = ThrottleRules.load(str(path))
    assert rules.decide({"Throttleable": "0"}, NOW) == Decision(Throttle.ACCEPT, "keep_zero", None)
    assert rules.decide({"Throttleable": "1"}, NOW) == Decision(Throttle.REJECT, NO_MATCH_RULE, None)
    assert "rules=1" in repr(rules)


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
