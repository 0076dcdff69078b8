"""Tests of ``crashcart.collector.throttle``, one module per source module, and the helpers they share."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from crashcart.collector.throttle import ThrottleRules, ThrottleRulesError
from crashcart.crashid import Throttle

ROOT = Path(__file__).resolve().parents[3]
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


EXAMPLE_RULES = ThrottleRules.load(EXAMPLE)
