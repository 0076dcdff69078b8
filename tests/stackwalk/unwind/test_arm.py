from __future__ import annotations

from tests.stackwalk.helpers import Stack, module, run, summary
from tests.stackwalk.simple_symbols import SimpleSymbols

APP = module("libapp.so", 0x4000_0000, 0x100000)
BASE = 0xBE00_0000


def test_cfi_then_scan() -> None:
    symbols = SimpleSymbols()
    symbols.add(
        "libapp.so",
        APP.debug_id,
        "FUNC 3000 10 0 h\nSTACK CFI INIT 1000 20 .cfa: sp 8 + .ra: .cfa -4 + ^ r4: .cfa -8 + ^\n",
    )
    stack = Stack(BASE, 4)
    stack.push(0x44, 0x4000_2003, 0, 0x4000_3005, 0)
    frames, _ = run("arm", {"pc": 0x4000_1004, "sp": BASE, "lr": 0, "r4": 1, "r5": 2}, stack, [APP], symbols=symbols)
    assert summary(frames) == [
        ("libapp.so", 0x1004, "context"),
        ("libapp.so", 0x2001, "cfi"),  # pc - 2
        ("libapp.so", 0x3003, "scan"),
    ]
    assert frames[1].registers["r4"] == 0x44
    assert frames[1].registers["r5"] == 2


def test_ios_frame_pointer_is_r7() -> None:
    stack = Stack(BASE, 4)
    stack.push(0, 0)
    fp = stack.push(0, 0x4000_5005)
    stack.words[2] = stack.push(0, 0)  # the caller's record ends the chain
    regs = {"pc": 0x4000_1000, "sp": BASE, "r7": fp, "lr": 0x4000_4003}
    frames, _ = run("arm", regs, stack, [APP], os="iOS")
    assert [str(f.trust) for f in frames[:3]] == ["context", "frame_pointer", "frame_pointer"]
    assert [f.module_offset for f in frames[:3]] == [0x1000, 0x4001, 0x5003]
