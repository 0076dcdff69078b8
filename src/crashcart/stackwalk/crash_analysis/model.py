"""The crash analysis's data: what goes in (crash facts, the memory map) and what comes out.

Shared by :mod:`crashcart.stackwalk.crash_analysis` and its checks (``bit_flips``, ``inconsistencies``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from crashcart.stackwalk.instruction import Access, Instruction

#: ``(address, size) -> bytes | None``: process memory the dump holds, None unless all of it is there.
ReadMemory = Callable[[int, int], bytes | None]
#: ``int -> "0x…"`` at the dump's pointer width (``output_json.HexFormatter``).
Hex = Callable[[int], str | None]

#: amd64's non-canonical addresses with 48-bit virtual addresses.
NON_CANONICAL = range(0x0000_8000_0000_0000, 0xFFFF_8000_0000_0000)
STACK_POINTER_REGISTER = {"amd64": "rsp", "x86": "esp"}
IP_REGISTER = {"amd64": "rip", "x86": "eip"}

# Exception codes the checks look at (Windows NTSTATUS, POSIX signals, Mach exceptions).
WIN_INT_DIVIDE_BY_ZERO = 0xC0000094
WIN_PRIV_INSTRUCTION = 0xC0000096
WIN_STACK_OVERFLOW = 0xC00000FD
SIGBUS, SIGFPE, SIGSEGV = 7, 8, 11
FPE_INTDIV = 1
SI_KERNEL = 0x80
EXC_BAD_ACCESS, EXC_ARITHMETIC = 1, 3
EXC_I386_DIV = 1
EXC_I386_GPFLT = 13
AV_READ = "EXCEPTION_ACCESS_VIOLATION_READ"
AV_WRITE = "EXCEPTION_ACCESS_VIOLATION_WRITE"
AV_EXEC = "EXCEPTION_ACCESS_VIOLATION_EXEC"


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


# --- memory operations -------------------------------------------------------------------------------------------


def memory_operation(reason: str) -> str | None:
    """The access a Windows access violation was making (rust-minidump's ``MemoryOperation``); None: unknown."""
    return {AV_READ: "read", AV_WRITE: "write", AV_EXEC: "execute"}.get(reason)


def allows(region: Region, operation: str | None, *, unknown: bool) -> bool:
    if operation is None:
        return unknown
    return {"read": region.readable, "write": region.writable, "execute": region.executable}[operation]


def is_gpf(facts: CrashFacts) -> bool:
    """The OS reported an amd64 general-protection fault (which carries no address), as each OS spells it."""
    if facts.os == "Windows NT":
        return facts.reason == AV_READ and facts.address == (1 << 64) - 1
    if facts.os == "Mac OS X":
        return (facts.exception_code, facts.exception_flags, facts.address) == (EXC_BAD_ACCESS, EXC_I386_GPFLT, 0)
    if facts.os == "Linux":
        return facts.exception_code in (SIGSEGV, SIGBUS) and facts.exception_flags == SI_KERNEL and not facts.address
    return False
