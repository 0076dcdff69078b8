from __future__ import annotations

from crashcart.minidump.contexts import ContextX86, parse_context
from tests.minidump import synth


def test_registers_by_name_and_accessors() -> None:
    raw = synth.x86_context(
        eip=0x401000,
        esp=0x12FF00,
        ebp=0x12FF40,
        eax=1,
        ebx=2,
        ecx=3,
        edx=4,
        esi=5,
        edi=6,
        eflags=0x246,
        cs=0x1B,
        ss=0x23,
        gs=0x2B,
        dr7=0x400,
    )
    ctx = parse_context(raw, cpu_architecture=synth.ARCH_X86)
    assert isinstance(ctx, ContextX86)
    assert (ctx.instruction_pointer, ctx.stack_pointer, ctx.frame_pointer) == (0x401000, 0x12FF00, 0x12FF40)
    assert ctx["eax"] == 1 and ctx["ebx"] == 2 and ctx["ecx"] == 3 and ctx["edx"] == 4
    assert ctx["esi"] == 5 and ctx["edi"] == 6 and ctx["eflags"] == 0x246 and ctx.get("efl") == 0x246
    assert (ctx["cs"], ctx["ss"], ctx["gs"], ctx["dr7"]) == (0x1B, 0x23, 0x2B, 0x400)
    assert list(ctx.registers)[:10] == ["eip", "esp", "ebp", "ebx", "esi", "edi", "eax", "ecx", "edx", "eflags"]
    assert ctx.get("rax") is None
    assert ctx.POINTER_SIZE == 4 and ctx.CPU == "x86"
    assert len(ctx.raw) == 716


def test_validity_follows_the_group_flags() -> None:
    control_only = parse_context(synth.x86_context(flags=0x00010001), cpu_architecture=synth.ARCH_X86)
    assert control_only.is_valid("eip") and control_only.is_valid("esp") and control_only.is_valid("ebp")
    assert not control_only.is_valid("eax")
    full = parse_context(synth.x86_context(flags=0x0001003F), cpu_architecture=synth.ARCH_X86)
    assert {"eax", "ebx", "gs", "dr0", "eip"} <= full.valid


def test_xsave_context_is_accepted_with_its_extra_bytes() -> None:
    raw = synth.x86_context(flags=0x0001007F, eip=7) + b"\xaa" * 431
    ctx = parse_context(raw, cpu_architecture=synth.ARCH_X86)
    assert ctx.instruction_pointer == 7 and len(ctx.raw) == 1147
