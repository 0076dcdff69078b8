"""What the faulting instruction and the address space say about a crash: rust-minidump's ``crash_info`` extras.

rust-minidump's processor (``processor.rs``: ``get_exception_details``, ``check_for_bitflips``,
``check_for_guard_pages``, ``check_for_crash_inconsistencies``) adds to ``crash_info``:

* ``instruction`` and ``memory_accesses``: the crashing instruction and the addresses it touches, worked out from
  the exception context's registers (:mod:`crashcart.stackwalk.instruction` decodes it);
* ``instruction_pointer_update``: where a ``call``/``jmp``/``ret`` was going;
* ``adjusted_address``: ``null-pointer`` (the base register was 0: a null pointer plus ``offset``) or
  ``non-canonical`` (an amd64 general-protection fault, which reports no address, and the access that caused it);
* ``possible_bit_flips``: addresses one bit away from the crash address (or from a register the instruction
  used) that fall in memory the access was allowed to touch, with rust-minidump's confidence heuristics;
* ``memory_accesses[].is_likely_guard_page``: the access lands in a small inaccessible region next to an
  accessible one;
* ``crash_inconsistencies``: the crash reason contradicts the instruction or the memory map.

Everything here is a pure function of :class:`CrashFacts`, a memory reader and a :class:`MemoryMap` (the types
are in ``model``, the bit-flip and inconsistency checks in their own modules); :func:`crash_info_fields` is the
adapter from a :class:`~crashcart.minidump.Minidump`. Nothing raises for a
hostile dump: unreadable code or registers mean fewer fields, as in rust-minidump.

Where this departs from rust-minidump (each a correction, listed so comparisons can account for them):

* x86 dumps are analysed too (rust-minidump does amd64 only); bit flips stay amd64-only, as there.
* ``rip``-relative operands are relative to the next instruction (rust-minidump adds the displacement to the
  faulting instruction's own address).
* ``fs:``/``gs:`` operands are left out of ``memory_accesses`` (their segment base is not in the dump).
* 32-bit registers used as addresses on amd64 (``addr32``) are read from their 64-bit register.
* A Windows region with ``PAGE_GUARD`` is a guard page whatever its other protection bits.
* The instruction text is capstone's Intel syntax (``mov dword ptr [rax], 5``), not yaxpeax's
  (``mov dword [rax], 0x5``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from crashcart.minidump import ExceptionStream, LinuxMaps, MemoryInfoList, Minidump, SystemInfo
from crashcart.minidump.streams.memory_info_list import (
    PAGE_EXECUTE_READ,
    PAGE_EXECUTE_READWRITE,
    PAGE_GUARD,
    PAGE_READONLY,
    PAGE_READWRITE,
)
from crashcart.stackwalk.crash_analysis.bit_flips import bit_flips
from crashcart.stackwalk.crash_analysis.inconsistencies import inconsistencies
from crashcart.stackwalk.crash_analysis.model import (
    IP_REGISTER,
    NON_CANONICAL,
    STACK_POINTER_REGISTER,
    BitFlip,
    CrashAnalysis,
    CrashFacts,
    Hex,
    MemoryAccess,
    MemoryMap,
    ReadMemory,
    Region,
    is_gpf,
)
from crashcart.stackwalk.instruction import MAX_INSTRUCTION_BYTES, Access, Instruction, IpUpdate, MemoryOperand, decode

__all__ = [
    "BitFlip",
    "CrashAnalysis",
    "CrashFacts",
    "MemoryAccess",
    "MemoryMap",
    "ReadMemory",
    "Region",
    "analyze",
    "crash_facts",
    "crash_info_fields",
    "memory_map",
    "to_json",
]

#: A guard region is inaccessible and at most this large (rust-minidump's ``GUARD_MEMORY_MAX_SIZE``, compared there
#: with an inclusive region end, so a region of exactly 32 KiB still counts).
GUARD_MAX_SIZE = 2 << 14
#: rust-minidump's notion of a readable Windows page (``PAGE_WRITECOPY`` is not one there).
_READABLE = PAGE_READONLY | PAGE_READWRITE | PAGE_EXECUTE_READ | PAGE_EXECUTE_READWRITE
#: amd64 32-bit register names → their 64-bit register (the value is the low half).
_AMD64_LOW32 = {
    **{f"e{r}": f"r{r}" for r in ("ax", "bx", "cx", "dx", "si", "di", "bp", "sp")},
    **{f"r{i}d": f"r{i}" for i in range(8, 16)},
    "eip": "rip",
}
#: x86 16-bit address registers (``addr16``) → their 32-bit register.
_X86_LOW16 = {r: f"e{r}" for r in ("ax", "bx", "cx", "dx", "si", "di", "bp", "sp")}


# --- analysis ----------------------------------------------------------------------------------------------------


def analyze(facts: CrashFacts, read_memory: ReadMemory, memory: MemoryMap) -> CrashAnalysis:
    """Every check rust-minidump makes on a crash, from its facts, the dump's memory and its memory map."""
    instruction = _instruction_at_ip(facts, read_memory)
    accesses: tuple[MemoryAccess, ...] | None = None
    ip_known, ip_target = False, None
    adjusted = None
    if instruction is not None:
        accesses = _accesses(instruction, facts)
        ip_known, ip_target = _ip_update(instruction, facts, read_memory)
        if accesses is not None:
            accesses = tuple(_mark_guard_page(a, memory) for a in accesses)
            adjusted = _adjusted_address(facts, accesses, ip_target)
    analysis = CrashAnalysis(instruction, accesses, ip_known, ip_target, adjusted)
    return CrashAnalysis(
        instruction,
        accesses,
        ip_known,
        ip_target,
        adjusted,
        bit_flips(facts, analysis, memory),
        inconsistencies(facts, analysis, memory),
    )


def _instruction_at_ip(facts: CrashFacts, read_memory: ReadMemory) -> Instruction | None:
    """The instruction at the context's IP, from at most 15 bytes (fewer where the dump's memory ends)."""
    ip = facts.registers.get(IP_REGISTER.get(facts.cpu, ""))
    if ip is None:
        return None
    for size in range(MAX_INSTRUCTION_BYTES, 0, -1):
        code = read_memory(ip, size)
        if code is not None:
            return decode(code, ip, facts.cpu)
    return None


def _mask(cpu: str) -> int:
    return (1 << 64) - 1 if cpu == "amd64" else (1 << 32) - 1


def _register(facts: CrashFacts, name: str) -> int | None:
    """A register by capstone's name, narrowed as the instruction uses it; None if the context lacks it."""
    value = facts.registers.get(name)
    if value is not None:
        return value
    if facts.cpu == "amd64" and name in _AMD64_LOW32:
        wide = facts.registers.get(_AMD64_LOW32[name])
        return None if wide is None else wide & 0xFFFF_FFFF
    if facts.cpu == "x86" and name in _X86_LOW16:
        wide = facts.registers.get(_X86_LOW16[name])
        return None if wide is None else wide & 0xFFFF
    return None


def _operand_address(operand: MemoryOperand, facts: CrashFacts) -> tuple[int, bool] | None:
    """``(address, base register was 0)``; None when a register it needs is not in the context."""
    address, null_base = 0, False
    if operand.base is not None:
        base = _register(facts, operand.base)
        if base is None:
            return None
        if operand.base in ("rip", "eip"):
            base += operand.instruction_size  # relative to the next instruction
        null_base = base == 0
        address = base
    if operand.index is not None:
        index = _register(facts, operand.index)
        if index is None:
            return None
        address += index * operand.scale
    return (address + operand.disp) & _mask(facts.cpu), null_base


def _accesses(instruction: Instruction, facts: CrashFacts) -> tuple[MemoryAccess, ...] | None:
    found: list[MemoryAccess] = []
    for operand in instruction.memory:
        located = _operand_address(operand, facts)
        if located is None:
            return None  # rust-minidump gives up on the whole list when a register is unknown
        found.append(MemoryAccess(located[0], operand.size, operand.access, located[1]))
    if instruction.stack is not None:
        sp = facts.registers.get(STACK_POINTER_REGISTER[facts.cpu])
        if sp is not None:
            if instruction.stack == "push":
                # The slot the push/call writes: rust-minidump's observed "rsp - 8" at the fault.
                address, access = (sp - instruction.stack_size) & _mask(facts.cpu), Access.WRITE
            else:
                address, access = sp, Access.READ
            found.append(MemoryAccess(address, instruction.stack_size, access, address == 0))
    return tuple(found)


def _ip_update(instruction: Instruction, facts: CrashFacts, read_memory: ReadMemory) -> tuple[bool, int | None]:
    """``(known, target)``: (True, None) for no update, (False, None) when it cannot be worked out."""
    kind = instruction.ip_update
    if kind == IpUpdate.NONE:
        return True, None
    width = 8 if facts.cpu == "amd64" else 4
    pointer_at: int | None = None
    if kind == IpUpdate.REGISTER and instruction.target_register is not None:
        value = _register(facts, instruction.target_register)
        return (False, None) if value is None else (True, value)
    if kind == IpUpdate.MEMORY and instruction.target_memory is not None:
        located = _operand_address(instruction.target_memory, facts)
        pointer_at = None if located is None else located[0]
    elif kind == IpUpdate.STACK:
        pointer_at = facts.registers.get(STACK_POINTER_REGISTER[facts.cpu])
    if pointer_at is None:
        return False, None
    raw = read_memory(pointer_at, width)
    return (False, None) if raw is None else (True, int.from_bytes(raw, "little"))


def _adjusted_address(
    facts: CrashFacts, accesses: tuple[MemoryAccess, ...], ip_target: int | None
) -> tuple[str, int] | None:
    candidates = [(a.address, a.null_base) for a in accesses]
    if ip_target is not None:
        candidates.append((ip_target, ip_target == 0))
    for address, null_base in candidates:
        if null_base:
            return "null-pointer", address
    if facts.cpu == "amd64" and is_gpf(facts):
        for address, _ in candidates:
            if address in NON_CANONICAL:
                return "non-canonical", address
    return None


def _mark_guard_page(access: MemoryAccess, memory: MemoryMap) -> MemoryAccess:
    """An access into a small inaccessible region bordering an accessible one is likely a guard page hit."""
    region = memory.at(access.address)
    if region is None:
        return access
    guard = region.guard or (
        not region.accessible and region.end - region.start <= GUARD_MAX_SIZE and _borders_accessible(region, memory)
    )
    return replace(access, guard_page=True) if guard else access


def _borders_accessible(region: Region, memory: MemoryMap) -> bool:
    before = memory.at(region.start - 1) if region.start else None
    after = memory.at(region.end)
    return (before is not None and before.end == region.start and before.accessible) or (
        after is not None and after.start == region.end and after.accessible
    )


# --- JSON ----------------------------------------------------------------------------------------------------------


#: The fields this module owns in ``crash_info``, as rust-minidump prints them for a dump without an exception.
EMPTY_FIELDS: dict[str, Any] = {
    "adjusted_address": None,
    "instruction": None,
    "memory_accesses": None,
    "instruction_pointer_update": None,
    "possible_bit_flips": None,
    "crash_inconsistencies": None,
}


def to_json(analysis: CrashAnalysis, hx: Hex) -> dict[str, Any]:
    """``crash_info``'s analysis fields in rust-minidump's shape (``json-schema.md``)."""
    adjusted = None
    if analysis.adjusted is not None:
        kind, value = analysis.adjusted
        adjusted = {"kind": kind, ("offset" if kind == "null-pointer" else "address"): hx(value)}
    accesses = None
    if analysis.accesses is not None:
        accesses = []
        for access in analysis.accesses:
            item: dict[str, Any] = {"address": hx(access.address), "size": access.size}
            if access.guard_page:
                item["is_likely_guard_page"] = True
            if access.access != Access.UNKNOWN:
                item["access_type"] = access.access.value
            accesses.append(item)
    return {
        "adjusted_address": adjusted,
        "instruction": None if analysis.instruction is None else analysis.instruction.text,
        "memory_accesses": accesses,
        "instruction_pointer_update": None if analysis.ip_target is None else {"address": hx(analysis.ip_target)},
        "possible_bit_flips": [
            {
                "address": hx(flip.address),
                "source_register": flip.source_register,
                "details": {
                    "was_non_canonical": flip.was_non_canonical,
                    "is_null": flip.is_null,
                    "was_low": flip.was_low,
                    "nearby_registers": flip.nearby_registers,
                    "poison_registers": flip.poison_registers,
                },
                "confidence": flip.confidence,
            }
            for flip in analysis.bit_flips
        ]
        or None,
        "crash_inconsistencies": list(analysis.inconsistencies),
    }


# --- the dump adapter ------------------------------------------------------------------------------------------------


def memory_map(dump: Minidump) -> MemoryMap:
    """The dump's memory info list (Windows, Crashpad), else its Linux maps; empty if it has neither."""
    info = dump.get_stream(MemoryInfoList)
    if info is not None:
        return MemoryMap(
            Region(
                e.base_address,
                e.base_address + e.region_size,
                readable=bool(e.protection & _READABLE),
                writable=e.is_writable,
                executable=e.is_executable,
                guard=bool(e.protection & PAGE_GUARD),
            )
            for e in info.entries
        )
    maps = dump.get_stream(LinuxMaps)
    if maps is not None:
        return MemoryMap(Region(m.start, m.end, m.is_readable, m.is_writable, m.is_executable) for m in maps.entries)
    return MemoryMap(())


def crash_facts(dump: Minidump) -> CrashFacts | None:
    """The exception's facts, None when the dump has no (readable) exception stream."""
    exception = dump.get_stream(ExceptionStream)
    reason = dump.crash_reason()
    if exception is None or reason is None:
        return None
    system = dump.get_stream(SystemInfo)
    context = exception.context
    return CrashFacts(
        os="" if system is None else system.os,
        cpu="" if system is None else system.cpu,
        reason=reason.reason,
        exception_code=reason.exception_code,
        exception_flags=reason.exception_flags,
        address=reason.address,
        registers={} if context is None else context.registers,
    )


def crash_info_fields(dump: Minidump, hx: Hex) -> dict[str, Any]:
    """The analysis fields of the dump's ``crash_info`` (all None when there is no exception)."""
    facts = crash_facts(dump)
    if facts is None:
        return dict(EMPTY_FIELDS)
    return to_json(analyze(facts, dump.read_memory, memory_map(dump)), hx)
