"""Crash inconsistencies: a crash reason the instruction or the memory map contradicts.

rust-minidump's ``check_for_crash_inconsistencies``, with its five names as its JSON prints them. Every check
answers "no inconsistency" when it lacks the facts to be sure.
"""

from __future__ import annotations

from collections.abc import Iterable

from crashcart.stackwalk.crash_analysis.model import (
    AV_EXEC,
    AV_READ,
    AV_WRITE,
    EXC_ARITHMETIC,
    EXC_I386_DIV,
    FPE_INTDIV,
    IP_REGISTER,
    NON_CANONICAL,
    SIGFPE,
    WIN_INT_DIVIDE_BY_ZERO,
    WIN_PRIV_INSTRUCTION,
    WIN_STACK_OVERFLOW,
    CrashAnalysis,
    CrashFacts,
    MemoryAccess,
    MemoryMap,
    allows,
    is_gpf,
    memory_operation,
)
from crashcart.stackwalk.instruction import Access


def inconsistencies(facts: CrashFacts, analysis: CrashAnalysis, memory: MemoryMap) -> tuple[str, ...]:
    """rust-minidump's ``check_for_crash_inconsistencies`` (snake_case names, as its JSON prints them)."""
    instruction = analysis.instruction
    code, flags = facts.exception_code, facts.exception_flags
    int_divide = (
        (facts.os == "Windows NT" and code == WIN_INT_DIVIDE_BY_ZERO)
        or (facts.os in ("Linux", "Android") and (code, flags) == (SIGFPE, FPE_INTDIV))
        or (facts.os in ("Mac OS X", "iOS") and (code, flags) == (EXC_ARITHMETIC, EXC_I386_DIV))
    )
    if int_divide:
        return ("int_div_by_zero_not_possible",) if instruction is not None and not instruction.is_division else ()
    if facts.os == "Windows NT" and code == WIN_PRIV_INSTRUCTION:
        privileged = instruction is not None and not instruction.is_privileged
        return ("priv_instruction_crash_without_priv_instruction",) if privileged else ()
    found: list[str] = []
    if facts.reason == AV_READ:
        if is_gpf(facts) and _crashing_access_missing(facts, analysis):
            if instruction is not None and instruction.only_gpf_when_non_canonical and _non_canonical_missing(analysis):
                found.append("non_canonical_address_falsely_reported")
            return tuple(found)
    elif not (facts.reason in (AV_WRITE, AV_EXEC) or (facts.os == "Windows NT" and code == WIN_STACK_OVERFLOW)):
        return ()
    if _crashing_access_missing(facts, analysis):
        found.append("crashing_access_not_found_in_memory_accesses")
    region = memory.at(facts.address)
    operation = memory_operation(facts.reason)
    if region is not None and operation is not None and allows(region, operation, unknown=False):
        found.append("access_violation_when_access_allowed")
    return tuple(found)


def _contains(accesses: Iterable[MemoryAccess], address: int, kinds: tuple[Access, ...]) -> bool:
    for access in accesses:
        if access.size is None or access.access not in kinds:
            continue
        end = access.address + access.size
        if end > (1 << 64):  # the range wraps past the top of the address space
            if access.address <= address or address < end - (1 << 64):
                return True
        elif access.address <= address < end:
            return True
    return False


def _crashing_access_missing(facts: CrashFacts, analysis: CrashAnalysis) -> bool:
    """The instruction's accesses are all known and none is the one the OS reported (false when unsure)."""
    accesses = analysis.accesses
    derivable = analysis.instruction is not None and analysis.instruction.access_derivable
    if accesses is None:
        return False
    if facts.reason == AV_READ:
        return derivable and not _contains(accesses, facts.address, (Access.READ, Access.READ_WRITE))
    if facts.reason == AV_WRITE:
        return derivable and not _contains(accesses, facts.address, (Access.WRITE, Access.READ_WRITE))
    if facts.reason == AV_EXEC:
        ip = facts.registers.get(IP_REGISTER.get(facts.cpu, ""))
        return ip is not None and ip != facts.address
    if facts.os == "Windows NT" and facts.exception_code == WIN_STACK_OVERFLOW:
        return derivable and not accesses
    return False


def _non_canonical_missing(analysis: CrashAnalysis) -> bool:
    """No access (nor the jump target) is non-canonical, so a GPF cannot be a non-canonical access."""
    if analysis.instruction is None or not analysis.instruction.access_derivable or analysis.accesses is None:
        return False
    if any(a.address in NON_CANONICAL for a in analysis.accesses):
        return False
    return analysis.ip_known and (analysis.ip_target is None or analysis.ip_target not in NON_CANONICAL)
