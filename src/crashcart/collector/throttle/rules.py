"""Compiled throttle rules: each rule's conditions built once into plain objects, and ``decide`` per crash.

Compiling does all the work a rule can do ahead of time (case folding, regex compiling, version keys, day
counts in seconds), so ``ThrottleRules.decide`` parses nothing per request.
"""

from __future__ import annotations

import datetime as dt
import operator
import os
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crashcart.collector.throttle.loader import read_rules_file, validate_rules
from crashcart.collector.throttle.regex_safety import REGEX_INPUT_LIMIT
from crashcart.collector.throttle.spec import NO_MATCH_RULE, ConditionSpec, RulesFileSpec, RuleSpec
from crashcart.collector.throttle.values import as_number, as_text, build_time, naive_utc, version_key
from crashcart.crashid import Throttle

ACCEPT_EVERYTHING_RULE = "accept_everything"

_RESULTS: dict[str, Throttle | None] = {
    "accept": Throttle.ACCEPT,
    "defer": Throttle.DEFER,
    "reject": Throttle.REJECT,
    "fakeaccept": Throttle.FAKEACCEPT,
    "continue": None,
}

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one crash: the result, the deciding rule, and its sampling percent if it sampled."""

    result: Throttle
    rule: str
    percent: float | None = None


# --- compiled rules -------------------------------------------------------------------------------------

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def _same(text: str) -> str:
    return text


def _not_member(values: frozenset[str]) -> Callable[[str], bool]:
    return lambda text: text not in values


class _KeyCheck:
    """The compiled tests on one annotation key; ``holds`` is the hot path."""

    __slots__ = (
        "age_tests",
        "fold",
        "key",
        "number_tests",
        "presence",
        "regex_tests",
        "text_tests",
        "version_tests",
    )

    def __init__(self, key: str, spec: ConditionSpec) -> None:
        self.key = key
        self.presence = spec.required_presence()
        self.fold = spec.case_insensitive
        fold: Callable[[str], str] = str.casefold if spec.case_insensitive else _same

        self.text_tests: tuple[Callable[[str], bool], ...] = tuple(
            test
            for test in (
                fold(spec.equals).__eq__ if spec.equals is not None else None,
                fold(spec.not_equals).__ne__ if spec.not_equals is not None else None,
                frozenset(map(fold, spec.in_)).__contains__ if spec.in_ is not None else None,
                _not_member(frozenset(map(fold, spec.not_in))) if spec.not_in is not None else None,
            )
            if test is not None
        )
        flags = re.IGNORECASE if spec.case_insensitive else 0
        self.regex_tests = tuple(
            (re.compile(pattern, flags), wanted)
            for pattern, wanted in ((spec.regex, True), (spec.not_regex, False))
            if pattern is not None
        )
        self.number_tests = tuple(
            (_COMPARE[op], operand)
            for op, operand in (("gt", spec.gt), ("ge", spec.ge), ("lt", spec.lt), ("le", spec.le))
            if operand is not None
        )
        versions = (
            ("lt", spec.version_lt),
            ("le", spec.version_le),
            ("gt", spec.version_gt),
            ("ge", spec.version_ge),
        )
        self.version_tests = tuple((_COMPARE[op], version_key(text)) for op, text in versions if text is not None)
        ages = (("gt", spec.build_age_days_gt), ("lt", spec.build_age_days_lt))
        self.age_tests = tuple((_COMPARE[op], days * 86400.0) for op, days in ages if days is not None)

    @property
    def uses_now(self) -> bool:
        return bool(self.age_tests)

    def holds(self, annotations: Mapping[str, object], now: dt.datetime | None) -> bool:
        value = annotations.get(self.key, _MISSING)
        if value is _MISSING:
            return self.presence is False
        if self.presence is False:
            return False
        if self.text_tests or self.regex_tests:
            text = as_text(value)
            if text is None:
                return False
            if self.regex_tests:
                head = text[:REGEX_INPUT_LIMIT]
                for pattern, wanted in self.regex_tests:
                    if (pattern.fullmatch(head) is not None) is not wanted:
                        return False
            if self.text_tests:
                if self.fold:
                    text = text.casefold()
                for test in self.text_tests:
                    if not test(text):
                        return False
        if self.number_tests:
            number = as_number(value)
            if number is None:
                return False
            for compare, operand in self.number_tests:
                if not compare(number, operand):
                    return False
        if self.version_tests:
            text = as_text(value)
            key = version_key(text) if text is not None else None
            if key is None:
                return False
            for compare, version in self.version_tests:
                if not compare(key, version):
                    return False
        if self.age_tests:
            built = build_time(value)
            if built is None or now is None:
                return False
            age = (now - built).total_seconds()
            for compare, seconds in self.age_tests:
                if not compare(age, seconds):
                    return False
        return True


class _CompiledRule:
    """A rule ready to run: its key checks and precomputed decisions (None means continue)."""

    __slots__ = ("checks", "decision", "else_decision", "fraction", "name", "sampled", "then_decision")

    def __init__(self, spec: RuleSpec) -> None:
        self.name = spec.name
        self.checks = tuple(_KeyCheck(key, condition) for key, condition in spec.when.items())
        self.sampled = spec.sample is not None
        self.decision: Decision | None = None
        self.then_decision: Decision | None = None
        self.else_decision: Decision | None = None
        self.fraction = 1.0
        if spec.sample is None:
            self.decision = self._decision(spec.result or "continue", None)
        else:
            percent = spec.sample.percent
            self.fraction = percent / 100.0
            self.then_decision = self._decision(spec.sample.then, percent)
            self.else_decision = self._decision(spec.sample.else_, percent)

    def _decision(self, result: str, percent: float | None) -> Decision | None:
        throttle = _RESULTS[result]
        return None if throttle is None else Decision(throttle, self.name, percent)


class ThrottleRules:
    """Compiled throttle rules: make with ``load``, ``from_dict`` or ``accept_everything``; run ``decide``."""

    __slots__ = ("_default", "_rules", "_uses_now", "source")

    def __init__(self, spec: RulesFileSpec, source: str) -> None:
        self.source = source
        self._rules = tuple(_CompiledRule(rule) for rule in spec.rules)
        default = _RESULTS[spec.default]
        assert default is not None  # FinalResultName has no "continue"
        self._default = Decision(default, NO_MATCH_RULE, None)
        self._uses_now = any(check.uses_now for rule in self._rules for check in rule.checks)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None) -> ThrottleRules:
        """Read and validate a rules file; ``None`` (nothing configured) accepts everything.

        A configured path that cannot be read is an error, not a silent accept-everything.
        """
        if path is None:
            return cls.accept_everything()
        source = os.fspath(path)
        return cls.from_dict(read_rules_file(source), source=source)

    @classmethod
    def from_dict(cls, data: object, *, source: str = "<dict>") -> ThrottleRules:
        """Validate already-parsed rules (a mapping shaped like the YAML file)."""
        return cls(validate_rules(data, source), source)

    @classmethod
    def accept_everything(cls) -> ThrottleRules:
        """The rules used when none are configured: one rule, ``accept_everything``."""
        spec = RulesFileSpec(rules=[RuleSpec(name=ACCEPT_EVERYTHING_RULE, result="accept")])
        return cls(spec, "<built-in: accept everything>")

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self._rules)

    @property
    def default(self) -> Throttle:
        return self._default.result

    def __repr__(self) -> str:
        return f"<ThrottleRules {self.source} rules={len(self._rules)} default={self._default.result.name}>"

    def decide(self, annotations: Mapping[str, object], now: dt.datetime, rng: random.Random | None = None) -> Decision:
        """The first decisive rule's decision for a crash with these annotations, submitted at ``now``.

        Pure apart from drawing from ``rng`` (the ``random`` module's generator if None) when a sampling rule
        matches. Never raises for any annotation values: a value a test cannot read makes that test false.
        """
        now_utc = naive_utc(now) if self._uses_now else None
        for rule in self._rules:
            for check in rule.checks:
                if not check.holds(annotations, now_utc):
                    break
            else:
                if not rule.sampled:
                    if rule.decision is not None:
                        return rule.decision
                    continue
                draw = rng.random() if rng is not None else random.random()  # noqa: S311 (sampling, not secrets)
                decision = rule.then_decision if draw < rule.fraction else rule.else_decision
                if decision is not None:
                    return decision
        return self._default
