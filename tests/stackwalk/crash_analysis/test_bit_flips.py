"""``bit_flips``: rust-minidump's bit-flip candidates and confidences (amd64 only)."""

from __future__ import annotations

from crashcart.stackwalk.crash_analysis import CrashFacts, MemoryMap, analyze
from tests.stackwalk.crash_analysis.helpers import NO_MAP, facts, rw, rx


def test_bit_flip_into_mapped_memory_like_linux_mini() -> None:
    crash, read = facts("c704254500000005000000", address=0x45, rax=(1 << 64) - 1)  # mov dword [0x45], 5
    flips = analyze(crash, read, MemoryMap([rx(0x10_0000_0000, 0x10_0001_0000)])).bit_flips
    assert [(f.address, f.source_register, f.confidence) for f in flips] == [(0x10_0000_0045, None, 0.25)]
    assert not flips[0].poison_registers  # 0xff.. fills a register, but 0xff is no allocator's poison


def test_bit_flip_to_null_from_a_low_address_is_discounted() -> None:
    crash, read = facts("8b00", address=0x1000, rax=0x1000)
    flips = analyze(crash, read, NO_MAP).bit_flips
    assert [(f.address, f.source_register, f.is_null, f.was_low) for f in flips] == [
        (0, None, True, True),
        (0, "rax", True, True),
    ]
    assert flips[0].confidence == 0.4375  # 1 - (1 - 0.25)(1 - 0.5 * 0.5)


def test_nearby_registers_raise_and_poison_lowers_the_confidence() -> None:
    heap = rw(0x5555_0000_0000, 0x5555_0001_0000)
    crash, read = facts("8b00", address=0x5555_0000_0010 ^ (1 << 41), rax=0x5555_0000_0010 ^ (1 << 41))
    near = CrashFacts(crash.os, crash.cpu, crash.reason, 11, 1, crash.address, {**crash.registers, "rdx": heap.start})
    (flip, _) = analyze(near, read, MemoryMap([heap])).bit_flips
    assert (flip.address, flip.nearby_registers, flip.confidence) == (0x5555_0000_0010, 1, 0.625)
    poisoned = CrashFacts(
        crash.os, crash.cpu, crash.reason, 11, 1, crash.address, {**near.registers, "rsi": 0xE5E5_E5E5_E5E5_E5E5}
    )
    (flip, _) = analyze(poisoned, read, MemoryMap([heap])).bit_flips
    assert flip.poison_registers and flip.confidence == 0.3125


def test_no_bit_flips_next_to_an_allocation_or_inside_one_or_on_x86() -> None:
    heap = rw(0x5555_0000_0000, 0x5555_0001_0000)
    crash, read = facts("8b00", address=heap.end + 2, rax=heap.end + 2)
    assert analyze(crash, read, MemoryMap([heap])).bit_flips == ()  # 2 bytes past the end: an off-by-one
    crash, read = facts("8b00", address=heap.start, rax=heap.start)
    assert analyze(crash, read, MemoryMap([heap])).bit_flips == ()
    crash, read = facts("8b00", cpu="x86", address=0x1000, eax=0x1000)
    assert analyze(crash, read, NO_MAP).bit_flips == ()


def test_windows_access_kind_limits_bit_flip_targets() -> None:
    code_only = rx(0x40_0000, 0x40_1000)
    write = {"os": "Windows NT", "exception_code": 0xC0000005, "exception_flags": 0}
    crash, read = facts("c70001000000", reason="EXCEPTION_ACCESS_VIOLATION_WRITE", address=0x45, rax=0x45, **write)
    assert analyze(crash, read, MemoryMap([code_only])).bit_flips == ()  # read-only code is no place to write
    crash, read = facts("8b00", reason="EXCEPTION_ACCESS_VIOLATION_READ", address=0x45, rax=0x45, **write)
    flips = analyze(crash, read, MemoryMap([code_only])).bit_flips
    assert {f.address for f in flips} == {0x40_0045}
