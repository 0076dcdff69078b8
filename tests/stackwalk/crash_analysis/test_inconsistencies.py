"""``inconsistencies``: crash reasons the instruction or the memory map contradicts."""

from __future__ import annotations

from typing import Any

import pytest

from crashcart.stackwalk.crash_analysis import MemoryMap, Region, analyze
from tests.stackwalk.crash_analysis.helpers import NO_MAP, facts, rw


def windows(code: str, reason: str, exception_code: int, address: int = 0, **registers: int) -> Any:
    return facts(code, os="Windows NT", reason=reason, exception_code=exception_code, address=address, **registers)


DIVIDE = ("EXCEPTION_INT_DIVIDE_BY_ZERO", 0xC0000094)
PRIVILEGED = ("EXCEPTION_PRIV_INSTRUCTION", 0xC0000096)
AV_READ, AV_WRITE = ("EXCEPTION_ACCESS_VIOLATION_READ", 0xC0000005), ("EXCEPTION_ACCESS_VIOLATION_WRITE", 0xC0000005)
STACK_OVERFLOW = ("EXCEPTION_STACK_OVERFLOW", 0xC00000FD)
GPF = (1 << 64) - 1  # how Windows reports a general-protection fault's address
NOT_FOUND = "crashing_access_not_found_in_memory_accesses"
ALLOWED = "access_violation_when_access_allowed"


@pytest.mark.parametrize(
    ("code", "exception", "address", "registers", "regions", "expected"),
    [
        ("8b00", DIVIDE, 0, {"rax": 8}, [], ["int_div_by_zero_not_possible"]),
        ("f7f9", DIVIDE, 0, {}, [], []),  # idiv ecx
        ("0118", PRIVILEGED, 0, {"rax": 8}, [], ["priv_instruction_crash_without_priv_instruction"]),
        ("f4", PRIVILEGED, 0, {}, [], []),  # hlt
        ("8b00", AV_WRITE, 0x10, {"rax": 0x10}, [], [NOT_FOUND]),  # a read cannot fault as a write
        ("8900", AV_WRITE, 0x10, {"rax": 0x10}, [], []),  # mov [rax], eax
        ("8b00", AV_READ, 0x9000, {"rax": 0x9000}, [rw(0x9000, 0xA000)], [ALLOWED]),
        ("8b00", AV_READ, GPF, {"rax": 0x9000}, [], ["non_canonical_address_falsely_reported"]),
        ("0f2800", AV_READ, GPF, {"rax": 0x9008}, [], []),  # movaps faults on misalignment too
        ("89d8", STACK_OVERFLOW, 0, {}, [], [NOT_FOUND]),  # mov eax, ebx touches no memory
        ("50", STACK_OVERFLOW, 0, {"rsp": 0x7000}, [], []),  # push: touches the stack
    ],
)
def test_inconsistencies(
    code: str,
    exception: tuple[str, int],
    address: int,
    registers: dict[str, int],
    regions: list[Region],
    expected: list[str],
) -> None:
    crash, read = windows(code, *exception, address, **registers)
    assert list(analyze(crash, read, MemoryMap(regions)).inconsistencies) == expected


def test_linux_and_mac_integer_division_reasons() -> None:
    for os, code, flags in (("Linux", 8, 1), ("Mac OS X", 3, 1)):
        crash, read = facts("8b00", os=os, exception_code=code, exception_flags=flags, rax=8)
        assert analyze(crash, read, NO_MAP).inconsistencies == ("int_div_by_zero_not_possible",)
