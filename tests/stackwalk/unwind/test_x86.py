from __future__ import annotations

import pytest

from tests.stackwalk.helpers import Stack, module, run, summary
from tests.stackwalk.simple_symbols import SimpleSymbols

APP = module("app.exe", 0x400000, 0x10000)
BASE = 0x0012_0000


def test_ebp_chain_then_scan() -> None:
    stack = Stack(BASE, 4)
    stack.push(0, 0)
    ebp1 = stack.push(0, 0x402005)
    stack.push(0, 0, 0)
    stack.words[2] = 0x0BAD_0000  # the caller's ebp points outside the stack: next step scans
    stack.push(0x403007, 0)
    frames, _ = run("x86", {"eip": 0x401000, "esp": BASE, "ebp": ebp1}, stack, [APP], os="Windows NT")
    assert summary(frames) == [
        ("app.exe", 0x1000, "context"),
        ("app.exe", 0x2005, "frame_pointer"),
        ("app.exe", 0x3007, "scan"),
    ]
    assert frames[1].registers["esp"] == ebp1 + 8


def test_cfi() -> None:
    symbols = SimpleSymbols()
    symbols.add("app.exe", APP.debug_id, "STACK CFI INIT 1000 10 .cfa: $esp 4 + .ra: .cfa 4 - ^ $ebp: $ebp\n")
    stack = Stack(BASE, 4)
    stack.push(0x402002, 0, 0)
    frames, _ = run("x86", {"eip": 0x401001, "esp": BASE, "ebp": 0x99, "esi": 4}, stack, [APP], symbols=symbols)
    assert summary(frames)[:2] == [("app.exe", 0x1001, "context"), ("app.exe", 0x2002, "cfi")]
    assert frames[1].registers == {"ebp": 0x99, "esi": 4, "eip": 0x402002, "esp": BASE + 4}


def test_stack_win_frame_data_program() -> None:
    symbols = SimpleSymbols()
    symbols.add(
        "app.exe",
        APP.debug_id,
        "FUNC 1000 100 8 f\nFUNC 2000 100 0 g\n"
        "STACK WIN 4 1000 100 3 0 8 0 0 0 1 $T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + =\n",
    )
    stack = Stack(BASE, 4)
    stack.push(0, 0)
    ebp = stack.push(0, 0x402005)
    stack.words[2] = stack.push(0, 0)
    frames, _ = run("x86", {"eip": 0x401010, "esp": BASE, "ebp": ebp}, stack, [APP], symbols=symbols)
    assert summary(frames)[:2] == [("app.exe", 0x1010, "context"), ("app.exe", 0x2005, "cfi")]
    assert frames[1].registers["esp"] == ebp + 8


def test_stack_win_fpo_uses_frame_sizes() -> None:
    symbols = SimpleSymbols()
    # FPO, no base pointer: 8 bytes of locals and 4 of saved registers sit above esp before the return address.
    symbols.add("app.exe", APP.debug_id, "FUNC 2000 100 0 g\nSTACK WIN 0 1000 100 0 0 4 4 8 0 0 0\n")
    stack = Stack(BASE, 4)
    stack.push(1, 2, 3, 0x402005, 0, 0)
    frames, _ = run("x86", {"eip": 0x401010, "esp": BASE, "ebp": 0}, stack, [APP], symbols=symbols)
    assert summary(frames)[:2] == [("app.exe", 0x1010, "context"), ("app.exe", 0x2005, "cfi")]
    assert frames[1].registers["esp"] == BASE + 16


def test_stack_win_rescans_when_the_return_address_is_outside_modules() -> None:
    symbols = SimpleSymbols()
    symbols.add("app.exe", APP.debug_id, "FUNC 2000 100 0 g\nSTACK WIN 0 1000 100 0 0 0 0 0 0 0 0\n")
    stack = Stack(BASE, 4)
    stack.push(0x1234, 0, 0, 0, 0, 0x402007, 0)  # beyond the 3-word look-ahead
    frames, _ = run("x86", {"eip": 0x401010, "esp": BASE, "ebp": 0}, stack, [APP], symbols=symbols)
    assert summary(frames)[:2] == [("app.exe", 0x1010, "context"), ("app.exe", 0x2007, "cfi_scan")]


def test_stack_win_callee_parameter_size_is_the_lowest_frames_as_in_breakpad() -> None:
    """Breakpad's ``.cbCalleeParams`` loop has no ``break``: the parameter size that sticks is frame 0's, not
    the callee's. Frame 2's ``.raSearch`` program therefore starts 16 bytes (frame 0's parameters) above esp,
    although its callee (frame 1) takes none; a return address at esp itself is skipped (corpus windows-x86
    thread 54)."""
    ebp_program = "$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + ="
    symbols = SimpleSymbols()
    symbols.add(
        "app.exe",
        APP.debug_id,
        "FUNC 1000 100 10 a\nFUNC 2000 100 0 b\nFUNC 3000 100 0 c\nFUNC 4000 100 0 d\nFUNC 5000 100 0 e\n"
        f"STACK WIN 4 1000 100 0 0 10 0 0 0 1 {ebp_program}\n"
        f"STACK WIN 4 2000 100 0 0 0 0 0 0 1 {ebp_program}\n"
        "STACK WIN 4 3000 100 0 0 0 0 0 0 1 $T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + =\n",
    )
    stack = Stack(BASE, 4)
    stack.push(0, 0)
    ebp0 = stack.push(0, 0x402005)  # frame 0 (a): saved ebp, return into b
    ebp1 = stack.push(0, 0x403005)  # frame 1 (b): saved ebp, return into c
    stack.words[(ebp0 - BASE) // 4] = ebp1
    esp2 = stack.push(0x405009, 0, 0, 0)  # what the real callee size (0) would pick: a return into e
    stack.push(0x404007, 0)  # esp2 + 16: Breakpad's choice, a return into d
    frames, _ = run("x86", {"eip": 0x401010, "esp": BASE, "ebp": ebp0}, stack, [APP], symbols=symbols)
    assert summary(frames)[:4] == [
        ("app.exe", 0x1010, "context"),
        ("app.exe", 0x2005, "cfi"),
        ("app.exe", 0x3005, "cfi"),
        ("app.exe", 0x4007, "cfi"),
    ]
    assert frames[2].registers["esp"] == esp2
    assert frames[3].registers["esp"] == esp2 + 20


@pytest.mark.parametrize(
    ("gap", "restored"),
    [(4, True), (128 * 1024, True), (128 * 1024 + 4, False), (0, False)],
)
def test_scan_restores_ebp_from_the_word_below_the_return_address_as_breakpad(gap: int, restored: bool) -> None:
    """Breakpad's x86 scan takes the word below the found return address as the caller's ebp when it points
    above that word's own address by at most 128 KiB; otherwise ebp is unchanged. A saved ebp just above its
    slot counts (corpus linux-x86 thread 0 frame 23: ebp 0xffdd4e7c stored at 0xffdd4e78)."""
    stack = Stack(BASE, 4)
    slot = stack.push(0)
    stack.words[0] = slot + gap
    stack.push(0x402005, 0, 0)
    unreadable = 0x0BAD_0000
    frames, _ = run("x86", {"eip": 0x401000, "esp": BASE, "ebp": unreadable}, stack, [APP], os="Windows NT")
    assert summary(frames)[:2] == [("app.exe", 0x1000, "context"), ("app.exe", 0x2005, "scan")]
    assert frames[1].registers["ebp"] == (slot + gap if restored else unreadable)
