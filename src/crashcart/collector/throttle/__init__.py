"""Throttle rules as data: which incoming crashes to keep, sample, fake-accept or reject.

Antenna's rules are Python callables picked by a dotted path, so changing a product list means a deploy and a
typo surfaces only when a crash reaches the rule. Here the rules are a YAML file kept in version control,
validated completely at start (a bad file stops the collector with a message naming the rule, the field and
the problem) and compiled once into plain objects, so ``ThrottleRules.decide`` parses nothing per request.

The format is described in ``docs/throttle-rules.md``; ``config/throttle-rules.example.yaml`` uses every
condition. In short::

    default: accept                  # when no rule decides (accept, defer, reject or fakeaccept)
    rules:                           # tried in order; the first decisive rule wins
      - name: reject_old_builds
        when: {BuildID: {build_age_days_gt: 730}}
        result: reject
      - name: sample_release
        when: {ReleaseChannel: {equals: release}}
        sample: {percent: 10, then: accept, else: reject}

The package, one job per module: ``values`` reads annotation values (text, numbers, versions, BuildIDs),
``regex_safety`` keeps rule regexes fast, ``spec`` is the file's schema, ``loader`` reads and validates a
file, and ``rules`` compiles it and decides.
"""

from __future__ import annotations

from crashcart.collector.throttle.loader import MAX_FILE_BYTES, ThrottleRulesError
from crashcart.collector.throttle.regex_safety import REGEX_INPUT_LIMIT
from crashcart.collector.throttle.rules import ACCEPT_EVERYTHING_RULE, Decision, ThrottleRules
from crashcart.collector.throttle.spec import (
    MAX_RULES,
    NO_MATCH_RULE,
    RULE_NAME_PATTERN,
    ConditionSpec,
    Days,
    FinalResultName,
    Number,
    RegexText,
    ResultName,
    RulesFileSpec,
    RuleSpec,
    SampleSpec,
    Text,
    VersionText,
)
from crashcart.collector.throttle.values import NUMBER_INPUT_LIMIT, VERSION_INPUT_LIMIT, VersionKey, version_key

__all__ = [
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
]
