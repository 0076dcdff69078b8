from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crashcart.minidump import (
    CodeViewElf,
    CodeViewPdb20,
    CodeViewPdb70,
    CodeViewUnknown,
    Location,
    Minidump,
    MinidumpError,
    Module,
    ModuleList,
    VersionInfo,
)
from crashcart.minidump.streams.module_list import basename
from tests.minidump import synth

GUID = (0x5A9832E5, 0x2872, 0x41C1, bytes.fromhex("838ED98914E9B7FF"))


def modules(s: synth.Synth) -> tuple[Minidump, ModuleList]:
    dump = Minidump.from_bytes(s.build())
    found = dump.get_stream(ModuleList)
    assert found is not None
    return dump, found


def test_windows_pdb70_module() -> None:
    s = synth.minimal(arch=synth.ARCH_X86, platform=synth.OS_WINDOWS)
    record = s.module(
        "c:\\test_app.exe",
        0x400000,
        0x2D000,
        cv=synth.cv_pdb70(GUID, 1, "c:\\build\\test_app.pdb"),
        timestamp=0x45D35F6C,
        version=(5, 1, 2600, 2180),
    )
    s.module_list([record])
    _, found = modules(s)
    module = found.modules[0]
    assert isinstance(module.codeview, CodeViewPdb70)
    assert module.debug_id == "5A9832E5287241C1838ED98914E9B7FF1"
    assert module.debug_file == "c:\\build\\test_app.pdb" and module.debug_filename == "test_app.pdb"
    assert module.code_id == "45d35f6c2d000"
    assert module.code_file == "c:\\test_app.exe" and module.filename == "test_app.exe"
    assert module.version == "5.1.2600.2180"
    assert (module.base_address, module.end_address, module.size) == (0x400000, 0x42D000, 0x2D000)
    assert found.main_module is module


def test_elf_build_id_gives_a_swapped_guid_and_the_whole_build_id() -> None:
    s = synth.minimal(platform=synth.OS_LINUX)
    build_id = bytes.fromhex("db4c55d26192c436b9766a086583b9b5a6d2e271")
    s.module_list([s.module("/usr/bin/crash_linux", 0x400000, 0x1000, cv=synth.cv_elf(build_id))])
    module = modules(s)[1].modules[0]
    assert isinstance(module.codeview, CodeViewElf)
    assert module.debug_id == "D2554CDB926136C4B9766A086583B9B50"
    assert module.code_id == "db4c55d26192c436b9766a086583b9b5a6d2e271"
    assert module.debug_file == "/usr/bin/crash_linux" and module.debug_filename == "crash_linux"
    assert module.version is None


def test_short_and_empty_elf_build_ids() -> None:
    s = synth.minimal(platform=synth.OS_LINUX)
    short = s.module("linux_inline", 0x1000, 0x1000, cv=synth.cv_elf(bytes.fromhex("10faa6bbaab83db3")))
    zero = s.module("/usr/share/fonts/x.ttf", 0x3000, 0x1000, cv=synth.cv_elf(bytes(20)))
    s.module_list([short, zero])
    first, second = modules(s)[1].modules
    assert first.debug_id == "BBA6FA10B8AAB33D00000000000000000" and first.code_id == "10faa6bbaab83db3"
    assert second.debug_id == "000000000000000000000000000000000" and second.code_id is None


def test_mac_module_code_id_is_the_uuid() -> None:
    s = synth.minimal(platform=synth.OS_MAC)
    guid = (0x509C0610, 0x9498, 0x36F7, bytes.fromhex("B70BD88BCF03E540"))
    s.module_list([s.module("/tmp/crash-client", 0x102A54000, 0xC4000, cv=synth.cv_pdb70(guid, 0, "crash-client"))])
    module = modules(s)[1].modules[0]
    assert module.debug_id == "509C0610949836F7B70BD88BCF03E5400"
    assert module.code_id == "509c0610949836f7b70bd88bcf03e540"


def test_pdb20_misc_record_and_unknown_codeview() -> None:
    s = synth.minimal(arch=synth.ARCH_X86, platform=synth.OS_WINDOWS)
    pdb20 = s.module("a.dll", 0x10000, 0x1000, cv=synth.cv_pdb20(0x3C1D3A4B, 2, "a.pdb"), timestamp=7)
    misc = b"\x01\x00\x00\x00" + (12 + 12).to_bytes(4, "little") + b"\x00\x00\x00\x00" + b"old_name.dbg"
    unknown = s.module("b.dll", 0x20000, 0x1000, cv=b"NB09" + b"\x00" * 8, misc=misc)
    no_cv = s.module("c.dll", 0x30000, 0x1000, timestamp=0x378BC3CD)
    s.module_list([pdb20, unknown, no_cv])
    a, b, c = modules(s)[1].modules
    assert isinstance(a.codeview, CodeViewPdb20)
    assert (a.debug_id, a.debug_file, a.code_id) == ("3C1D3A4B2", "a.pdb", "000000071000")
    assert isinstance(b.codeview, CodeViewUnknown) and b.debug_id == "" and b.debug_file == "old_name.dbg"
    assert c.codeview is None and c.debug_id == "" and c.code_id == "378bc3cd1000"


def test_unicode_misc_record() -> None:
    s = synth.minimal(platform=synth.OS_WINDOWS)
    name = "wide.dbg".encode("utf-16-le")
    misc = (1).to_bytes(4, "little") + (12 + len(name)).to_bytes(4, "little") + b"\x01\x00\x00\x00" + name
    s.module_list([s.module("w.dll", 0x1000, 0x1000, misc=misc)])
    assert modules(s)[1].modules[0].debug_file == "wide.dbg"


def test_lookup_by_address_with_overlaps_outside_linux() -> None:
    """Not Linux/Android: the innermost (highest-base) module containing an address wins."""
    s = synth.minimal(platform=synth.OS_WINDOWS)
    records = [
        s.module("big", 0x1000, 0x10000),
        s.module("inner", 0x4000, 0x1000),
        s.module("after", 0x20000, 0x1000),
        s.module("empty", 0x30000, 0),
    ]
    s.module_list(records)
    dump, found = modules(s)
    addresses = (0xFFF, 0x1000, 0x3FFF, 0x4000, 0x4FFF, 0x5000, 0x10FFF, 0x11000, 0x20000, 0x30000)
    lookup = {a: (m.name if (m := found.module_at(a)) else None) for a in addresses}
    assert lookup == {
        0xFFF: None,
        0x1000: "big",
        0x3FFF: "big",
        0x4000: "inner",
        0x4FFF: "inner",
        0x5000: "big",
        0x10FFF: "big",
        0x11000: None,
        0x20000: "after",
        0x30000: None,
    }
    assert [m.name for m in found.by_address()] == ["big", "inner", "after", "empty"]
    assert dump.module_at(0x4000) is found.modules[1]
    assert any(n.code == "bad_stream" and "size 0" in n.message for n in dump.notes)


@pytest.mark.parametrize("platform", [synth.OS_LINUX, synth.OS_ANDROID])
def test_lookup_on_linux_truncates_the_lower_module_as_breakpad(platform: int) -> None:
    """Breakpad's kTruncateLower (Linux, Android): a module ends where the next higher one begins and does not
    resume after it; a second module at an already taken base is not in the map. The Android case of the
    corpus: ``libicuuc.so`` with an ``ashmem`` mapping inside it owns nothing above the mapping."""
    s = synth.minimal(platform=platform)
    records = [
        s.module("libicuuc.so", 0x1000, 0x10000),
        s.module("ashmem", 0x4000, 0x1000),
        s.module("twin", 0x4000, 0x8000),  # same base as ashmem, later in the list: never found
        s.module("after", 0x10000, 0x3000),  # overlaps libicuuc's (already cut) range: nothing to cut
    ]
    s.module_list(records)
    _, found = modules(s)
    addresses = (0x1000, 0x3FFF, 0x4000, 0x4FFF, 0x5000, 0xFFFF, 0x10000, 0x12FFF, 0x13000)
    lookup = {a: (m.name if (m := found.module_at(a)) else None) for a in addresses}
    assert lookup == {
        0x1000: "libicuuc.so",
        0x3FFF: "libicuuc.so",
        0x4000: "ashmem",
        0x4FFF: "ashmem",
        0x5000: None,  # libicuuc.so's own range, but Breakpad cut it at 0x4000
        0xFFFF: None,
        0x10000: "after",
        0x12FFF: "after",
        0x13000: None,
    }
    # The module list itself is untouched: Module lines print every module with its own size.
    assert [(m.name, m.size) for m in found.by_address()][:2] == [("libicuuc.so", 0x10000), ("ashmem", 0x1000)]


def _breakpad_truncate_lower(ranges: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Breakpad's RangeMap::StoreRange with kTruncateLower, insertion by insertion: (base, last, owner)."""
    stored: list[tuple[int, int, int]] = []

    def store(base: int, size: int, owner: int) -> None:
        if size == 0:
            return
        last = base + size - 1
        overlapping = sorted((r for r in stored if r[0] <= last and base <= r[1]), key=lambda r: r[0])
        if not overlapping:
            stored.append((base, last, owner))
            return
        other = overlapping[0]
        if base < other[0]:
            store(base, other[0] - base, owner)
        elif other[0] < base:
            stored.remove(other)
            stored.append((other[0], base - 1, other[2]))
            store(base, size, owner)
        # equal bases: the new range is refused

    for owner, (base, size) in enumerate(ranges):
        store(base, size, owner)
    return stored


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.tuples(st.integers(0, 64), st.integers(0, 24)), max_size=12),
    st.lists(st.integers(0, 96), max_size=20),
)
def test_truncate_lower_lookup_matches_breakpads_insertions(
    ranges: list[tuple[int, int]], addresses: list[int]
) -> None:
    records = tuple(
        Module(i, base, size, 0, 0, f"m{i}", VersionInfo(*[0] * 13), None, Location(0, 0), Location(0, 0), "", "", None)
        for i, (base, size) in enumerate(ranges)
    )
    found = ModuleList.from_modules(records, truncate_lower=True)
    stored = _breakpad_truncate_lower(ranges)
    for address in addresses:
        owners = [owner for base, last, owner in stored if base <= address <= last]
        assert len(owners) <= 1
        assert found.module_at(address) is (records[owners[0]] if owners else None)


def test_unreadable_parts_are_noted_not_fatal() -> None:
    s = synth.minimal(platform=synth.OS_WINDOWS)
    bad_name = s.module("x", 0x1000, 0x1000, name_rva=0xFFFFFFF0)
    huge_cv = s.module("y.dll", 0x2000, 0x1000, cv=b"RSDS" + b"\0" * 40000)
    short_cv = s.module("z.dll", 0x3000, 0x1000, cv=b"RSDS\x01\x02")
    s.module_list([bad_name, huge_cv, short_cv])
    dump, found = modules(s)
    assert [m.name for m in found.modules] == ["", "y.dll", "z.dll"]
    assert found.modules[1].codeview is None and found.modules[2].codeview is None
    assert [n.code for n in dump.notes] == ["out_of_bounds", "too_many", "truncated"]


def test_module_count_over_the_data_is_truncated() -> None:
    s = synth.minimal()
    s.module_list([s.module("a", 0x1000, 0x1000)], count=2)
    with pytest.raises(MinidumpError) as err:
        Minidump.from_bytes(s.build()).get_stream(ModuleList, strict=True)
    assert err.value.code == "truncated"


def test_basename() -> None:
    assert basename("c:\\windows\\system32\\ntdll.dll") == "ntdll.dll"
    assert basename("/usr/lib/libc.so.6") == "libc.so.6"
    assert basename("plain") == "plain"
    assert basename("dir/") == ""


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.tuples(st.integers(0, 64), st.integers(0, 24)), max_size=12),
    st.lists(st.integers(0, 96), max_size=20),
)
def test_lookup_matches_a_brute_force_search(ranges: list[tuple[int, int]], addresses: list[int]) -> None:
    records = tuple(
        Module(i, base, size, 0, 0, f"m{i}", VersionInfo(*[0] * 13), None, Location(0, 0), Location(0, 0), "", "", None)
        for i, (base, size) in enumerate(ranges)
    )
    found = ModuleList.from_modules(records)
    for address in addresses:
        containing = [m for m in records if m.contains(address)]
        expected = min(containing, key=lambda m: (-m.base_address, m.index)) if containing else None
        assert found.module_at(address) is expected
