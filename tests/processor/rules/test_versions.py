from __future__ import annotations

from typing import Any

import pytest

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.versions import (
    ESRVersionRewriteRule,
    FenixVersionRewriteRule,
    MajorVersionRule,
    ProcessTypeRule,
)


@pytest.mark.parametrize(
    ("raw", "processed", "expected"),
    [
        ({"Version": "12.0.1"}, {}, 12),
        ({}, {"version": "99.0a1"}, 99),
        ({"Version": "junk"}, {}, 0),
        ({"Version": "5a1.0"}, {}, 0),
        ({"Version": "-1.0"}, {}, 0),
        ({"Version": "9" * 50}, {}, 0),
        ({"Version": 12}, {}, 0),
        ({}, {}, 0),
    ],
)
def test_major_version(raw: dict[str, Any], processed: dict[str, Any], expected: int) -> None:
    ctx = CrashContext(crash_id="id", raw_crash=raw, processed=processed)
    MajorVersionRule().action(ctx)
    assert ctx.processed["major_version"] == expected


@pytest.mark.parametrize(
    ("value", "expected", "noted"),
    [
        (None, "parent", False),
        ("content", "content", False),
        ("main", "parent", False),
        (" gpu ", "gpu", False),
        (3, "parent", True),
        ("", "parent", True),
        ("x" * 101, "parent", True),
    ],
)
def test_process_type(value: Any, expected: str, noted: bool) -> None:
    raw = {} if value is None else {"ProcessType": value}
    ctx = CrashContext(crash_id="id", raw_crash=raw)
    ProcessTypeRule().action(ctx)
    assert ctx.processed["process_type"] == expected
    assert bool(ctx.notes) is noted


def test_esr_version_rewrite() -> None:
    rule = ESRVersionRewriteRule()
    ctx = CrashContext(crash_id="id", raw_crash={}, processed={"release_channel": "esr", "version": "115.1.0"})
    assert rule.predicate(ctx)
    rule.action(ctx)
    rule.action(ctx)
    assert ctx.processed["version"] == "115.1.0esr"
    assert not rule.predicate(CrashContext(crash_id="id", raw_crash={}, processed={"release_channel": "release"}))


def test_fenix_version_rewrite() -> None:
    rule = FenixVersionRewriteRule()
    ctx = CrashContext(crash_id="id", raw_crash={}, processed={"product": "Fenix", "version": "Nightly 200101 06:01"})
    assert rule.predicate(ctx)
    rule.action(ctx)
    assert ctx.processed["version"] == "0.0a1"
    assert ctx.notes == ["fenix_version_rewrite: version rewritten to 0.0a1"]
    assert not rule.predicate(
        CrashContext(crash_id="id", raw_crash={}, processed={"product": "Game", "version": "Nightly 1"})
    )
