from __future__ import annotations

from crashcart.minidump.contexts import ContextArm, parse_context
from tests.minidump import synth


def test_registers_and_the_frame_pointer_per_os() -> None:
    regs = {f"r{i}": i + 100 for i in range(13)} | {"sp": 0xBEEF0000, "lr": 0x4001, "pc": 0x4000}
    ctx = parse_context(synth.arm_context(cpsr=0x20000010, **regs), cpu_architecture=synth.ARCH_ARM)
    assert isinstance(ctx, ContextArm)
    assert ctx.instruction_pointer == 0x4000 and ctx.stack_pointer == 0xBEEF0000
    assert (
        ctx["lr"] == 0x4001 and ctx.get("r14") == 0x4001 and ctx.get("r15") == 0x4000 and ctx.get("r13") == 0xBEEF0000
    )
    assert ctx.frame_pointer == 111 and ctx.get("fp") == 111  # r11
    assert ctx["cpsr"] == 0x20000010
    assert ctx.is_valid("r0") and ctx.is_valid("pc")
    assert ctx.POINTER_SIZE == 4
    ios = parse_context(synth.arm_context(**regs), cpu_architecture=synth.ARCH_ARM, platform_id=synth.OS_IOS)
    assert isinstance(ios, ContextArm) and ios.ios
    assert ios.frame_pointer == 107 and ios.get("fp") == 107  # r7


def test_windows_ce_flag_means_arm_when_no_cpu_bit_is_set() -> None:
    ctx = parse_context(synth.arm_context(flags=0x00000040 | 0x2, pc=0x10))
    assert isinstance(ctx, ContextArm) and ctx.instruction_pointer == 0x10
