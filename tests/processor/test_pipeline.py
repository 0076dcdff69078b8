from __future__ import annotations

import logging
from typing import ClassVar

import pytest

from crashcart.processor.context import CrashContext
from crashcart.processor.pipeline import Pipeline
from crashcart.processor.rules.base import Rule

CRASH_ID = "de1bb258-cbbf-4589-a673-34f800160918"


class Setter(Rule):
    name: ClassVar[str] = "setter"

    def action(self, ctx: CrashContext) -> None:
        ctx.processed["set"] = True


class Boom(Rule):
    name: ClassVar[str] = "boom"

    def action(self, ctx: CrashContext) -> None:
        raise ValueError("secret annotation value")


class BadPredicate(Rule):
    name: ClassVar[str] = "bad_predicate"

    def predicate(self, ctx: CrashContext) -> bool:
        raise KeyError("Secret")


class Skipped(Rule):
    name: ClassVar[str] = "skipped"

    def predicate(self, ctx: CrashContext) -> bool:
        return False

    def action(self, ctx: CrashContext) -> None:
        raise AssertionError("must not run")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_failing_rule_becomes_public_note_and_processing_continues(caplog: pytest.LogCaptureFixture) -> None:
    ctx = CrashContext(crash_id=CRASH_ID, raw_crash={})
    with caplog.at_level(logging.ERROR, logger="crashcart.processor.pipeline"):
        result = Pipeline([Boom(), BadPredicate(), Setter()]).run(ctx)
    assert ctx.processed == {"set": True}
    assert ctx.notes == ["rule boom failed: ValueError", "rule bad_predicate failed: KeyError"]
    assert not result.ok
    assert [(f.rule, f.phase, f.exception) for f in result.failures] == [
        ("boom", "action", "ValueError"),
        ("bad_predicate", "predicate", "KeyError"),
    ]
    assert all("secret" not in note.lower() for note in ctx.notes)
    assert len(caplog.records) == 2
    assert caplog.records[0].getMessage().startswith(CRASH_ID)
    assert caplog.records[0].exc_info is not None


def test_durations_per_rule_use_the_clock() -> None:
    result = Pipeline([Setter(), Skipped()], clock=FakeClock()).run(CrashContext(crash_id=CRASH_ID, raw_crash={}))
    assert result.durations == {"setter": 1.0, "skipped": 1.0}
    assert [run.ran for run in result.runs] == [True, False]
    assert result.ok
    assert result.seconds == 5.0


def test_crash_id_is_bound_while_running() -> None:
    from crashcart.logs import current_crash_id

    seen: list[str | None] = []

    class Spy(Rule):
        name: ClassVar[str] = "spy"

        def action(self, ctx: CrashContext) -> None:
            seen.append(current_crash_id())

    Pipeline([Spy()]).run(CrashContext(crash_id=CRASH_ID, raw_crash={}))
    assert seen == [CRASH_ID]
    assert current_crash_id() is None


def test_base_exceptions_are_not_swallowed() -> None:
    class Interrupt(Rule):
        name: ClassVar[str] = "interrupt"

        def action(self, ctx: CrashContext) -> None:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Pipeline([Interrupt()]).run(CrashContext(crash_id=CRASH_ID, raw_crash={}))


def test_duplicate_rule_names_are_refused() -> None:
    with pytest.raises(ValueError, match="setter"):
        Pipeline([Setter(), Setter()])


def test_rule_names() -> None:
    assert Pipeline([Setter(), Boom()]).rule_names == ("setter", "boom")
