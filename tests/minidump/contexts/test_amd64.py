from __future__ import annotations

import pytest

from crashcart.minidump import MinidumpError
from crashcart.minidump.contexts import ContextAmd64, parse_context
from tests.minidump import synth

REGS = {name: 0x1000 + i for i, name in enumerate(synth.AMD64_GPRS)}


def test_every_general_purpose_register() -> None:
    ctx = parse_context(synth.amd64_context(**REGS, eflags=0x10246, mxcsr=0x1F80), cpu_architecture=synth.ARCH_AMD64)
    assert isinstance(ctx, ContextAmd64)
    for name, value in REGS.items():
        assert ctx[name] == value, name
    assert ctx.instruction_pointer == REGS["rip"]
    assert ctx.stack_pointer == REGS["rsp"]
    assert ctx.frame_pointer == REGS["rbp"]
    assert (ctx["eflags"], ctx["mxcsr"], ctx["cs"], ctx["ss"]) == (0x10246, 0x1F80, 0x33, 0x2B)
    assert list(ctx.registers)[:8] == ["rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp"]
    assert len(ctx.xmm_save_area) == 512


def test_validity() -> None:
    ctx = parse_context(synth.amd64_context(flags=0x00100003), cpu_architecture=synth.ARCH_AMD64)
    assert ctx.is_valid("rip") and ctx.is_valid("r15") and not ctx.is_valid("ds") and not ctx.is_valid("dr0")


def test_xsave_context_without_system_info_needs_the_exact_size() -> None:
    raw = synth.amd64_context(flags=0x0010005F, rip=0x1234, xstate=b"\0" * 175)
    assert parse_context(raw, cpu_architecture=synth.ARCH_AMD64).instruction_pointer == 0x1234
    with pytest.raises(MinidumpError) as err:
        parse_context(raw)  # 1407 bytes, CPU bits say amd64, but the flags are at offset 48, not 0
    assert err.value.code == "bad_context"


def test_amd64_context_must_match_the_system_info() -> None:
    with pytest.raises(MinidumpError, match="does not match the system info"):
        parse_context(synth.amd64_context(), cpu_architecture=synth.ARCH_ARM64)
