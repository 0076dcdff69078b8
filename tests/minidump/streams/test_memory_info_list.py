from __future__ import annotations

from crashcart.minidump import MemoryInfoList, Minidump
from crashcart.minidump.streams.memory_info_list import MEM_COMMIT, MEM_FREE, MEM_IMAGE, PAGE_EXECUTE_READ, PAGE_GUARD
from tests.minidump import synth


def test_regions_and_protections() -> None:
    s = synth.minimal(platform=synth.OS_WINDOWS)
    s.memory_info_list(
        [
            (0x10000, 0x1000, MEM_COMMIT, PAGE_EXECUTE_READ, MEM_IMAGE),
            (0x0, 0x10000, MEM_FREE, 0x01, 0),
            (0x11000, 0x1000, MEM_COMMIT, 0x04 | PAGE_GUARD, 0x20000),
        ]
    )
    found = Minidump.from_bytes(s.build()).get_stream(MemoryInfoList)
    assert found is not None and len(found) == 3
    code = found.info_at(0x10800)
    assert code is not None and code.is_executable and code.is_committed and not code.is_writable
    guard = found.info_at(0x11000)
    assert guard is not None and guard.is_guard_page and guard.is_writable
    free = found.info_at(0x5)
    assert free is not None and not free.is_committed
    assert found.info_at(0x12000) is None
