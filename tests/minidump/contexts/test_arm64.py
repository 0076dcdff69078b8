from __future__ import annotations

from crashcart.minidump.contexts import ContextArm64, parse_context
from tests.minidump import synth

REGS = {f"x{i}": 0x100 + i for i in range(29)} | {"fp": 0x7FF0, "lr": 0x1004, "sp": 0x7F00, "pc": 0x1000}


def test_current_layout() -> None:
    raw = synth.arm64_context(v0=(1 << 127) | 5, fpcr=0x1, fpsr=0x2, **REGS)
    ctx = parse_context(raw, cpu_architecture=synth.ARCH_ARM64)
    assert isinstance(ctx, ContextArm64) and not ctx.old_layout
    for name, value in REGS.items():
        assert ctx[name] == value, name
    assert ctx.get("x29") == 0x7FF0 and ctx.get("x30") == 0x1004
    assert (ctx.instruction_pointer, ctx.stack_pointer, ctx.frame_pointer) == (0x1000, 0x7F00, 0x7FF0)
    assert ctx["cpsr"] == 0x60000000
    assert ctx.vector_registers[0] == (1 << 127) | 5 and len(ctx.vector_registers) == 32
    assert (ctx.fpcr, ctx.fpsr) == (1, 2)
    assert ctx.is_valid("x0") and ctx.is_valid("pc")


def test_control_flag_only_validates_the_control_registers() -> None:
    ctx = parse_context(synth.arm64_context(flags=0x00400001, **REGS), cpu_architecture=synth.ARCH_ARM64)
    assert ctx.is_valid("pc") and ctx.is_valid("fp") and not ctx.is_valid("x0")


def test_old_breakpad_layout() -> None:
    ctx = parse_context(synth.arm64_old_context(**REGS), cpu_architecture=synth.ARCH_ARM64_OLD)
    assert isinstance(ctx, ContextArm64) and ctx.old_layout
    for name, value in REGS.items():
        assert ctx[name] == value, name
    assert ctx["cpsr"] == 0x60000000 and ctx.is_valid("x28") and ctx.is_valid("sp")


def test_old_layout_is_accepted_with_the_new_architecture_value() -> None:
    ctx = parse_context(synth.arm64_old_context(**REGS), cpu_architecture=synth.ARCH_ARM64)
    assert isinstance(ctx, ContextArm64) and ctx.old_layout and ctx.instruction_pointer == 0x1000
