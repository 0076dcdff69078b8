from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest

from crashcart.processor.context import CrashContext
from crashcart.processor.pipeline import Pipeline
from crashcart.processor.registry import OPTIONAL_RULES, REGISTRY, RuleConfig, RuleFactory, RulesetError
from crashcart.processor.rules.base import Rule
from crashcart.processor.rulesets import RULESETS, build_ruleset, ruleset_names


def stub(rule_name: str) -> RuleFactory:
    class Stub(Rule):
        name: ClassVar[str] = rule_name

        def action(self, ctx: CrashContext) -> None:
            ctx.processed.setdefault("stubs", []).append(rule_name)

    return lambda config: Stub()


# Stand-ins for the two rules with collaborators (the walk, the signature): these tests are about the others.
STUBS = {name: stub(name) for name in ("minidump_stackwalk", "signature_generator")}


def test_ruleset_names() -> None:
    assert ruleset_names() == ("default", "regenerate_signature")


def test_default_ruleset_in_order_without_optional_rules() -> None:
    rules = build_ruleset("default", RuleConfig(), overrides=STUBS)
    names = [rule.name for rule in rules]
    assert names[:5] == ["de_null", "de_none", "crash_report_keys", "collector_metadata", "copy_from_raw"]
    assert not set(names) & OPTIONAL_RULES
    assert names[-1] == "signature_generator"
    assert names.index("minidump_stackwalk") < names.index("report_type")


def test_every_listed_rule_is_registered() -> None:
    for names in RULESETS.values():
        assert set(names) <= set(REGISTRY), set(names) - set(REGISTRY)


def test_every_registered_rule_is_in_a_ruleset() -> None:
    listed = {name for names in RULESETS.values() for name in names}
    assert set(REGISTRY) <= listed, set(REGISTRY) - listed


def test_a_rule_without_its_collaborator_is_an_error() -> None:
    with pytest.raises(RulesetError, match=r"minidump_stackwalk needs a walker"):
        build_ruleset("default")
    with pytest.raises(RulesetError, match=r"signature_generator needs a generator"):
        build_ruleset("regenerate_signature")


def test_an_override_cannot_add_a_rule() -> None:
    with pytest.raises(RulesetError, match=r"unregistered rule\(s\) extra_rule"):
        build_ruleset("regenerate_signature", overrides={**STUBS, "extra_rule": stub("extra_rule")})


def test_optional_rules_switched_on_by_name() -> None:
    config = RuleConfig(optional_rules=frozenset({"esr_version_rewrite"}))
    names = [rule.name for rule in build_ruleset("default", config, overrides=STUBS)]
    assert names.index("copy_from_raw") < names.index("esr_version_rewrite") < names.index("identifier")


def test_unknown_optional_rule_is_refused() -> None:
    with pytest.raises(RulesetError, match=r"unknown optional rule.*esr_typo"):
        build_ruleset("default", RuleConfig(optional_rules=frozenset({"esr_typo"})), overrides=STUBS)


def test_beta_version_needs_its_file(tmp_path: Path) -> None:
    config = RuleConfig(optional_rules=frozenset({"beta_version"}))
    with pytest.raises(RulesetError, match="beta_version needs a beta versions file"):
        build_ruleset("default", config, overrides=STUBS)
    bad = tmp_path / "betas.csv"
    bad.write_text("product,version\n")
    with pytest.raises(RulesetError, match=r"beta_version: .*betas.csv: CSV header lacks channel, build_id"):
        build_ruleset("default", replace(config, beta_versions_file=bad), overrides=STUBS)


def test_unknown_ruleset() -> None:
    with pytest.raises(RulesetError, match="unknown ruleset 'nope'"):
        build_ruleset("nope")


def test_factory_must_build_rule_of_that_name() -> None:
    with pytest.raises(RulesetError, match="built a rule named"):
        build_ruleset("regenerate_signature", overrides={"signature_generator": stub("other")})


def test_regenerate_signature_ruleset() -> None:
    rules = build_ruleset("regenerate_signature", overrides=STUBS)
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
    result = Pipeline(build_ruleset("default", overrides=STUBS)).run(ctx)
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


def test_default_ruleset_with_every_optional_rule(tmp_path: Path) -> None:
    """Every optional rule switched on, over a realistic Firefox beta crash: nothing raises."""
    pid = 7046
    memory_report = {
        "version": 1,
        "hasMozMallocUsableSize": True,
        "reports": [
            {"process": f"Main Process (pid {pid})", "path": "heap-allocated", "kind": 2, "units": 0, "amount": 500},
            {"process": f"Main Process (pid {pid})", "path": "explicit/a", "kind": 1, "units": 0, "amount": 300},
        ],
    }
    report_path = tmp_path / "memory_report"
    report_path.write_bytes(gzip.compress(json.dumps(memory_report).encode()))
    betas = tmp_path / "betas.csv"
    betas.write_text("product,channel,build_id,version\nFirefox,beta,20210705185941,91.0b3\n")

    class FakeStackwalk(Rule):
        name: ClassVar[str] = "minidump_stackwalk"

        def action(self, ctx: CrashContext) -> None:
            ctx.processed["json_dump"] = {"pid": pid, "status": "OK", "threads": [{"frames": []}, {"frames": []}]}

    class FakeSignature(Rule):
        name: ClassVar[str] = "signature_generator"

        def action(self, ctx: CrashContext) -> None:
            ctx.processed["signature"] = "shutdownhang | mozilla::SpinEventLoopUntil"

    factories = {
        **STUBS,
        "minidump_stackwalk": lambda config: FakeStackwalk(),
        "signature_generator": lambda config: FakeSignature(),
    }
    config = RuleConfig(optional_rules=OPTIONAL_RULES, beta_versions_file=betas)
    rules = build_ruleset("default", config, overrides=factories)
    assert {rule.name for rule in rules} >= OPTIONAL_RULES

    raw: dict[str, Any] = {
        "uuid": "de1bb258-cbbf-4589-a673-34f800210705",
        "submitted_timestamp": "2021-07-05T19:00:00+00:00",
        "ProductName": "Firefox",
        "Version": "91.0",
        "BuildID": "20210705185941",
        "ReleaseChannel": "beta",
        "CrashTime": "1625511500",
        "StartupTime": "1625511000",
        "InstallTime": "1625000000",
        "ProcessType": "parent",
        "SubmittedFromInfobar": "true",
        "Accessibility": "Active",
        "EMCheckCompatibility": "true",
        "Add-ons": "formautofill%40mozilla.org:1.0.1,{972ce4c6-7e08-4474-a285-3208198ce6fd}:91.0",
        "PHCKind": "FreedPage",
        "PHCBaseAddress": "4096",
        "PHCUsableSize": "32",
        "PHCAllocStack": "1,2,3",
        "PHCFreeStack": "4,5",
        "Breadcrumbs": json.dumps({"values": [{"timestamp": "2021-07-05T18:59:00", "category": "ui"}]}),
        "MozCrashReason": "Failed to load module https://example.com/secret.js",
        "UtilityActorsName": "audio-decoder-generic",
        "TelemetryEnvironment": json.dumps({"partner": {"distributionId": None}}),
        "ShutdownProgress": "profile-before-change",
        "AsyncShutdownTimeout": json.dumps({"phase": "profile-before-change", "conditions": []}),
        "metadata": {"dump_checksums": {"upload_file_minidump": "ab" * 32}, "collector_notes": []},
    }
    ctx = CrashContext(crash_id=raw["uuid"], raw_crash=raw, dumps={"memory_report": report_path})
    result = Pipeline(rules).run(ctx)
    assert result.ok, result.failures
    p = ctx.processed
    assert p["version"] == "91.0b3"
    assert p["submitted_from"] == "Infobar"
    assert p["submitted_from_infobar"] is True
    assert p["accessibility"] is True
    assert p["addons_checked"] is True
    assert p["addons"] == [
        "formautofill@mozilla.org:1.0.1",
        "{972ce4c6-7e08-4474-a285-3208198ce6fd} (default theme):91.0",
    ]
    assert p["phc_base_address"] == "0x1000"
    assert p["breadcrumbs"] == [{"timestamp": "2021-07-05T18:59:00", "category": "ui"}]
    assert p["moz_crash_reason"] == "sanitized--see moz_crash_reason_raw"
    assert p["utility_actors_name"] == ["audio-decoder-generic"]
    assert p["distribution_id"] == "mozilla"
    assert p["memory_report"] == memory_report
    assert p["memory_measures"]["explicit"] == 500
    assert p["memory_measures"]["heap_unclassified"] == 200
    assert p["crashing_thread"] == 0
    assert p["report_type"] == "hang"
    schema = config.schemas.processed_crash
    for name in p:
        if name != "stubs":
            assert schema.get(name) is not None, name
