"""Run an ordered list of rules over one crash, isolating each rule's failure.

A rule whose predicate or action raises is logged with the crash id and traceback (operators only) and
recorded as a public note ``rule <name> failed: <ExceptionClass>`` — the class only, never the message,
which may quote annotation values. The remaining rules still run. Each rule's wall time is measured with
an injectable clock and returned, so the caller can emit per-rule timing metrics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from crashcart.logs import crash_context
from crashcart.processor.context import CrashContext
from crashcart.processor.rules.base import Rule

LOGGER = logging.getLogger(__name__)

Phase = Literal["predicate", "action"]


@dataclass(frozen=True)
class RuleFailure:
    rule: str
    phase: Phase
    exception: str  # the exception class name, as in the public note


@dataclass(frozen=True)
class RuleRun:
    rule: str
    ran: bool  # the predicate said yes (and did not raise)
    seconds: float
    failed: bool


@dataclass(frozen=True)
class PipelineResult:
    runs: tuple[RuleRun, ...]
    failures: tuple[RuleFailure, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def durations(self) -> dict[str, float]:
        """Seconds spent per rule name (predicate plus action)."""
        return {run.rule: run.seconds for run in self.runs}


def failure_note(rule_name: str, exc: BaseException) -> str:
    return f"rule {rule_name} failed: {type(exc).__name__}"


class Pipeline:
    """An ordered ruleset; one instance serves every crash (rules keep no per-crash state)."""

    def __init__(self, rules: Iterable[Rule], *, clock: Callable[[], float] = time.perf_counter) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        names = [rule.name for rule in self.rules]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique in a pipeline: {', '.join(duplicates)}")
        self._clock = clock

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.rules)

    def run(self, ctx: CrashContext) -> PipelineResult:
        runs: list[RuleRun] = []
        failures: list[RuleFailure] = []
        with crash_context(ctx.crash_id):
            started = self._clock()
            for rule in self.rules:
                rule_started = self._clock()
                ran = False
                failure: RuleFailure | None = None
                phase: Phase = "predicate"
                try:
                    if rule.predicate(ctx):
                        ran = True
                        phase = "action"
                        rule.action(ctx)
                except Exception as exc:
                    failure = RuleFailure(rule.name, phase, type(exc).__name__)
                    ctx.note(failure_note(rule.name, exc))
                    LOGGER.exception(
                        "%s: rule %s failed in %s (ruleset %s)", ctx.crash_id, rule.name, phase, ctx.ruleset
                    )
                    failures.append(failure)
                runs.append(RuleRun(rule.name, ran, self._clock() - rule_started, failure is not None))
            total = self._clock() - started
        return PipelineResult(tuple(runs), tuple(failures), total)
