"""The file's schema: what it refuses and the message naming the rule, the field and the problem."""

from __future__ import annotations

from typing import Any

import pytest

from crashcart.collector.throttle import ThrottleRules
from tests.collector.throttle import NOW, error_for, one_rule


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


def test_bad_result_is_named() -> None:
    message = error_for(one_rule(result="drop"))
    assert "rules[0] 'the_rule': result:" in message
    assert "'accept'" in message
    assert "'drop'" in message


def test_bad_default_is_named() -> None:
    message = error_for({"default": "continue", "rules": []})
    assert "default:" in message
    assert "'continue'" in message


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


def test_when_may_be_empty_or_null() -> None:
    when: dict[str, Any] | None
    for when in (None, {}):
        rules = ThrottleRules.from_dict(
            {"default": "reject", "rules": [{"name": "all", "when": when, "result": "accept"}]}
        )
        assert rules.decide({}, NOW).rule == "all"
