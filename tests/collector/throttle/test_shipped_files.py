"""The shipped rules files: the default accepts everything; the example uses every condition and decides as
documented."""

from __future__ import annotations

import random
from typing import Any

import pytest
import yaml

from crashcart.collector.throttle import ACCEPT_EVERYTHING_RULE, ConditionSpec, Decision, ThrottleRules
from crashcart.crashid import Throttle
from tests.collector.throttle import DEFAULT, EXAMPLE, EXAMPLE_RULES, NOW, build_id


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
