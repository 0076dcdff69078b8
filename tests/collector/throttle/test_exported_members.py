"""The package's public names: everything the single ``throttle`` module offered is still importable from it."""

from __future__ import annotations

from crashcart.collector import throttle

EXPORTED = {
    "ACCEPT_EVERYTHING_RULE",
    "MAX_FILE_BYTES",
    "MAX_RULES",
    "NO_MATCH_RULE",
    "NUMBER_INPUT_LIMIT",
    "REGEX_INPUT_LIMIT",
    "RULE_NAME_PATTERN",
    "VERSION_INPUT_LIMIT",
    "ConditionSpec",
    "Days",
    "Decision",
    "FinalResultName",
    "Number",
    "RegexText",
    "ResultName",
    "RuleSpec",
    "RulesFileSpec",
    "SampleSpec",
    "Text",
    "ThrottleRules",
    "ThrottleRulesError",
    "VersionKey",
    "VersionText",
    "version_key",
}


def test_all_lists_the_public_api() -> None:
    assert set(throttle.__all__) == EXPORTED
    assert len(throttle.__all__) == len(EXPORTED)


def test_every_exported_name_resolves() -> None:
    for name in throttle.__all__:
        assert getattr(throttle, name) is not None, name
