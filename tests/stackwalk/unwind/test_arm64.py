from __future__ import annotations

from tests.stackwalk.helpers import Stack, module, run, summary
from tests.stackwalk.simple_symbols import SimpleSymbols

APP = module("app", 0x10_0000_0000, 0x100000)
BASE = 0x16F0_0000
MASK = (1 << 37) - 1  # all ones up to the highest module address bit
PAC = 0x002A_0000_0000_0000


def test_frame_records_with_pointer_authentication() -> None:
    stack = Stack(BASE)
    stack.push(0, 0)
    fp1 = stack.push(0, PAC | 0x10_0000_3008)
    fp2 = stack.push(0, 0)
    stack.words[(fp1 - BASE) // 8] = fp2
    regs = {"pc": 0x10_0000_1000, "sp": BASE, "fp": fp1, "lr": PAC | 0x10_0000_2004}
    frames, _ = run("arm64", regs, stack, [APP], os="Mac OS X", address_mask=MASK)
    # arm64 frames print the call instruction (pc - 4), as Breakpad does.
    assert summary(frames) == [
        ("app", 0x1000, "context"),
        ("app", 0x2000, "frame_pointer"),
        ("app", 0x3004, "frame_pointer"),
    ]
    assert frames[0].registers["lr"] == 0x10_0000_2004


def test_cfi_uses_x29_and_x30_names() -> None:
    symbols = SimpleSymbols()
    symbols.add(
        "app",
        APP.debug_id,
        "STACK CFI INIT 1000 40 .cfa: sp 0 + .ra: x30\n"
        "STACK CFI 1004 .cfa: x29 16 + .ra: .cfa -8 + ^ x29: .cfa -16 + ^ x19: .cfa -24 + ^\n",
    )
    stack = Stack(BASE)
    stack.push(0, 0, 0x77)  # x19 saved at cfa - 24
    fp = stack.push(0xF00D, 0x10_0000_5004)
    regs = {"pc": 0x10_0000_1010, "sp": BASE, "fp": fp, "lr": 0x10_0000_9999, "x19": 1, "x20": 2}
    frames, _ = run("arm64", regs, stack, [APP], symbols=symbols, address_mask=MASK)
    assert summary(frames)[:2] == [("app", 0x1010, "context"), ("app", 0x5000, "cfi")]
    caller = frames[1].registers
    assert caller["fp"] == 0xF00D
    assert caller["sp"] == fp + 16
    assert caller["x19"] == 0x77
    assert caller["x20"] == 2


def test_scan() -> None:
    stack = Stack(BASE)
    stack.push(5, 0x10_0000_4004, 0)
    frames, _ = run("arm64", {"pc": 0x10_0000_1000, "sp": BASE}, stack, [APP])
    assert summary(frames) == [("app", 0x1000, "context"), ("app", 0x4000, "scan")]
