from __future__ import annotations

import pytest

from crashcart.stackwalk import Trust, WalkOptions
from tests.stackwalk.helpers import Stack, module, run, summary
from tests.stackwalk.simple_symbols import SimpleSymbols

APP = module("app", 0x400000, 0x10000)
LIB = module("lib.so", 0x7F00_0000_0000, 0x100000)
BASE = 0x7FFE_0000_0000


def fp_chain() -> tuple[Stack, dict[str, int]]:
    """context in app → (rbp record) → app+0x2005 → (rbp record) → lib+0x1234 → end."""
    stack = Stack(BASE)
    stack.push(0, 7, 0)  # locals of the context frame
    fp1 = stack.push(0, 0x402005)  # patched below
    stack.push(1, 2)
    fp2 = stack.push(0, 0x7F00_0000_1234)
    fp3 = stack.push(0, 0)
    stack.words[(fp1 - BASE) // 8] = fp2
    stack.words[(fp2 - BASE) // 8] = fp3
    stack.push(*([0] * 8))
    return stack, {"rip": 0x401000, "rsp": BASE, "rbp": fp1, "rbx": 5, "r12": 6}


def test_frame_pointer_chain() -> None:
    stack, regs = fp_chain()
    frames, truncated = run("amd64", regs, stack, [APP, LIB])
    assert truncated is None
    assert summary(frames) == [
        ("app", 0x1000, "context"),
        ("app", 0x2005, "frame_pointer"),
        ("lib.so", 0x1234, "frame_pointer"),
    ]
    assert frames[1].instruction == 0x402004  # lookups use the call instruction
    assert frames[1].offset == 0x402005  # output uses the return address, as Breakpad's amd64 frames do
    assert set(frames[1].registers) == {"rip", "rsp", "rbp"}


def test_no_frame_pointers_on_windows() -> None:
    stack, regs = fp_chain()
    frames, _ = run("amd64", regs, stack, [APP, LIB], os="Windows NT")
    assert [str(f.trust) for f in frames] == ["context", "scan", "scan"]
    assert [f.module_offset for f in frames] == [0x1000, 0x2005, 0x1234]


def test_cfi_with_callee_saved_registers() -> None:
    symbols = SimpleSymbols()
    symbols.add(
        "app",
        APP.debug_id,
        "FUNC 1000 20 0 f\nSTACK CFI INIT 1000 20 .cfa: $rsp 8 + .ra: .cfa -8 + ^\n"
        "STACK CFI 1001 .cfa: $rsp 16 + $rbx: .cfa -16 + ^\nFUNC 2000 100 0 g\n",
    )
    stack = Stack(BASE)
    stack.push(0x5AFE, 0x402010, *([0] * 4))
    frames, _ = run(
        "amd64", {"rip": 0x401004, "rsp": BASE, "rbx": 1, "r12": 2, "rax": 3}, stack, [APP], symbols=symbols
    )
    assert summary(frames)[:2] == [("app", 0x1004, "context"), ("app", 0x2010, "cfi")]
    assert frames[0].function == "f"
    assert frames[1].function == "g"
    caller = frames[1].registers
    assert caller["rsp"] == BASE + 16
    assert caller["rbx"] == 0x5AFE
    assert caller["r12"] == 2  # callee-saved, carried over
    assert "rax" not in caller  # volatile, unknown in the caller


def test_scan_rejects_addresses_outside_functions_when_symbols_exist() -> None:
    symbols = SimpleSymbols()
    symbols.add("app", APP.debug_id, "FUNC 3000 10 0 only\n")
    stack = Stack(BASE)
    stack.push(0x402001, 0x7F00_0000_0010, 0x403005, 0)
    frames, _ = run("amd64", {"rip": 0x401000, "rsp": BASE}, stack, [APP, LIB], symbols=symbols)
    # app+0x2001 is not in a FUNC of app's symbols; lib has none, so anything in it is accepted.
    assert summary(frames) == [("app", 0x1000, "context"), ("lib.so", 0x10, "scan"), ("app", 0x3005, "scan")]


def test_scan_never_takes_a_module_base() -> None:
    stack = Stack(BASE)
    stack.push(0x400000, 0x402000, 0)
    frames, _ = run("amd64", {"rip": 0x401000, "rsp": BASE}, stack, [APP])
    assert summary(frames) == [("app", 0x1000, "context"), ("app", 0x2000, "scan")]


def test_scan_depth() -> None:
    stack = Stack(BASE)
    stack.push(*([0] * 150))
    stack.push(0x402000)  # word 150: within 4 × 40 words of the context frame
    stack.push(*([0] * 45))
    stack.push(0x403000)  # 45 words above the previous frame's sp: out of reach
    frames, _ = run("amd64", {"rip": 0x401000, "rsp": BASE}, stack, [APP])
    assert summary(frames) == [("app", 0x1000, "context"), ("app", 0x2000, "scan")]
    frames, _ = run("amd64", {"rip": 0x401000, "rsp": BASE}, stack, [APP], options=WalkOptions(scan_words=50))
    assert [f.module_offset for f in frames] == [0x1000, 0x2000, 0x3000]


def test_scan_recovers_rbp_from_a_prologue() -> None:
    stack = Stack(BASE)
    stack.push(0)  # rsp and rsp + 8 hold no return address: no leaf return to simulate
    saved_rbp_slot = stack.push(0)
    stack.push(0x402000)
    frame_above = stack.push(0, 0)
    stack.words[1] = frame_above
    frames, _ = run("amd64", {"rip": 0x401000, "rsp": BASE, "rbp": saved_rbp_slot}, stack, [APP], os="Windows NT")
    assert frames[1].trust is Trust.SCAN
    assert frames[1].registers == {"rip": 0x402000, "rsp": saved_rbp_slot + 16, "rbp": frame_above}


@pytest.mark.parametrize("above", [0, 1])
def test_windows_context_frame_without_cfi_simulates_a_leaf_return(above: int) -> None:
    """Breakpad's GetCallerBySimulatingReturn: a Windows x64 leaf function has no unwind info and saves no
    register, so its caller is one ``ret`` away (return address at rsp, or the word above) and keeps every
    register of the context — not only rip/rsp/rbp as a scanned frame would."""
    stack = Stack(BASE)
    stack.push(*([0] * above), 0x402000, 0, 0)
    context = {"rip": 0x401000, "rsp": BASE, "rbp": 0x77, "rax": 1, "rbx": 2, "r12": 3, "r15": 4}
    frames, _ = run("amd64", context, stack, [APP], os="Windows NT")
    assert summary(frames)[:2] == [("app", 0x1000, "context"), ("app", 0x2000, "scan")]
    assert frames[1].registers == {**context, "rip": 0x402000, "rsp": BASE + 8 * (above + 1)}


def test_leaf_return_is_only_simulated_for_the_windows_context_frame() -> None:
    stack = Stack(BASE)
    stack.push(0x402000, 0, 0)
    context = {"rip": 0x401000, "rsp": BASE, "rbp": 0x77, "rax": 1, "rbx": 2}
    frames, _ = run("amd64", context, stack, [APP], os="Linux")
    assert frames[1].registers == {"rip": 0x402000, "rsp": BASE + 8}  # a plain scan (rbp 0x77 is below rsp)


def test_stops_when_sp_goes_down() -> None:
    stack = Stack(BASE)
    stack.push(0, 0x402000)
    stack.push(*([0] * 40))
    frames, truncated = run("amd64", {"rip": 0x401000, "rsp": BASE + 0x100, "rbp": BASE}, stack, [APP])
    assert summary(frames) == [("app", 0x1000, "context")]
    assert truncated is None


def test_non_canonical_return_address_is_not_a_frame_pointer_frame() -> None:
    stack = Stack(BASE)
    fp = stack.push(0, 0x8000_0000_0000_0000)
    stack.words[0] = BASE + 16
    stack.push(0, 0)
    frames, _ = run("amd64", {"rip": 0x401000, "rsp": BASE, "rbp": fp}, stack, [APP])
    assert len(frames) == 1
