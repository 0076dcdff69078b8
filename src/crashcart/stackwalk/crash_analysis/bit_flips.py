"""Bit flips: valid addresses one bit away from a crash address (rust-minidump's ``check_for_bitflips``).

Only amd64 is checked, as in rust-minidump: in a 32-bit space too many addresses are valid for a one-bit
neighbour to mean anything. The confidence is rust-minidump's ``BitFlipDetails::confidence``, computed in
single precision as there, so the JSON carries the same numbers (``0.92499995``, not ``0.925``).
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Mapping
from dataclasses import replace

from crashcart.stackwalk.crash_analysis.model import (
    BitFlip,
    CrashAnalysis,
    CrashFacts,
    MemoryMap,
    allows,
    memory_operation,
)

#: Registers within this distance of a bit-flip candidate make it likelier (``NEARBY_REGISTER_DISTANCE``).
NEARBY_DISTANCE = 1 << 12
#: Candidates at or below this are "low": many small values are not pointers at all.
LOW_ADDRESS_CUTOFF = NEARBY_DISTANCE * 2
#: Byte values that fill a register by allocator poisoning (Mozilla's ``Poison.h``, jemalloc 0xa5/0xe5).
POISON_BYTES = frozenset(
    (0x2B, 0x2D, 0x2F, 0x49, 0x4B, 0x4D, 0x4F, 0x6B, 0x8B, 0x9B, 0x9F, 0xA5, 0xBB, 0xCC, 0xCD, 0xCE, 0xDB, 0xE5)
)
#: The general registers rust-minidump looks at for the bit-flip heuristics (amd64: the only CPU checked).
GENERAL_REGISTERS = ("rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", *(f"r{i}" for i in range(8, 16)), "rip")


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
        if allows(regions[i], operation, unknown=True):
            distances.append(max(address - (regions[i].end - 1), 0))
            break
    for i in range(pos, len(regions)):
        if allows(regions[i], operation, unknown=True):
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
    if region is not None and allows(region, operation, unknown=True):
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
        if target is not None and allows(target, operation, unknown=True):
            found.append(_candidate(flipped, address, register, non_canonical, registers))
    return found


def bit_flips(facts: CrashFacts, analysis: CrashAnalysis, memory: MemoryMap) -> tuple[BitFlip, ...]:
    """rust-minidump's ``check_for_bitflips``: 64-bit x86 only (a 32-bit space has too many valid addresses)."""
    if facts.cpu != "amd64":
        return ()
    if analysis.adjusted is not None and analysis.adjusted[0] == "null-pointer":
        return ()
    if analysis.adjusted is not None:
        address, bits = analysis.adjusted[1], range(48, 64)
    else:
        address, bits = facts.address, range(48)
    operation = memory_operation(facts.reason)
    crashing = next(
        (a for a in analysis.accesses or () if a.address <= facts.address < a.address + (a.size or 0)),
        None,
    )
    access_size = None if crashing is None else crashing.size
    registers = {name: facts.registers[name] for name in GENERAL_REGISTERS if name in facts.registers}
    start = address if crashing is None else crashing.address
    flips = _flips_of(start, None, bits, operation, access_size, memory, registers)
    if analysis.instruction is not None:
        for name in sorted(analysis.instruction.address_registers):
            value = facts.registers.get(name)
            if value is not None:
                flips += _flips_of(value, name, bits, operation, access_size, memory, registers)
    return tuple(flips)
