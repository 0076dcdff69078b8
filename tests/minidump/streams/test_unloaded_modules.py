from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crashcart.minidump import Minidump, MinidumpError, UnloadedModuleList
from tests.minidump import synth


@pytest.mark.parametrize("entry_size", [24, 32])
def test_unloaded_modules_overlap_and_repeat(entry_size: int) -> None:
    s = synth.minimal(platform=synth.OS_WINDOWS)
    s.unloaded_modules(
        [("C:\\Windows\\shcore.dll", 0x7FF9000, 0xEA000, 0x5F1E3D0A), ("b.dll", 0x7FF9000, 0x1000, 1)],
        entry_size=entry_size,
    )
    found = Minidump.from_bytes(s.build()).get_stream(UnloadedModuleList)
    assert found is not None and len(found) == 2
    first = found.modules[0]
    assert (first.filename, first.base_address, first.end_address) == ("shcore.dll", 0x7FF9000, 0x7FF9000 + 0xEA000)
    assert first.code_id == "5f1e3d0aea000"
    assert [m.filename for m in found.modules_at(0x7FF9000)] == ["shcore.dll", "b.dll"]
    assert [m.filename for m in found.modules_at(0x7FFA000)] == ["shcore.dll"]


def test_bad_header() -> None:
    s = synth.minimal()
    s.stream(synth.UNLOADED_MODULE_LIST, synth.u32(12, 8, 1) + bytes(8))
    with pytest.raises(MinidumpError, match="too small"):
        Minidump.from_bytes(s.build()).get_stream(UnloadedModuleList, strict=True)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.tuples(st.integers(0, 64), st.integers(0, 24)), max_size=10),
    st.lists(st.integers(0, 96), max_size=20),
)
def test_lookup_matches_a_brute_force_search(ranges: list[tuple[int, int]], addresses: list[int]) -> None:
    s = synth.minimal()
    s.unloaded_modules([(f"m{i}", base, size, 0) for i, (base, size) in enumerate(ranges)])
    found = Minidump.from_bytes(s.build()).get_stream(UnloadedModuleList)
    assert found is not None
    for address in addresses:
        assert found.modules_at(address) == [m for m in found.modules if m.contains(address)]
