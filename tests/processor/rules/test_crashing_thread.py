"""CrashingThreadInfoRule: crashing thread, its name, reason and the adjusted address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.crashing_thread import CrashingThreadInfoRule, crashing_address
from tests.helpers.realcrash import crash_with_crashpad, crashpad_unavailable
from tests.helpers.shared import CORPUS
from tests.processor.rules.processed import ProcessDump
from tests.stackwalk.crash_dumps import null_field_dump


def run(json_dump: dict[str, Any]) -> CrashContext:
    ctx = CrashContext("c", {}, processed={"json_dump": json_dump})
    rule = CrashingThreadInfoRule()
    assert rule.predicate(ctx)
    rule.action(ctx)
    return ctx


def test_fields() -> None:
    ctx = run(
        {
            "crash_info": {"type": "EXCEPTION_ACCESS_VIOLATION_READ", "address": "0x000f1004", "crashing_thread": 5},
            "crashing_thread": {"threads_index": 5, "thread_name": "Renderer", "last_error_value": "ERROR_SUCCESS"},
        }
    )
    assert ctx.processed == {
        "json_dump": ctx.processed["json_dump"],
        "crashing_thread": 5,
        "crashing_thread_name": "Renderer",
        "reason": "EXCEPTION_ACCESS_VIOLATION_READ",
        "address": "0x000f1004",
        "last_error_value": "ERROR_SUCCESS",
    }
    assert ctx.notes == []


def test_no_crashing_thread_is_noted() -> None:
    ctx = run({"crash_info": {"type": "SIGSEGV", "address": None, "crashing_thread": None}})
    assert ctx.processed["crashing_thread"] is None
    assert ctx.processed["crashing_thread_name"] is None
    assert ctx.processed["address"] is None
    assert ctx.notes == ["stackwalker did not identify the crashing thread"]


def test_empty_json_dump() -> None:
    ctx = run({})
    assert (ctx.processed["crashing_thread"], ctx.processed["reason"]) == (None, "")


def test_no_json_dump_no_run() -> None:
    assert not CrashingThreadInfoRule().predicate(CrashContext("c", {}))


@pytest.mark.parametrize(
    ("crash_info", "expected"),
    [
        ({"address": "0x0000000000000045"}, "0x0000000000000045"),
        ({"address": "0x0000000000000045", "adjusted_address": None}, "0x0000000000000045"),
        (
            {"address": "0x0000000000000045", "adjusted_address": {"kind": "null-pointer", "offset": "0x45"}},
            "0x0000000000000000",
        ),
        ({"address": "0x00000045", "adjusted_address": {"kind": "null-pointer", "offset": "0x45"}}, "0x00000000"),
        (
            {
                "address": "0x0000000000000000",
                "adjusted_address": {"kind": "non-canonical", "address": "0xe5e5e5e5e5e5e5e5"},
            },
            "0xe5e5e5e5e5e5e5e5",
        ),
        ({"address": "0x0000000000000000", "adjusted_address": {"kind": "non-canonical"}}, "0x0000000000000000"),
        ({}, None),
    ],
)
def test_address_adjustments(crash_info: dict[str, Any], expected: str | None) -> None:
    assert crashing_address(crash_info) == expected


# --- the address on processed dumps (real walks, issue #8) -----------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("dump", "reported", "address"),
    [
        # mov qword [rax + rcx], … with rax = 0: Windows reports a GPF (all ones); the base was NULL.
        ("google__breakpad/dumps/write_av_non_canonical.dmp", "0xffffffffffffffff", "0x0000000000000000"),
        ("google__breakpad/dumps/null_read_av.dmp", "0x00000000", "0x00000000"),  # x86, mov eax, [eax]
        ("getsentry__symbolic/dumps/crash_linux.dmp", "0x0000000000000000", "0x0000000000000000"),
        ("google__breakpad/dumps/linux_write_to_under_4k.dmp", "0x0000000000000f93", "0x0000000000000f93"),
        ("rust-minidump__rust-minidump/dumps/linux-mini.dmp", "0x0000000000000045", "0x0000000000000045"),
    ],
)
def test_address_of_processed_corpus_dumps(process_dump: ProcessDump, dump: str, reported: str, address: str) -> None:
    path = CORPUS / dump
    if not path.is_file():
        pytest.skip(f"corpus dump {path} not found")
    processed = process_dump(path)
    assert processed["json_dump"]["crash_info"]["address"] == reported
    assert processed["address"] == address


def test_null_field_offset_gives_a_null_address(process_dump: ProcessDump, tmp_path: Path) -> None:
    """No corpus dump dereferences NULL plus a field offset; this synthetic one does (crash address 0x10)."""
    dump = tmp_path / "null-field.dmp"
    dump.write_bytes(null_field_dump())
    processed = process_dump(dump)
    crash_info = processed["json_dump"]["crash_info"]
    assert crash_info["adjusted_address"] == {"kind": "null-pointer", "offset": "0x0000000000000010"}
    assert crash_info["address"] == "0x0000000000000010"
    assert processed["address"] == "0x0000000000000000"


CRASHPAD_UNAVAILABLE = crashpad_unavailable()


@pytest.mark.slow
@pytest.mark.skipif(CRASHPAD_UNAVAILABLE is not None, reason=CRASHPAD_UNAVAILABLE or "")
@pytest.mark.parametrize(
    ("program", "adjusted", "address"),
    [
        # Crashpad asked for the memory around the registers: the code is in the dump, the rule reports NULL.
        ("field_null_memory", {"kind": "null-pointer", "offset": "0x0000000000000028"}, "0x0000000000000000"),
        # Crashpad's defaults: no code bytes, nothing to adjust, the kernel's address is kept.
        ("field_null", None, "0x0000000000000028"),
    ],
)
def test_real_crashpad_null_field_through_the_default_ruleset(
    process_dump: ProcessDump, tmp_path: Path, program: str, adjusted: dict[str, str] | None, address: str
) -> None:
    """A crash written by Crashpad's real handler and stored by the collector (``tests/helpers/realcrash.py``)."""
    crash = crash_with_crashpad(program, tmp_path)
    processed = process_dump(crash.dump)
    crash_info = processed["json_dump"]["crash_info"]
    assert crash_info["address"] == "0x0000000000000028"
    assert crash_info["adjusted_address"] == adjusted
    assert processed["reason"] == "SIGSEGV /SEGV_MAPERR"
    assert processed["address"] == address


@pytest.mark.slow
@pytest.mark.skipif(CRASHPAD_UNAVAILABLE is not None, reason=CRASHPAD_UNAVAILABLE or "")
def test_real_crashpad_non_canonical_write_gives_the_non_canonical_address(
    process_dump: ProcessDump, tmp_path: Path
) -> None:
    """A write through 0x4141414141414141 + 0x28: Linux reports the general-protection fault with address 0; the
    rule replaces it with the non-canonical address the decoded instruction wrote to."""
    crash = crash_with_crashpad("non_canonical", tmp_path)
    processed = process_dump(crash.dump)
    crash_info = processed["json_dump"]["crash_info"]
    assert crash_info["address"] == "0x0000000000000000"
    assert crash_info["adjusted_address"] == {"kind": "non-canonical", "address": "0x4141414141414169"}
    assert processed["reason"] == "SIGSEGV /0x00000080"
    assert processed["address"] == "0x4141414141414169"
