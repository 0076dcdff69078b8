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

Everything here is a pure function of :class:`CrashFacts`, a memory reader and a :class:`MemoryMap`;
:func:`crash_info_fields` is the adapter from a :class:`~crashcart.minidump.Minidump`. Nothing raises for a
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

import bisect
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from crashcart.minidump import ExceptionStream, LinuxMaps, MemoryInfoList, Minidump, SystemInfo
from crashcart.minidump.streams.memory_info_list import (
    PAGE_EXECUTE_READ,
    PAGE_EXECUTE_READWRITE,
    PAGE_GUARD,
    PAGE_READONLY,
    PAGE_READWRITE,
)
from crashcart.stackwalk.instruction import (
    MAX_INSTRUCTION_BYTES,
    Access,
    Instruction,
    IpUpdate,
    MemoryOperand,
    decode,
)

#: ``(address, size) -> bytes | None``: process memory the dump holds, None unless all of it is there.
ReadMemory = Callable[[int, int], bytes | None]
#: ``int -> "0x…"`` at the dump's pointer width (``output_json.HexFormatter``).
Hex = Callable[[int], str | None]

#: amd64's non-canonical addresses with 48-bit virtual addresses.
NON_CANONICAL = range(0x0000_8000_0000_0000, 0xFFFF_8000_0000_0000)
#: A guard region is inaccessible and smaller than this (rust-minidump's ``GUARD_MEMORY_MAX_SIZE``).
GUARD_MAX_SIZE = 2 << 14
#: Registers within this distance of a bit-flip candidate make it likelier (``NEARBY_REGISTER_DISTANCE``).
NEARBY_DISTANCE = 1 << 12
#: Candidates at or below this are "low": many small values are not pointers at all.
LOW_ADDRESS_CUTOFF = NEARBY_DISTANCE * 2
#: Byte values that fill a register by allocator poisoning (Mozilla's ``Poison.h``, jemalloc 0xa5/0xe5).
POISON_BYTES = frozenset(
    (0x2B, 0x2D, 0x2F, 0x49, 0x4B, 0x4D, 0x4F, 0x6B, 0x8B, 0x9B, 0x9F, 0xA5, 0xBB, 0xCC, 0xCD, 0xCE, 0xDB, 0xE5)
)
#: The general registers rust-minidump looks at for the bit-flip heuristics, per CPU.
GENERAL_REGISTERS = {
    "amd64": ("rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", *(f"r{i}" for i in range(8, 16)), "rip"),
    "x86": ("eip", "esp", "ebp", "ebx", "esi", "edi", "eax", "ecx", "edx", "eflags"),
}
_STACK_POINTER = {"amd64": "rsp", "x86": "esp"}
_IP = {"amd64": "rip", "x86": "eip"}
#: amd64 32-bit register names → their 64-bit register (the value is the low half).
_AMD64_LOW32 = {
    **{f"e{r}": f"r{r}" for r in ("ax", "bx", "cx", "dx", "si", "di", "bp", "sp")},
    **{f"r{i}d": f"r{i}" for i in range(8, 16)},
    "eip": "rip",
}
#: x86 16-bit address registers (``addr16``) → their 32-bit register.
_X86_LOW16 = {r: f"e{r}" for r in ("ax", "bx", "cx", "dx", "si", "di", "bp", "sp")}

# Exception codes the checks look at (Windows NTSTATUS, POSIX signals, Mach exceptions).
_WIN_INT_DIVIDE_BY_ZERO = 0xC0000094
_WIN_PRIV_INSTRUCTION = 0xC0000096
_WIN_STACK_OVERFLOW = 0xC00000FD
_SIGBUS, _SIGFPE, _SIGSEGV = 7, 8, 11
_FPE_INTDIV = 1
_SI_KERNEL = 0x80
_EXC_BAD_ACCESS, _EXC_ARITHMETIC = 1, 3
_EXC_I386_DIV = 1
_EXC_I386_GPFLT = 13
_AV_READ = "EXCEPTION_ACCESS_VIOLATION_READ"
#: rust-minidump's notion of a readable Windows page (``PAGE_WRITECOPY`` is not one there).
_READABLE = PAGE_READONLY | PAGE_READWRITE | PAGE_EXECUTE_READ | PAGE_EXECUTE_READWRITE
_AV_WRITE = "EXCEPTION_ACCESS_VIOLATION_WRITE"
_AV_EXEC = "EXCEPTION_ACCESS_VIOLATION_EXEC"


# --- inputs ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrashFacts:
    """What the exception stream says (``os``/``cpu``/``reason`` spelled as in the JSON)."""

    os: str
    cpu: str
    reason: str
    exception_code: int
    #: Windows: the exception flags; Linux: ``si_code``; macOS: the Mach exception code.
    exception_flags: int
    #: ``crash_info.address``.
    address: int
    #: The exception context's registers; the instruction pointer among them.
    registers: Mapping[str, int]


@dataclass(frozen=True)
class Region:
    """One entry of the dump's memory map; ``end`` is exclusive."""

    start: int
    end: int
    readable: bool
    writable: bool
    executable: bool
    #: Windows ``PAGE_GUARD``.
    guard: bool = False

    @property
    def accessible(self) -> bool:
        return self.readable or self.writable or self.executable


class MemoryMap:
    """The address space's regions (Windows memory info list or Linux ``/proc/self/maps``), by address.

    Overlapping or empty entries (only a hostile dump has them) are dropped, keeping the first by address.
    """

    def __init__(self, regions: Iterable[Region]) -> None:
        kept: list[Region] = []
        for region in sorted(regions, key=lambda r: (r.start, r.end)):
            if region.end <= region.start or (kept and region.start < kept[-1].end):
                continue
            kept.append(region)
        self.regions: tuple[Region, ...] = tuple(kept)
        self.starts: tuple[int, ...] = tuple(r.start for r in kept)

    def at(self, address: int) -> Region | None:
        pos = bisect.bisect_right(self.starts, address) - 1
        if pos >= 0 and address < self.regions[pos].end:
            return self.regions[pos]
        return None

    def __len__(self) -> int:
        return len(self.regions)


# --- results -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryAccess:
    address: int
    size: int | None
    access: Access
    #: Addressed through a base register holding 0 (or, for implicit accesses, the address is 0).
    null_base: bool
    guard_page: bool = False


@dataclass(frozen=True)
class BitFlip:
    address: int
    source_register: str | None
    was_non_canonical: bool
    is_null: bool
    was_low: bool
    nearby_registers: int
    poison_registers: bool
    confidence: float


@dataclass(frozen=True)
class CrashAnalysis:
    instruction: Instruction | None = None
    #: None: not worked out (no instruction, or a register it needs is unknown); empty: touches no memory.
    accesses: tuple[MemoryAccess, ...] | None = None
    #: True when the instruction's effect on the instruction pointer is known (then ``ip_target`` says where).
    ip_known: bool = False
    ip_target: int | None = None
    #: ``("null-pointer", offset)`` or ``("non-canonical", address)``.
    adjusted: tuple[str, int] | None = None
    bit_flips: tuple[BitFlip, ...] = ()
    inconsistencies: tuple[str, ...] = ()


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
        _bit_flips(facts, analysis, memory),
        _inconsistencies(facts, analysis, memory),
    )


def _instruction_at_ip(facts: CrashFacts, read_memory: ReadMemory) -> Instruction | None:
    """The instruction at the context's IP, from at most 15 bytes (fewer where the dump's memory ends)."""
    ip = facts.registers.get(_IP.get(facts.cpu, ""))
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
        sp = facts.registers.get(_STACK_POINTER[facts.cpu])
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
        pointer_at = facts.registers.get(_STACK_POINTER[facts.cpu])
    if pointer_at is None:
        return False, None
    raw = read_memory(pointer_at, width)
    return (False, None) if raw is None else (True, int.from_bytes(raw, "little"))


def _is_gpf(facts: CrashFacts) -> bool:
    """The OS reported an amd64 general-protection fault (which carries no address), as each OS spells it."""
    if facts.os == "Windows NT":
        return facts.reason == _AV_READ and facts.address == (1 << 64) - 1
    if facts.os == "Mac OS X":
        return (facts.exception_code, facts.exception_flags, facts.address) == (_EXC_BAD_ACCESS, _EXC_I386_GPFLT, 0)
    if facts.os == "Linux":
        return facts.exception_code in (_SIGSEGV, _SIGBUS) and facts.exception_flags == _SI_KERNEL and not facts.address
    return False


def _adjusted_address(
    facts: CrashFacts, accesses: tuple[MemoryAccess, ...], ip_target: int | None
) -> tuple[str, int] | None:
    candidates = [(a.address, a.null_base) for a in accesses]
    if ip_target is not None:
        candidates.append((ip_target, ip_target == 0))
    for address, null_base in candidates:
        if null_base:
            return "null-pointer", address
    if facts.cpu == "amd64" and _is_gpf(facts):
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
        not region.accessible and region.end - region.start < GUARD_MAX_SIZE and _borders_accessible(region, memory)
    )
    return replace(access, guard_page=True) if guard else access


def _borders_accessible(region: Region, memory: MemoryMap) -> bool:
    before = memory.at(region.start - 1) if region.start else None
    after = memory.at(region.end)
    return (before is not None and before.end == region.start and before.accessible) or (
        after is not None and after.start == region.end and after.accessible
    )


# --- memory operations -------------------------------------------------------------------------------------------


def _operation(reason: str) -> str | None:
    """The access a Windows access violation was making (rust-minidump's ``MemoryOperation``); None: unknown."""
    return {_AV_READ: "read", _AV_WRITE: "write", _AV_EXEC: "execute"}.get(reason)


def _allows(region: Region, operation: str | None, *, unknown: bool) -> bool:
    if operation is None:
        return unknown
    return {"read": region.readable, "write": region.writable, "execute": region.executable}[operation]


# --- bit flips ---------------------------------------------------------------------------------------------------


def _f32(value: float) -> float:
    """``value`` rounded to single precision, as rust-minidump computes confidences."""
    result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return result


def _f32_shortest(value: float) -> float:
    """The shortest decimal that reads back as the same f32 (what serde prints for an ``f32``)."""
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if _f32(candidate) == value:
            return candidate
    return value


def _confidence(flip: BitFlip) -> float:
    """rust-minidump's ``BitFlipDetails::confidence``: 1 - Π(1 - evidence), damped by poison patterns."""
    values = [0.25]
    if flip.was_non_canonical:
        values.append(0.90)
    if flip.is_null:
        values.append(_f32(0.50 * 0.50) if flip.was_low else 0.50)
    if flip.nearby_registers:
        values.append((0.50, 0.55, 0.60, 0.65)[min(flip.nearby_registers, 4) - 1])
    product = 1.0
    for value in values:
        product = _f32(product * _f32(1.0 - _f32(value)))
    result = _f32(1.0 - product)
    if flip.poison_registers:
        result = _f32(result * 0.50)
    return _f32_shortest(result)


def _is_poison(value: int) -> bool:
    low = value & 0xFF
    return value == low * 0x0101_0101_0101_0101 and low in POISON_BYTES


def _candidate(
    address: int, original: int, register: str | None, non_canonical: bool, registers: Mapping[str, int]
) -> BitFlip:
    is_null = address == 0
    nearby = 0
    if address > LOW_ADDRESS_CUTOFF:
        nearby = sum(1 for value in registers.values() if abs(address - value) <= NEARBY_DISTANCE)
    flip = BitFlip(
        address=address,
        source_register=register,
        was_non_canonical=non_canonical,
        is_null=is_null,
        was_low=is_null and original <= LOW_ADDRESS_CUTOFF,
        nearby_registers=nearby,
        poison_registers=any(_is_poison(v) for v in registers.values()),
        confidence=0.0,
    )
    return replace(flip, confidence=_confidence(flip))


def _distance_to_mapping(address: int, operation: str | None, memory: MemoryMap) -> int | None:
    """Bytes from ``address`` to the nearest region the operation may touch, either side; None if there is none.

    Scans outwards from ``address``, so a map of a million regions costs a few steps, not a million.
    """
    pos = bisect.bisect_right(memory.starts, address)
    distances = []
    regions = memory.regions
    for i in range(pos - 1, -1, -1):
        if _allows(regions[i], operation, unknown=True):
            distances.append(max(address - (regions[i].end - 1), 0))
            break
    for i in range(pos, len(regions)):
        if _allows(regions[i], operation, unknown=True):
            distances.append(regions[i].start - address)
            break
    return min(distances) if distances else None


def _flips_of(
    address: int,
    register: str | None,
    bits: range,
    operation: str | None,
    access_size: int | None,
    memory: MemoryMap,
    registers: Mapping[str, int],
) -> list[BitFlip]:
    region = memory.at(address)
    if region is not None and _allows(region, operation, unknown=True):
        return []  # the address itself was fine to touch
    distance = _distance_to_mapping(address, operation, memory)
    if distance is not None and access_size is not None and distance < access_size:
        return []  # next to an allocation: an off-by-one, not a flipped bit
    non_canonical = bits.start == 48
    found = []
    for bit in bits:
        flipped = address ^ (1 << bit)
        if flipped == 0:
            found.append(_candidate(flipped, address, register, non_canonical, registers))
        target = memory.at(flipped)
        if target is not None and _allows(target, operation, unknown=True):
            found.append(_candidate(flipped, address, register, non_canonical, registers))
    return found


def _bit_flips(facts: CrashFacts, analysis: CrashAnalysis, memory: MemoryMap) -> tuple[BitFlip, ...]:
    """rust-minidump's ``check_for_bitflips``: 64-bit x86 only (a 32-bit space has too many valid addresses)."""
    if facts.cpu != "amd64":
        return ()
    if analysis.adjusted is not None and analysis.adjusted[0] == "null-pointer":
        return ()
    if analysis.adjusted is not None:
        address, bits = analysis.adjusted[1], range(48, 64)
    else:
        address, bits = facts.address, range(48)
    operation = _operation(facts.reason)
    crashing = next(
        (a for a in analysis.accesses or () if a.address <= facts.address < a.address + (a.size or 0)),
        None,
    )
    access_size = None if crashing is None else crashing.size
    registers = {name: facts.registers[name] for name in GENERAL_REGISTERS["amd64"] if name in facts.registers}
    start = address if crashing is None else crashing.address
    flips = _flips_of(start, None, bits, operation, access_size, memory, registers)
    if analysis.instruction is not None:
        for name in sorted(analysis.instruction.address_registers):
            value = facts.registers.get(name)
            if value is not None:
                flips += _flips_of(value, name, bits, operation, access_size, memory, registers)
    return tuple(flips)


# --- inconsistencies ---------------------------------------------------------------------------------------------


def _inconsistencies(facts: CrashFacts, analysis: CrashAnalysis, memory: MemoryMap) -> tuple[str, ...]:
    """rust-minidump's ``check_for_crash_inconsistencies`` (snake_case names, as its JSON prints them)."""
    instruction = analysis.instruction
    code, flags = facts.exception_code, facts.exception_flags
    int_divide = (
        (facts.os == "Windows NT" and code == _WIN_INT_DIVIDE_BY_ZERO)
        or (facts.os in ("Linux", "Android") and (code, flags) == (_SIGFPE, _FPE_INTDIV))
        or (facts.os in ("Mac OS X", "iOS") and (code, flags) == (_EXC_ARITHMETIC, _EXC_I386_DIV))
    )
    if int_divide:
        return ("int_div_by_zero_not_possible",) if instruction is not None and not instruction.is_division else ()
    if facts.os == "Windows NT" and code == _WIN_PRIV_INSTRUCTION:
        privileged = instruction is not None and not instruction.is_privileged
        return ("priv_instruction_crash_without_priv_instruction",) if privileged else ()
    found: list[str] = []
    if facts.reason == _AV_READ:
        if _is_gpf(facts) and _crashing_access_missing(facts, analysis):
            if instruction is not None and instruction.only_gpf_when_non_canonical and _non_canonical_missing(analysis):
                found.append("non_canonical_address_falsely_reported")
            return tuple(found)
    elif not (facts.reason in (_AV_WRITE, _AV_EXEC) or (facts.os == "Windows NT" and code == _WIN_STACK_OVERFLOW)):
        return ()
    if _crashing_access_missing(facts, analysis):
        found.append("crashing_access_not_found_in_memory_accesses")
    region = memory.at(facts.address)
    operation = _operation(facts.reason)
    if region is not None and operation is not None and _allows(region, operation, unknown=False):
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
    if facts.reason == _AV_READ:
        return derivable and not _contains(accesses, facts.address, (Access.READ, Access.READ_WRITE))
    if facts.reason == _AV_WRITE:
        return derivable and not _contains(accesses, facts.address, (Access.WRITE, Access.READ_WRITE))
    if facts.reason == _AV_EXEC:
        ip = facts.registers.get(_IP.get(facts.cpu, ""))
        return ip is not None and ip != facts.address
    if facts.os == "Windows NT" and facts.exception_code == _WIN_STACK_OVERFLOW:
        return derivable and not accesses
    return False


def _non_canonical_missing(analysis: CrashAnalysis) -> bool:
    """No access (nor the jump target) is non-canonical, so a GPF cannot be a non-canonical access."""
    if analysis.instruction is None or not analysis.instruction.access_derivable or analysis.accesses is None:
        return False
    if any(a.address in NON_CANONICAL for a in analysis.accesses):
        return False
    return analysis.ip_known and (analysis.ip_target is None or analysis.ip_target not in NON_CANONICAL)


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
