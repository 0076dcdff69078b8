from __future__ import annotations

from crashcart.minidump import MemoryList, Minidump
from tests.minidump import synth


def test_descriptors_in_stream_order() -> None:
    s = synth.minimal()
    s.memory_list([(0x2000, b"b" * 16), (0x1000, b"a" * 8)])
    found = Minidump.from_bytes(s.build()).get_stream(MemoryList)
    assert found is not None and len(found) == 2
    assert [(r.start, r.data_size, r.end) for r in found.regions] == [(0x2000, 16, 0x2010), (0x1000, 8, 0x1008)]
