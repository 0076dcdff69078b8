from __future__ import annotations

from crashcart.stackwalk import SimpleSymbols
from tests.stackwalk.helpers import Stack, module, run, summary

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
    frames, _ = run("x86", {"eip": 0x401001, "esp": BASE, "ebp": 0x99, "esi": 4}, stack, [APP], supplier=symbols)
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
    frames, _ = run("x86", {"eip": 0x401010, "esp": BASE, "ebp": ebp}, stack, [APP], supplier=symbols)
    assert summary(frames)[:2] == [("app.exe", 0x1010, "context"), ("app.exe", 0x2005, "cfi")]
    assert frames[1].registers["esp"] == ebp + 8


def test_stack_win_fpo_uses_frame_sizes() -> None:
    symbols = SimpleSymbols()
    # FPO, no base pointer: 8 bytes of locals and 4 of saved registers sit above esp before the return address.
    symbols.add("app.exe", APP.debug_id, "FUNC 2000 100 0 g\nSTACK WIN 0 1000 100 0 0 4 4 8 0 0 0\n")
    stack = Stack(BASE, 4)
    stack.push(1, 2, 3, 0x402005, 0, 0)
    frames, _ = run("x86", {"eip": 0x401010, "esp": BASE, "ebp": 0}, stack, [APP], supplier=symbols)
    assert summary(frames)[:2] == [("app.exe", 0x1010, "context"), ("app.exe", 0x2005, "cfi")]
    assert frames[1].registers["esp"] == BASE + 16


def test_stack_win_rescans_when_the_return_address_is_outside_modules() -> None:
    symbols = SimpleSymbols()
    symbols.add("app.exe", APP.debug_id, "FUNC 2000 100 0 g\nSTACK WIN 0 1000 100 0 0 0 0 0 0 0 0\n")
    stack = Stack(BASE, 4)
    stack.push(0x1234, 0, 0, 0, 0, 0x402007, 0)  # beyond the 3-word look-ahead
    frames, _ = run("x86", {"eip": 0x401010, "esp": BASE, "ebp": 0}, stack, [APP], supplier=symbols)
    assert summary(frames)[:2] == [("app.exe", 0x1010, "context"), ("app.exe", 0x2007, "cfi_scan")]
