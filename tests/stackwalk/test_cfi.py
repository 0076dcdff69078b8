from __future__ import annotations

import pytest

from crashcart.stackwalk import CfiRules, caller_registers, evaluate
from crashcart.stackwalk.cfi import run_program

MEMORY = {0x1000: 0xAAAA, 0x1008: 0xBBBB, 0xFFFF_FFFF_FFFF_FFF8: 0x1}


def read(address: int) -> int | None:
    return MEMORY.get(address)


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("1 2 +", 3),
        ("10 3 -", 7),
        ("6 7 *", 42),
        ("17 5 /", 3),
        ("17 5 %", 2),
        ("0x1017 16 @", 0x1010),
        ("$rsp 8 +", 0x1008),
        ("$rsp ^", 0xAAAA),
        ("$rsp 8 + ^", 0xBBBB),
        ("$rsp -8 +", 0xFF8),
        ("0 8 -", 0xFFFF_FFFF_FFFF_FFF8),
        ("0 8 - ^", 0x1),
    ],
)
def test_evaluate(expr: str, value: int) -> None:
    assert evaluate(expr, {"$rsp": 0x1000}, read, 8) == value


@pytest.mark.parametrize(
    "expr",
    ["", "+", "1 +", "1 2", "1 0 /", "1 0 %", "5 3 @", "$nope", ".undef", "0x2000 ^", "^", "1 2 3 + + +", "bogus"],
)
def test_evaluate_failures(expr: str) -> None:
    assert evaluate(expr, {"$rsp": 0x1000}, read, 8) is None


def test_evaluate_is_bounded() -> None:
    assert evaluate(" ".join(["1"] * 40), {}, read, 8) is None  # too deep
    assert evaluate("1 " + "1 + " * 40, {}, read, 8) is None  # too long


def test_pointer_width_wraps_at_32_bits() -> None:
    assert evaluate("0 4 -", {}, read, 4) == 0xFFFF_FFFC


def test_rules_parse_and_override() -> None:
    base = CfiRules.parse(".cfa: $rsp 8 + .ra: .cfa -8 + ^")
    delta = CfiRules.parse(".cfa: $rsp 16 + $rbp: .cfa -16 + ^", base.rules)
    assert delta.rules == {".cfa": "$rsp 16 +", ".ra": ".cfa -8 + ^", "$rbp": ".cfa -16 + ^"}


def test_caller_registers() -> None:
    rules = CfiRules.parse(".cfa: $rsp 16 + .ra: .cfa -8 + ^ $rbp: .cfa -16 + ^ $rbx: $nope")
    regs = caller_registers(rules, {"rsp": 0x1000}, read, 8, prefix="$")
    # The failing $rbx rule is dropped; .cfa and .ra are kept.
    assert regs == {".cfa": 0x1010, ".ra": 0xBBBB, "rbp": 0xAAAA}


def test_caller_registers_needs_cfa_and_ra() -> None:
    assert caller_registers(CfiRules.parse(".cfa: sp 16 +"), {"sp": 0}, read, 8) is None
    assert caller_registers(CfiRules.parse(".cfa: sp 16 + .ra: .undef"), {"sp": 0}, read, 8) is None
    assert caller_registers(CfiRules.parse(".ra: x30"), {"x30": 5}, read, 8) is None


def test_run_program_assigns() -> None:
    memory = {0x2004: 0x401234, 0x2000: 0x3000}
    result = run_program("$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + =", {"$ebp": 0x2000}, memory.get, 4)
    assert result is not None
    values, assigned = result
    assert assigned == {"$T0", "$eip", "$ebp", "$esp"}
    assert (values["$eip"], values["$ebp"], values["$esp"]) == (0x401234, 0x3000, 0x2008)


def test_run_program_accepts_glued_assignments() -> None:
    result = run_program("$T0 $ebp 4 + =$eip $T0 ^ =", {"$ebp": 0x2000}, {0x2004: 7}.get, 4)
    assert result is not None
    assert result[0]["$eip"] == 7


@pytest.mark.parametrize(
    "program", ["$eip =", "1 $eip =", "$eip $nope =", "$eip 1 2 =", "$eip 1 = 5", "$a 0x9999 ^ =", "+ ="]
)
def test_run_program_failures(program: str) -> None:
    empty: dict[int, int] = {}
    assert run_program(program, {}, empty.get, 4) is None
