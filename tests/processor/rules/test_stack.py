"""Stack rules: truncation, topmost file, modules in stack, missing symbols, thread count, crash-info flags."""

from __future__ import annotations

from typing import Any

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.stack import (
    CrashInconsistenciesRule,
    HasGuardPageAccessRule,
    MissingSymbolsRule,
    ModulesInStackRule,
    PossibleBitFlipsRule,
    ThreadCountRule,
    TopMostFilesRule,
    TruncateStacksRule,
)


def ctx_with(json_dump: dict[str, Any], **processed: Any) -> CrashContext:
    return CrashContext("c", {}, processed={"json_dump": json_dump, **processed})


def frames(n: int) -> list[dict[str, Any]]:
    return [{"frame": i} for i in range(n)]


def test_truncate_long_stacks_everywhere() -> None:
    doc: dict[str, Any] = {
        "crashing_thread": {"frames": frames(1000)},
        "threads": [{"frames": frames(1000)}, {"frames": frames(500)}],
    }
    other: dict[str, Any] = {"crashing_thread": None, "threads": [{"frames": frames(501)}]}
    ctx = ctx_with(doc, upload_file_minidump_browser={"json_dump": other})
    TruncateStacksRule().action(ctx)
    kept = doc["threads"][0]["frames"]
    assert len(kept) == 500
    assert kept[249] == {"frame": 249}
    assert kept[250] == {"truncated": {"msg": "501 frames truncated"}}
    assert kept[251] == {"frame": 751}
    assert kept[-1] == {"frame": 999}
    assert doc["threads"][0]["truncated"] is True
    assert doc["crashing_thread"]["truncated"] is True
    assert "truncated" not in doc["threads"][1]
    assert len(doc["threads"][1]["frames"]) == 500
    assert len(other["threads"][0]["frames"]) == 500
    assert ctx.notes == [
        "truncate_stacks: truncated json_dump.crashing_thread.frames: 1000 -> 500",
        "truncate_stacks: truncated json_dump.threads[0].frames: 1000 -> 500",
        "truncate_stacks: truncated upload_file_minidump_browser.json_dump.threads[0].frames: 501 -> 500",
    ]


def test_truncate_configurable_limit() -> None:
    doc: dict[str, Any] = {"threads": [{"frames": frames(11)}]}
    TruncateStacksRule(max_frames=10).action(ctx_with(doc))
    assert [f.get("frame") for f in doc["threads"][0]["frames"]] == [0, 1, 2, 3, 4, None, 7, 8, 9, 10]


def test_possible_bit_flips() -> None:
    ctx = ctx_with({"crash_info": {"possible_bit_flips": [{"confidence": 0.25}, {"confidence": 0.875}, {}]}})
    PossibleBitFlipsRule().action(ctx)
    assert ctx.processed["possible_bit_flips_max_confidence"] == 87


def test_no_bit_flips() -> None:
    infos: list[dict[str, Any]] = [{"possible_bit_flips": None}, {"possible_bit_flips": []}, {}]
    for info in infos:
        ctx = ctx_with({"crash_info": info})
        PossibleBitFlipsRule().action(ctx)
        assert "possible_bit_flips_max_confidence" not in ctx.processed


def test_crash_inconsistencies() -> None:
    ctx = ctx_with({"crash_info": {"crash_inconsistencies": ["IntDivByZeroNotPossible"]}})
    CrashInconsistenciesRule().action(ctx)
    assert ctx.processed["crash_inconsistencies"] == ["IntDivByZeroNotPossible"]


def test_guard_page_only_set_when_true() -> None:
    ctx = ctx_with(
        {"crash_info": {"memory_accesses": [{"is_likely_guard_page": False}, {"is_likely_guard_page": True}]}}
    )
    HasGuardPageAccessRule().action(ctx)
    assert ctx.processed["has_guard_page_access"] is True
    ctx = ctx_with({"crash_info": {"memory_accesses": [{"is_likely_guard_page": False}]}})
    HasGuardPageAccessRule().action(ctx)
    assert "has_guard_page_access" not in ctx.processed


STACK = {
    "threads": [
        {"frames": [{"module": "idle"}]},
        {
            "frames": [
                {"module": "libc.so.6", "function": "raise"},
                {"module": "app", "file": "/src/b.cc", "inlines": [{"function": "Inl", "file": "/src/inl.h"}]},
                {"module": "app", "file": "/src/c.cc"},
                {"module": None},
            ]
        },
    ],
    "modules": [
        {
            "filename": "app",
            "debug_id": "ABCDEF0123456789ABCDEF01234567890",
            "missing_symbols": False,
            "version": "1.2",
        },
        {
            "filename": "libc.so.6",
            "debug_id": "0011-2233",
            "code_id": "aabbcc",
            "missing_symbols": True,
            "version": None,
        },
        {"filename": "idle", "debug_id": None, "missing_symbols": True, "version": "2/3"},
    ],
}


def test_topmost_file_prefers_inlines() -> None:
    ctx = ctx_with(STACK, crashing_thread=1)
    TopMostFilesRule().action(ctx)
    assert ctx.processed["topmost_filenames"] == "/src/inl.h"


def test_topmost_file_without_crashing_thread() -> None:
    ctx = ctx_with(STACK, crashing_thread=None)
    TopMostFilesRule().action(ctx)
    assert "topmost_filenames" not in ctx.processed


def test_modules_in_stack() -> None:
    ctx = ctx_with(STACK, crashing_thread=1)
    ModulesInStackRule().action(ctx)
    assert ctx.processed["modules_in_stack"] == "app/ABCDEF0123456789ABCDEF01234567890;libc.so.6/00112233"


def test_modules_in_stack_bad_index() -> None:
    ctx = ctx_with(STACK, crashing_thread=7)
    ModulesInStackRule().action(ctx)
    assert "modules_in_stack" not in ctx.processed


def test_missing_symbols() -> None:
    ctx = ctx_with(STACK)
    MissingSymbolsRule().action(ctx)
    assert ctx.processed["missing_symbols"] == (
        "idle/2\\/3/000000000000000000000000000000000;libc.so.6/None/00112233/aabbcc"
    )


def test_thread_count() -> None:
    ctx = ctx_with({"thread_count": 12, "threads": []})
    ThreadCountRule().action(ctx)
    assert ctx.processed["thread_count"] == 12
    ctx = ctx_with({"threads": [{}, {}]})
    ThreadCountRule().action(ctx)
    assert ctx.processed["thread_count"] == 2
    assert not ThreadCountRule().predicate(CrashContext("c", {}))
