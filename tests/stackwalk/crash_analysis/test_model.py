"""``model``: the memory map stays sorted and disjoint whatever the dump says; guard pages are found in it."""

from __future__ import annotations

import pytest

from crashcart.stackwalk.crash_analysis import MemoryMap, Region, analyze, to_json
from tests.stackwalk.crash_analysis.helpers import HEX64, facts, none, rw, rx


def test_hostile_memory_maps() -> None:
    overlapping = MemoryMap([rw(0x1000, 0x3000), rx(0x2000, 0x4000), none(0x5000, 0x5000), rw(0x6000, 0x5000)])
    assert [(r.start, r.end) for r in overlapping.regions] == [(0x1000, 0x3000)]
    huge = MemoryMap([rw(0, 1 << 80)])
    crash, read = facts("8b03", address=1 << 70, rbx=1 << 70)
    assert analyze(crash, read, huge).bit_flips == ()  # the address is "mapped": nothing to flip


def test_guard_page_below_a_linux_stack() -> None:
    stack = rw(0x7000_0000, 0x7010_0000)
    guard = none(0x6FFF_F000, 0x7000_0000)
    crash, read = facts("8b00", address=0x6FFF_F800, rax=0x6FFF_F800)
    accesses = analyze(crash, read, MemoryMap([guard, stack])).accesses
    assert accesses is not None and accesses[0].guard_page
    doc = to_json(analyze(crash, read, MemoryMap([guard, stack])), HEX64)
    assert doc["memory_accesses"][0]["is_likely_guard_page"] is True


def test_a_guard_region_of_exactly_32_kib_counts() -> None:
    """rust-minidump compares an inclusive end with ``<``: 32 KiB is the largest guard region, 36 KiB is not."""
    stack = rw(0x7000_0000, 0x7010_0000)
    crash, read = facts("8b00", address=0x6FFF_F800, rax=0x6FFF_F800)
    largest = analyze(crash, read, MemoryMap([none(0x6FFF_8000, 0x7000_0000), stack])).accesses
    assert largest is not None and largest[0].guard_page
    larger = analyze(crash, read, MemoryMap([none(0x6FFF_7000, 0x7000_0000), stack])).accesses
    assert larger is not None and not larger[0].guard_page


@pytest.mark.parametrize(
    "regions",
    [
        [none(0x6FFF_0000, 0x7000_0000), rw(0x7000_0000, 0x7010_0000)],  # 64 KiB: too big for a guard page
        [none(0x6FFF_F000, 0x7000_0000)],  # nothing accessible next to it
        [none(0x6FFF_F000, 0x7000_0000), rw(0x7000_1000, 0x7010_0000)],  # a gap between them
    ],
)
def test_not_a_guard_page(regions: list[Region]) -> None:
    crash, read = facts("8b00", address=0x6FFF_F800, rax=0x6FFF_F800)
    accesses = analyze(crash, read, MemoryMap(regions)).accesses
    assert accesses is not None and not accesses[0].guard_page
    assert "is_likely_guard_page" not in to_json(analyze(crash, read, MemoryMap(regions)), HEX64)["memory_accesses"][0]


def test_windows_page_guard_flag_is_a_guard_page() -> None:
    flagged = Region(0x6FFF_0000, 0x7000_0000, readable=True, writable=True, executable=False, guard=True)
    crash, read = facts("8b00", address=0x6FFF_F800, rax=0x6FFF_F800)
    accesses = analyze(crash, read, MemoryMap([flagged])).accesses
    assert accesses is not None and accesses[0].guard_page
