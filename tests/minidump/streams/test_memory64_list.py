from __future__ import annotations

import pytest

from crashcart.minidump import Memory64List, Minidump, MinidumpError
from tests.minidump import synth


def test_ranges_are_back_to_back_from_the_base_rva() -> None:
    s = synth.minimal()
    s.memory64_list([(0x10000, b"x" * 0x20), (0x20000, b"y" * 0x10)])
    dump = Minidump.from_bytes(s.build())
    found = dump.get_stream(Memory64List)
    assert found is not None and len(found) == 2
    first, second = found.regions
    assert second.rva == first.rva + 0x20 == found.base_rva + 0x20
    assert dump.read_memory(0x20008, 4) == b"yyyy"


def test_count_over_the_stream() -> None:
    s = synth.minimal()
    s.stream(synth.MEMORY64_LIST, synth.u64(5, 0))
    with pytest.raises(MinidumpError) as err:
        Minidump.from_bytes(s.build()).get_stream(Memory64List, strict=True)
    assert err.value.code == "truncated"
