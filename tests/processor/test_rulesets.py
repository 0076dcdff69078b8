from __future__ import annotations

from typing import ClassVar

import pytest

from crashcart.processor.context import CrashContext
from crashcart.processor.pipeline import Pipeline
from crashcart.processor.rules.base import Rule
from crashcart.processor.rulesets import (
    OPTIONAL_RULES,
    PLUGGABLE_RULES,
    RULE_FACTORIES,
    RULESETS,
    RuleConfig,
    RuleFactory,
    RulesetError,
    build_ruleset,
    ruleset_names,
)


def stub(rule_name: str) -> RuleFactory:
    class Stub(Rule):
        name: ClassVar[str] = rule_name

        def action(self, ctx: CrashContext) -> None:
            ctx.processed.setdefault("stubs", []).append(rule_name)

    return lambda config: Stub()


STUBS = {name: stub(name) for name in PLUGGABLE_RULES}


def test_ruleset_names() -> None:
    assert ruleset_names() == ("default", "regenerate_signature")


def test_default_ruleset_in_order_without_optional_rules() -> None:
    rules = build_ruleset("default", RuleConfig(), factories=STUBS)
    names = [rule.name for rule in rules]
    assert names[:5] == ["de_null", "de_none", "crash_report_keys", "collector_metadata", "copy_from_raw"]
    assert not set(names) & OPTIONAL_RULES
    assert names[-1] == "signature_generator"
    assert names.index("minidump_stackwalk") < names.index("report_type")


def test_every_listed_rule_is_known() -> None:
    for names in RULESETS.values():
        for name in names:
            assert name in RULE_FACTORIES or name in PLUGGABLE_RULES or name in OPTIONAL_RULES, name


def test_missing_pluggable_factory_is_an_error() -> None:
    with pytest.raises(RulesetError, match=r"no factory for rule.*minidump_stackwalk"):
        build_ruleset("default")


def test_optional_rules_switched_on_by_name() -> None:
    config = RuleConfig(optional_rules=frozenset({"esr_version_rewrite"}))
    names = [rule.name for rule in build_ruleset("default", config, factories=STUBS)]
    assert names.index("copy_from_raw") < names.index("esr_version_rewrite") < names.index("identifier")


def test_unknown_optional_rule_is_refused() -> None:
    with pytest.raises(RulesetError, match=r"unknown optional rule.*esr_typo"):
        build_ruleset("default", RuleConfig(optional_rules=frozenset({"esr_typo"})), factories=STUBS)


def test_unimplemented_optional_rule_is_refused() -> None:
    with pytest.raises(RulesetError, match=r"no factory for rule.*beta_version"):
        build_ruleset("default", RuleConfig(optional_rules=frozenset({"beta_version"})), factories=STUBS)


def test_unknown_ruleset() -> None:
    with pytest.raises(RulesetError, match="unknown ruleset 'nope'"):
        build_ruleset("nope")


def test_factory_must_build_rule_of_that_name() -> None:
    with pytest.raises(RulesetError, match="built a rule named"):
        build_ruleset("regenerate_signature", factories={"signature_generator": stub("other")})


def test_regenerate_signature_ruleset() -> None:
    rules = build_ruleset("regenerate_signature", factories=STUBS)
    assert [rule.name for rule in rules] == ["signature_generator"]


def test_default_ruleset_end_to_end() -> None:
    raw = {
        "uuid": "de1bb258-cbbf-4589-a673-34f800160918",
        "submitted_timestamp": "2016-09-18T10:00:00+00:00",
        "ProductName": "Game\0",
        "Version": "12.0.1",
        "ReleaseChannel": "release",
        "CrashTime": "1474192800",
        "StartupTime": "1474192700",
        "SafeMode": "0",
        "Comments": "my email is a@b.c",
        "Empty": None,
        "metadata": {"dump_checksums": {"upload_file_minidump": "ab" * 32}, "collector_notes": []},
    }
    ctx = CrashContext(crash_id=raw["uuid"], raw_crash=raw)  # type: ignore[arg-type]
    result = Pipeline(build_ruleset("default", factories=STUBS)).run(ctx)
    assert result.ok, result.failures
    p = ctx.processed
    assert p["product"] == "Game"
    assert p["version"] == "12.0.1"
    assert p["major_version"] == 12
    assert p["safe_mode"] is False
    assert p["uptime"] == 100
    assert p["date_processed"] == "2016-09-18T10:00:00+00:00"
    assert p["report_type"] == "crash"
    assert p["process_type"] == "parent"
    assert p["minidump_sha256_hash"] == "ab" * 32
    assert "Empty" not in p["crash_report_keys"]
    assert p["stubs"][-1] == "signature_generator"
