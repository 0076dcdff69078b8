"""Regex safety: exponential patterns are refused at load, and a regex sees a bounded head of a value."""

from __future__ import annotations

import pytest

from crashcart.collector.throttle import REGEX_INPUT_LIMIT, ThrottleRules
from tests.collector.throttle import error_for, matches, one_rule


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


def test_regex_sees_only_the_first_10_kib() -> None:
    long_value = "a" * REGEX_INPUT_LIMIT + "b" * 1_000_000
    assert matches({"regex": "a*"}, {"K": long_value})
    assert not matches({"regex": "a*b+"}, {"K": long_value})
