"""SignatureGeneratorRule: siggen's signatures, with system libraries skipped and the termination kind named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crashcart.processor.context import CrashContext
from crashcart.processor.registry import RuleConfig
from crashcart.processor.rules.signature import SignatureGeneratorRule
from crashcart.processor.rulesets import build_ruleset
from crashcart.processor.signature import build_signature_generator, load_signature_lists


@pytest.fixture(scope="module")
def rule() -> SignatureGeneratorRule:
    return SignatureGeneratorRule(build_signature_generator(load_signature_lists()))


def frame(module: str | None, function: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"module": module, "function": function, **extra}


def crash(frames: list[dict[str, Any]], reason: str, os: str = "Linux", **processed: Any) -> CrashContext:
    json_dump = {
        "status": "OK",
        "system_info": {"os": os},
        "crash_info": {"type": reason, "crashing_thread": 0},
        "threads": [{"frames": [dict(f, frame=i) for i, f in enumerate(frames)]}],
    }
    return CrashContext("c0ffee00-0000-0000-0000-000000261126", {}, processed={"json_dump": json_dump, **processed})


def sign(rule: SignatureGeneratorRule, ctx: CrashContext) -> str:
    rule.action(ctx)
    signature: str = ctx.processed["signature"]
    return signature


def test_linux_abort_through_stripped_libc_names_the_app_frame(rule: SignatureGeneratorRule) -> None:
    # libc without debug info: Breakpad names its frames by the nearest export (pthread_key_delete).
    ctx = crash(
        [
            frame("libc.so.6", "pthread_key_delete"),
            frame("libc.so.6", "raise"),
            frame("libc.so.6", "abort"),
            frame("configd", "ValidateConfig(Config const&)", file="/src/config.cc", line=88),
            frame("configd", "main"),
            frame("libc.so.6", "__libc_start_main"),
        ],
        "SIGABRT",
    )
    assert sign(rule, ctx) == "abort | ValidateConfig"
    assert ctx.processed["proto_signature"].startswith("pthread_key_delete | raise | abort | ValidateConfig")
    assert "SystemLibrarySignatureRule" in ctx.processed["signature_debug"]


def test_linux_abort_with_no_libc_symbols_uses_the_reason(rule: SignatureGeneratorRule) -> None:
    ctx = crash([frame("libc.so.6"), frame("libc.so.6"), frame("configd", "ValidateConfig")], "SIGABRT")
    assert sign(rule, ctx) == "abort | ValidateConfig"


def test_assert_fail_is_an_abort(rule: SignatureGeneratorRule) -> None:
    # __assert_fail is one of siggen's sentinels; stock siggen would sign "__assert_fail".
    ctx = crash(
        [
            frame("libc.so.6", "pthread_key_delete"),
            frame("libc.so.6", "raise"),
            frame("libc.so.6", "abort"),
            frame("libc.so.6", "__assert_fail"),
            frame("configd", "ValidateConfig"),
        ],
        "SIGABRT",
    )
    assert sign(rule, ctx) == "abort | ValidateConfig"


def test_uncaught_cpp_exception_through_libstdcxx(rule: SignatureGeneratorRule) -> None:
    ctx = crash(
        [
            frame("libc.so.6", "pthread_key_delete"),
            frame("libc.so.6", "raise"),
            frame("libc.so.6", "abort"),
            frame("libstdc++.so.6", "__gnu_cxx::__verbose_terminate_handler()"),
            frame("libstdc++.so.6", "std::terminate()"),
            frame("libstdc++.so.6", "__cxa_throw"),
            frame("parser", "ParseInput(std::__cxx11::basic_string<char> const&)"),
            frame("parser", "main"),
        ],
        "SIGABRT",
    )
    assert sign(rule, ctx) == "std::terminate | ParseInput"


def test_uncaught_cpp_exception_without_any_runtime_symbols(rule: SignatureGeneratorRule) -> None:
    ctx = crash(
        [
            frame("libc.so.6"),
            frame("libc.so.6"),
            frame("libstdc++.so.6"),
            frame("libstdc++.so.6"),
            frame("parser", "ParseInput"),
        ],
        "SIGABRT",
    )
    assert sign(rule, ctx) == "std::terminate | ParseInput"


def test_libstdcxx_assertion_is_an_abort_not_terminate(rule: SignatureGeneratorRule) -> None:
    ctx = crash(
        [
            frame("libc.so.6", "raise"),
            frame("libc.so.6", "abort"),
            frame("libstdc++.so.6", "std::__glibcxx_assert_fail(char const*, int, char const*, char const*)"),
            frame("parser", "Table::At(unsigned long)"),
        ],
        "SIGABRT",
    )
    assert sign(rule, ctx) == "abort | Table::At"


def test_macos_abort(rule: SignatureGeneratorRule) -> None:
    ctx = crash(
        [
            frame("libsystem_kernel.dylib", "__pthread_kill"),
            frame("libsystem_pthread.dylib", "pthread_kill"),
            frame("libsystem_c.dylib", "abort"),
            frame("Editor", "Document::Save()"),
        ],
        "EXC_CRASH / SIGABRT",
        os="Mac OS X",
    )
    assert sign(rule, ctx) == "abort | Document::Save"


def test_windows_fault_inside_ntdll_called_from_the_app(rule: SignatureGeneratorRule) -> None:
    ctx = crash(
        [
            frame("ntdll.dll", "RtlpFreeHeapInternal"),
            frame("ntdll.dll", "RtlFreeHeap"),
            frame("KERNELBASE.dll", "HeapFree"),
            frame("Widgets.exe", "Widget::Release()"),
            frame("Widgets.exe", "wmain"),
        ],
        "EXCEPTION_ACCESS_VIOLATION_READ",
        os="Windows NT",
    )
    assert sign(rule, ctx) == "ntdll.dll | Widget::Release"


def test_windows_uncaught_cpp_exception(rule: SignatureGeneratorRule) -> None:
    ctx = crash(
        [
            frame("KERNELBASE.dll", "RaiseException"),
            frame("VCRUNTIME140.dll", "_CxxThrowException"),
            frame("parser.exe", "ParseInput(std::string const&)"),
        ],
        "Unhandled C++ Exception",
        os="Windows NT",
    )
    assert sign(rule, ctx) == "std::terminate | ParseInput"


def test_windows_abort_via_fastfail(rule: SignatureGeneratorRule) -> None:
    ctx = crash(
        [frame("ucrtbase.dll", "abort"), frame("tool.exe", "CheckInvariant()")],
        "EXCEPTION_STACK_BUFFER_OVERRUN / FAST_FAIL_FATAL_APP_EXIT",
        os="Windows NT",
    )
    assert sign(rule, ctx) == "abort | CheckInvariant"


def test_only_system_frames_names_the_kind_and_module(rule: SignatureGeneratorRule) -> None:
    ctx = crash([frame("libc.so.6", "pthread_key_delete"), frame("libc.so.6", "clone")], "SIGABRT")
    assert sign(rule, ctx) == "abort | libc.so.6"


def test_app_crash_is_siggen_stock(rule: SignatureGeneratorRule) -> None:
    ctx = crash(
        [frame("app", "Parser::Next(int)"), frame("app", "Parser::Run()"), frame("libc.so.6", "__libc_start_main")],
        "SIGSEGV /0x00000000",
    )
    assert sign(rule, ctx) == "Parser::Next"
    assert ctx.processed["proto_signature"] == "Parser::Next | Parser::Run | __libc_start_main"


def test_firefox_crash_keeps_siggen_lists(rule: SignatureGeneratorRule) -> None:
    # siggen's prefix list keeps moz_abort and carries on; its irrelevant list drops mozalloc_abort.
    ctx = crash(
        [
            frame("xul.dll", "moz_abort"),
            frame("xul.dll", "mozalloc_abort"),
            frame("xul.dll", "mozilla::dom::ContentParent::KillHard(char const*)"),
            frame("xul.dll", "nsThread::ProcessNextEvent(bool, bool*)"),
        ],
        "EXCEPTION_BREAKPOINT",
        os="Windows NT",
    )
    assert sign(rule, ctx) == "moz_abort | mozilla::dom::ContentParent::KillHard"


def test_siggen_post_rules_still_apply(rule: SignatureGeneratorRule) -> None:
    ctx = crash([frame("app", "Recurse()")], "EXCEPTION_STACK_OVERFLOW", os="Windows NT")
    assert sign(rule, ctx) == "stackoverflow | Recurse"


def test_no_stack_is_empty_with_status(rule: SignatureGeneratorRule) -> None:
    ctx = CrashContext(
        "c0ffee00-0000-0000-0000-000000261126", {}, processed={"mdsw_status_string": "ERROR_NOT_A_MINIDUMP"}
    )
    assert sign(rule, ctx) == "EMPTY: no frame data available; ERROR_NOT_A_MINIDUMP"
    assert "proto_signature" not in ctx.processed


def test_deployment_lists_extend_system_libraries(tmp_path: Path) -> None:
    (tmp_path / "system_libraries.txt").write_text("# our platform runtime\nlibplatform_rt.so*\n")
    rule = SignatureGeneratorRule(build_signature_generator(load_signature_lists(tmp_path)))
    ctx = crash([frame("libplatform_rt.so.2", "rt_panic"), frame("game", "Level::Load()")], "SIGABRT")
    assert sign(rule, ctx) == "abort | Level::Load"
    assert f"using signature lists from siggen+crashcart+{tmp_path}" in ctx.processed["signature_debug"]


def test_deployment_prefix_list_applies_to_app_frames(tmp_path: Path) -> None:
    (tmp_path / "prefix_signature_re.txt").write_text("ValidateConfig\n")
    rule = SignatureGeneratorRule(build_signature_generator(load_signature_lists(tmp_path)))
    ctx = crash(
        [frame("libc.so.6", "raise"), frame("configd", "ValidateConfig"), frame("configd", "LoadAll()")], "SIGABRT"
    )
    assert sign(rule, ctx) == "abort | ValidateConfig | LoadAll"


def test_failing_siggen_rule_note_has_no_message_and_the_error_is_logged(
    rule: SignatureGeneratorRule, caplog: pytest.LogCaptureFixture
) -> None:
    # A malformed stack makes siggen's first rule raise; siggen's note would carry the exception message.
    ctx = crash([frame("app", "Alloc()")], "SIGSEGV")
    ctx.processed["json_dump"]["threads"] = [{"frames": "not a list"}]
    rule.action(ctx)
    assert "SignatureGenerationRule: Rule failed" in ctx.notes
    assert all(": Rule failed:" not in note for note in ctx.notes)
    # The generator's error handler (built in by default): the traceback goes to the operators' log.
    logged = [r for r in caplog.records if r.getMessage() == "signature rule SignatureGenerationRule failed"]
    assert logged and logged[0].exc_info is not None


def test_regenerate_signature_ruleset() -> None:
    config = RuleConfig(signature_generator=build_signature_generator(load_signature_lists()))
    rules = build_ruleset("regenerate_signature", config)
    assert [r.name for r in rules] == ["signature_generator"]
    ctx = crash([frame("libc.so.6", "raise"), frame("configd", "ValidateConfig")], "SIGABRT")
    ctx.processed["signature"] = "old"
    for r in rules:
        if r.predicate(ctx):
            r.action(ctx)
    assert ctx.processed["signature"] == "abort | ValidateConfig"
