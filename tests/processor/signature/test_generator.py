"""The siggen adapter's pieces: module globs, termination kinds, and the merged-lists tool."""

from __future__ import annotations

from typing import Any

import pytest

from crashcart.processor.signature import (
    ABORT,
    TERMINATE,
    ListsCSignatureTool,
    ModuleMatcher,
    SystemLibrarySignatureRule,
    build_signature_generator,
    load_signature_lists,
    signature_data,
)
from crashcart.processor.signature.lists import SignatureLists


@pytest.fixture(scope="module")
def lists() -> SignatureLists:
    return load_signature_lists()


@pytest.fixture(scope="module")
def system_rule(lists: SignatureLists) -> SystemLibrarySignatureRule:
    return SystemLibrarySignatureRule(ListsCSignatureTool(lists), lists)


@pytest.mark.parametrize(
    "module",
    [
        "libc.so.6",
        "libc-2.31.so",
        "ld-linux-x86-64.so.2",
        "libpthread.so.0",
        "libstdc++.so.6",
        "libc++abi.dylib",
        "libsystem_kernel.dylib",
        "NTDLL.DLL",
        "KERNELBASE.dll",
        "vcruntime140_1.dll",
        "api-ms-win-crt-runtime-l1-1-0.dll",
    ],
)
def test_system_libraries(lists: SignatureLists, module: str) -> None:
    assert ModuleMatcher(lists.system_libraries)(module)


@pytest.mark.parametrize("module", ["app", "libcurl.so.4", "libcrypto.so.3", "xul.dll", "XUL", "", None])
def test_not_system_libraries(lists: SignatureLists, module: str | None) -> None:
    assert not ModuleMatcher(lists.system_libraries)(module)


def test_empty_matcher_matches_nothing() -> None:
    assert not ModuleMatcher([])("libc.so.6")


def f(module: str, function: str | None = None) -> dict[str, Any]:
    return {"module": module, "function": function}


@pytest.mark.parametrize(
    ("frames", "reason", "kind"),
    [
        ([f("libc.so.6", "raise")], "SIGSEGV", ABORT),
        ([f("libc.so.6")], "SIGABRT", ABORT),
        ([f("libc.so.6", "memcpy")], "SIGSEGV /0x00000000", None),
        ([f("libstdc++.so.6", "__cxa_throw")], "SIGSEGV", TERMINATE),
        ([f("libc.so.6"), f("libstdc++.so.6")], "SIGABRT", TERMINATE),
        ([f("libc.so.6", "abort"), f("libstdc++.so.6", "std::__glibcxx_assert_fail(char const*)")], "SIGABRT", ABORT),
        ([f("KERNELBASE.dll", "RaiseException")], "Unhandled C++ Exception", TERMINATE),
        ([f("KERNELBASE.dll", "RaiseException")], "0x406d1388", None),
        ([f("ucrtbase.dll")], "FAST_FAIL_FATAL_APP_EXIT", ABORT),
    ],
)
def test_termination_kind(
    system_rule: SystemLibrarySignatureRule, frames: list[dict[str, Any]], reason: str, kind: str | None
) -> None:
    assert system_rule.termination_kind(frames, reason, windows=False) == kind


def test_empty_lists_do_not_make_everything_irrelevant() -> None:
    empty = SignatureLists((), (), (), (), (), (), ())
    generator = build_signature_generator(empty)
    data = {"crashing_thread": 0, "threads": [{"frames": [f("app", "Run()"), f("app", "main")]}], "os": "Linux"}
    assert generator.generate(data).signature == "Run"


def test_signature_data_follows_siggen_schema() -> None:
    processed = {
        "crashing_thread": 0,
        "abort_message": "boom",
        "json_dump": {
            "crash_info": {"type": "SIGABRT", "crashing_thread": 0},
            "system_info": {"os": "Linux"},
            "threads": [],
        },
    }
    data = signature_data(processed)
    assert (data["crashing_thread"], data["reason"], data["os"], data["threads"]) == (0, "SIGABRT", "Linux", [])
    assert data["abort_message"] == "boom"
