"""Stack rules: truncation, topmost file, modules in stack, missing symbols, thread count, crash-info flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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
from tests.helpers.realcrash import crash_with_crashpad, crashpad_unavailable
from tests.helpers.shared import CORPUS
from tests.minidump.synth import OS_WINDOWS
from tests.processor.rules.processed import ProcessDump
from tests.stackwalk.crash_dumps import crash_dump, guard_page_dump, non_canonical_dump


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


# --- the crash-info flags on processed dumps (real walks, issue #8) ----------------------------------------------


def _corpus(name: str) -> Path:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus dump {path} not found")
    return path


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("dump", "confidence"),
    [
        ("rust-minidump__rust-minidump/dumps/linux-mini.dmp", 25),  # rust-minidump's snapshot: one flip at 0.25
        ("google__breakpad/dumps/linux_write_to_under_4k.dmp", 66),  # 0xf93 → 0x400f93 with two registers nearby
        ("google__breakpad/dumps/linux_in_module_outside_executable_part.dmp", 62),
        ("google__breakpad/dumps/linux_null_dereference.dmp", None),  # a null pointer is no bit flip
        ("google__breakpad/dumps/thread_name_list.dmp", None),  # x86: never checked
    ],
)
def test_possible_bit_flips_on_processed_corpus_dumps(
    process_dump: ProcessDump, dump: str, confidence: int | None
) -> None:
    processed = process_dump(_corpus(dump))
    assert processed.get("possible_bit_flips_max_confidence") == confidence


@pytest.mark.corpus
@pytest.mark.parametrize(
    "dump",
    [
        "google__breakpad/dumps/write_av_non_canonical.dmp",
        "google__breakpad/dumps/stack_exhaustion.dmp",
        "google__breakpad/dumps/read_av_non_null.dmp",
        "rust-minidump__rust-minidump/dumps/stability-report.dmp",  # Windows memory info list, write to NULL
        "mozilla-services__minidump-stackwalk/dumps/windows-x86_64.dmp",  # memory info list, int3
    ],
)
def test_consistent_corpus_dumps_raise_no_flags(process_dump: ProcessDump, dump: str) -> None:
    """No corpus dump hits a guard page or contradicts itself: the walker says so and the rules stay quiet."""
    processed = process_dump(_corpus(dump))
    assert processed["json_dump"]["crash_info"]["crash_inconsistencies"] == []
    assert "crash_inconsistencies" not in processed
    assert "has_guard_page_access" not in processed


def test_guard_page_access_on_a_processed_dump(process_dump: ProcessDump, tmp_path: Path) -> None:
    dump = tmp_path / "guard.dmp"
    dump.write_bytes(guard_page_dump())
    processed = process_dump(dump)
    assert processed["json_dump"]["crash_info"]["memory_accesses"][0]["is_likely_guard_page"] is True
    assert processed["has_guard_page_access"] is True


def test_crash_inconsistency_on_a_processed_dump(process_dump: ProcessDump, tmp_path: Path) -> None:
    """A write violation whose instruction only reads (``mov eax, [rax]``)."""
    dump = tmp_path / "inconsistent.dmp"
    dump.write_bytes(
        crash_dump(
            bytes.fromhex("8b00"),
            platform=OS_WINDOWS,
            exception_code=0xC0000005,
            exception_flags=0,
            params=(1, 0x1000),
            rax=0x1000,
        )
    )
    processed = process_dump(dump)
    assert processed["reason"] == "EXCEPTION_ACCESS_VIOLATION_WRITE"
    assert processed["crash_inconsistencies"] == ["crashing_access_not_found_in_memory_accesses"]


def test_non_canonical_bit_flip_on_a_processed_dump(process_dump: ProcessDump, tmp_path: Path) -> None:
    dump = tmp_path / "non-canonical.dmp"
    dump.write_bytes(non_canonical_dump())
    processed = process_dump(dump)
    assert processed["possible_bit_flips_max_confidence"] == 92  # 0.92499995: non-canonical, one bit away
    assert processed["address"] == "0x0001555555550018"  # the adjusted address, not the GPF's 0


CRASHPAD_UNAVAILABLE = crashpad_unavailable()


@pytest.mark.slow
@pytest.mark.skipif(CRASHPAD_UNAVAILABLE is not None, reason=CRASHPAD_UNAVAILABLE or "")
@pytest.mark.parametrize(
    ("program", "guard_page"),
    [
        # A write into a PROT_NONE page after the written one; Crashpad's Linux dump has no memory map to show it.
        ("guard_page", None),
        # The same, with /proc/self/maps attached by the program as a user stream: the guard page is seen.
        ("guard_page_maps", True),
        # A write through a non-canonical pointer: no guard page, no bit flip, nothing inconsistent.
        ("non_canonical", None),
    ],
)
def test_real_crashpad_crash_info_flags_through_the_default_ruleset(
    process_dump: ProcessDump, tmp_path: Path, program: str, guard_page: bool | None
) -> None:
    """Crashes written by Crashpad's real handler and stored by the collector (``tests/helpers/realcrash.py``),
    through the production walker and the default ruleset: what the crash-info flag rules make of them."""
    crash = crash_with_crashpad(program, tmp_path)
    processed = process_dump(crash.dump)
    crash_info = processed["json_dump"]["crash_info"]
    assert crash_info["memory_accesses"] is not None  # the instruction was decoded: the rules had facts to use
    assert processed.get("has_guard_page_access") is guard_page
    assert crash_info["crash_inconsistencies"] == []
    assert "crash_inconsistencies" not in processed
    assert crash_info["possible_bit_flips"] is None
    assert "possible_bit_flips_max_confidence" not in processed
