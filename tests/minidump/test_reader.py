from __future__ import annotations

import struct
from pathlib import Path

import pytest

from crashcart.minidump import (
    STREAM_CLASSES,
    ExceptionStream,
    MemoryList,
    Minidump,
    MinidumpError,
    ModuleList,
    StreamType,
    SystemInfo,
    ThreadList,
)
from tests.minidump import synth
from tests.minidump.exercise import read_everything


def test_header_and_directory() -> None:
    s = synth.minimal()
    s.memory_list([(0x1000, b"abcd")])
    dump = Minidump.from_bytes(s.build())
    assert dump.header.signature == 0x504D444D and dump.header.version & 0xFFFF == 0xA793
    assert dump.header.time_date_stamp == 0x5F000000 and dump.header.stream_count == 2
    assert [e.name for e in dump.directory] == ["SYSTEM_INFO", "MEMORY_LIST"]
    assert dump.stream_types == (StreamType.SYSTEM_INFO, StreamType.MEMORY_LIST)
    assert dump.has_stream(StreamType.MEMORY_LIST) and not dump.has_stream(StreamType.THREAD_LIST)
    raw = dump.raw_stream(StreamType.MEMORY_LIST)
    assert raw is not None and raw[:4] == b"\x01\0\0\0"
    assert dump.raw_stream(0x12345) is None


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "not_a_minidump"),
        (b"MDMP", "not_a_minidump"),
        (b"ZZZZ" + bytes(28), "not_a_minidump"),
        (b"PMDM" + bytes(28), "big_endian"),
        (b"MDMP" + struct.pack("<I", 0x1234) + bytes(24), "bad_version"),
        (b"MDMP" + struct.pack("<III", 0xA793, 1, 32) + bytes(20), "bad_directory"),
        (b"MDMP" + struct.pack("<III", 0xA793, 20_000, 32) + bytes(20), "bad_directory"),
    ],
)
def test_unreadable_headers(data: bytes, code: str) -> None:
    with pytest.raises(MinidumpError) as err:
        Minidump.from_bytes(data)
    assert err.value.code == code


def test_implementation_specific_version_bits_are_ignored() -> None:
    s = synth.Synth(version=0x12345678 & 0xFFFF0000 | 0xA793)
    assert Minidump.from_bytes(s.build()).header.version == 0x1234A793


def test_missing_and_corrupt_streams_are_both_none() -> None:
    s = synth.minimal()
    s.raw_entry(StreamType.THREAD_LIST, 1000, 0xFFFF0000)
    s.raw_entry(StreamType.UNUSED, 1000, 0xFFFF0000)
    dump = Minidump.from_bytes(s.build())
    assert dump.get_stream(ModuleList) is None
    assert dump.get_stream(ThreadList) is None
    assert dump.get_stream(ThreadList) is None  # cached: noted once
    assert [(n.code, n.stream_type) for n in dump.notes] == [("out_of_bounds", StreamType.THREAD_LIST)]
    assert str(dump.notes[0]).startswith("THREAD_LIST stream: out_of_bounds:")
    with pytest.raises(MinidumpError) as err:
        dump.get_stream(ThreadList, strict=True)
    assert err.value.code == "out_of_bounds"
    assert dump.get_stream(ModuleList, strict=True) is None


def test_duplicate_streams_keep_the_first() -> None:
    s = synth.minimal(cpus=2)
    s.system_info(cpus=8)
    dump = Minidump.from_bytes(s.build())
    info = dump.get_stream(SystemInfo)
    assert info is not None and info.number_of_processors == 2
    assert [n.code for n in dump.notes] == ["bad_directory"]


def test_streams_may_overlap() -> None:
    s = synth.minimal()
    rva = s.stream(StreamType.LINUX_CMD_LINE, b"a\0b\0")
    s.raw_entry(StreamType.LINUX_ENVIRON, 4, rva)
    dump = Minidump.from_bytes(s.build())
    assert dump.raw_stream(StreamType.LINUX_CMD_LINE) == dump.raw_stream(StreamType.LINUX_ENVIRON)


def test_streams_are_parsed_once() -> None:
    s = synth.minimal()
    dump = Minidump.from_bytes(s.build())
    assert dump.get_stream(SystemInfo) is dump.get_stream(SystemInfo)


def test_from_path_maps_the_file_and_closes(tmp_path: Path) -> None:
    s = synth.minimal()
    s.thread_list([s.thread(1, context=synth.amd64_context(rip=3)), s.thread(2, context=synth.amd64_context())])
    s.memory_list([(0x1000, b"abcd")])
    path = tmp_path / "x.dmp"
    path.write_bytes(s.build())
    with Minidump.from_path(path) as dump:
        threads = dump.get_stream(ThreadList)
        assert threads is not None
        first = threads.threads[0].context
        assert first is not None and first.instruction_pointer == 3
        assert dump.read_memory(0x1000, 4) == b"abcd"
    # Parsed data stays; reading more from the closed file is a MinidumpError, noted for lazy contexts.
    assert threads.threads[1].context is None
    assert dump.notes[-1].code == "closed"
    with pytest.raises(MinidumpError) as err:
        dump.read_memory(0x1000, 4)
    assert err.value.code == "closed"


def test_from_path_errors(tmp_path: Path) -> None:
    with pytest.raises(MinidumpError) as err:
        Minidump.from_path(tmp_path / "missing.dmp")
    assert err.value.code == "io_error"
    (tmp_path / "empty.dmp").write_bytes(b"")
    with pytest.raises(MinidumpError) as err:
        Minidump.from_path(tmp_path / "empty.dmp")
    assert err.value.code == "not_a_minidump"
    (tmp_path / "junk.dmp").write_bytes(b"junk" * 10)
    with pytest.raises(MinidumpError) as err:
        Minidump.from_path(tmp_path / "junk.dmp")
    assert err.value.code == "not_a_minidump"


def test_from_bytes_accepts_bytearray_and_memoryview() -> None:
    data = synth.minimal().build()
    assert Minidump.from_bytes(bytearray(data)).get_stream(SystemInfo) is not None
    assert Minidump.from_bytes(memoryview(data)).get_stream(SystemInfo) is not None
    words = memoryview(data[: len(data) - len(data) % 4]).cast("I")
    assert Minidump.from_bytes(words).header.signature == 0x504D444D


# --- memory ---------------------------------------------------------------------------------------------------


def memory_dump() -> Minidump:
    s = synth.minimal()
    s.memory_list(
        [(0x1000, b"A" * 0x100), (0x1100, b"B" * 0x80), (0x3000, b"C" * 0x10), (0x1170, b"X" * 0x90)],
        extra=[(0x9000, 0x100, 0xFFFFFF00), (0x9800, 0, 0)],
    )
    s.memory64_list([(0x5000, b"D" * 0x20), (0x1010, b"Y" * 0x10)])
    return Minidump.from_bytes(s.build())


def test_read_memory() -> None:
    dump = memory_dump()
    assert dump.read_memory(0x1000, 4) == b"AAAA"
    assert dump.read_memory(0x10FE, 4) == b"AABB"  # spans two adjacent ranges
    assert dump.read_memory(0x1170, 0x20) == b"B" * 0x10 + b"X" * 0x10  # overlapping range trimmed, not lost
    assert dump.read_memory(0x1010, 4) == b"AAAA"  # a range inside an earlier one adds nothing
    assert dump.read_memory(0x5010, 0x10) == b"D" * 0x10
    assert dump.read_memory(0x3000, 0x11) is None
    assert dump.read_memory(0x0FFF, 2) is None
    assert dump.read_memory(0x9000, 1) is None
    assert dump.read_memory(0x1000, 0) == b""
    assert dump.read_memory(0x1000, -1) is None
    assert dump.read_u32(0x3000) == 0x43434343 and dump.read_u64(0x5000) == 0x4444444444444444
    assert dump.read_u32(0x8000) is None and dump.read_u64(0x8000) is None
    assert [n.code for n in dump.notes] == ["out_of_bounds"]


def test_memory_ranges_are_sorted_and_disjoint() -> None:
    dump = memory_dump()
    assert [(r.start, r.end) for r in dump.memory_ranges()] == [
        (0x1000, 0x1100),
        (0x1100, 0x1180),
        (0x1180, 0x1200),
        (0x3000, 0x3010),
        (0x5000, 0x5020),
    ]
    found = dump.memory_range_at(0x3008)
    assert found is not None and (found.start, found.data_size) == (0x3000, 0x10)
    assert dump.memory_range_at(0x4000) is None and dump.memory_range_at(0) is None


def test_thread_stack_uses_its_descriptor_or_the_memory_list() -> None:
    s = synth.minimal()
    own = s.thread(1, stack_start=0x7000, stack=b"S" * 32)
    s.memory_list([(0x9000, b"M" * 64)])
    borrowed = s.thread(2, stack_start=0x9010, stack=b"", stack_rva=0)
    lost = s.thread(3, stack_start=0xA000)
    s.thread_list([own, borrowed, lost])
    dump = Minidump.from_bytes(s.build())
    threads = dump.get_stream(ThreadList)
    assert threads is not None
    stack = dump.thread_stack(threads.threads[0])
    assert stack is not None and (stack.base, stack.size, stack.end) == (0x7000, 32, 0x7020)
    assert stack.read(0x7010, 4) == b"SSSS" and stack.read(0x701E, 4) is None and stack.read(0x7000, -1) is None
    assert stack.read_u32(0x7000) == 0x53535353 and stack.read_u64(0x7018) == 0x5353535353535353
    assert stack.read_u64(0x701C) is None and stack.read_u32(0x6FFF) is None
    other = dump.thread_stack(threads.threads[1])
    assert other is not None and other.base == 0x9000 and other.size == 64
    assert dump.thread_stack(threads.threads[2]) is None


def test_full_memory_thread_stack_with_rva_0_comes_from_the_memory64_list() -> None:
    """Full-memory dumps record each stack's range and size with RVA 0; the bytes are in the Memory64List.
    Reading the descriptor literally would hand the walker the file header (``MDMP…``) as stack memory."""
    s = synth.minimal()
    full = s.thread(1, stack_start=0x9010, stack_rva=0, stack_size=0x20)
    s.memory64_list([(0x8000, b"L" * 0x1000), (0x9000, b"S" * 0x100)])
    s.thread_list([full])
    dump = Minidump.from_bytes(s.build())
    threads = dump.get_stream(ThreadList)
    assert threads is not None
    thread = threads.threads[0]
    assert (thread.stack.rva, thread.stack.data_size) == (0, 0x20)
    stack = dump.thread_stack(thread)
    assert stack is not None
    assert (stack.base, stack.size) == (0x9000, 0x100)  # the whole stored range, as Breakpad's fallback
    assert stack.read(0x9010, 4) == b"SSSS"
    assert b"MDMP" not in stack.read(stack.base, stack.size)  # type: ignore[operator]


# --- crash ------------------------------------------------------------------------------------------------------


def test_requesting_thread_skips_the_dump_thread() -> None:
    s = synth.minimal(platform=synth.OS_WINDOWS, arch=synth.ARCH_X86)
    s.thread_list([s.thread(tid) for tid in (10, 20, 30)])
    s.breakpad_info(dump_thread=20, requesting_thread=30)
    s.exception(thread_id=30, params=[0, 0x10])
    dump = Minidump.from_bytes(s.build())
    assert dump.requesting_thread_id() == 30
    assert dump.requesting_thread_index() == 1
    assert dump.requesting_thread_index(skip_dump_thread=False) == 2
    reason = dump.crash_reason()
    assert reason is not None and reason.reason == "EXCEPTION_ACCESS_VIOLATION_READ" and reason.thread_id == 30


def test_requesting_thread_without_an_exception() -> None:
    s = synth.minimal()
    s.thread_list([s.thread(tid) for tid in (10, 20)])
    s.breakpad_info(validity=2, requesting_thread=20)
    dump = Minidump.from_bytes(s.build())
    assert dump.crash_reason() is None
    assert dump.get_stream(ExceptionStream) is None
    assert dump.requesting_thread_index() == 1


def test_requesting_thread_unknown() -> None:
    s = synth.minimal()
    s.thread_list([s.thread(10)])
    s.exception(thread_id=99)
    dump = Minidump.from_bytes(s.build())
    assert dump.requesting_thread_index() is None
    assert Minidump.from_bytes(synth.minimal().build()).requesting_thread_index() is None


def test_module_at_without_a_module_list() -> None:
    assert Minidump.from_bytes(synth.minimal().build()).module_at(0x1000) is None


def test_memory_list_is_optional() -> None:
    dump = Minidump.from_bytes(synth.minimal().build())
    assert dump.get_stream(MemoryList) is None and dump.read_memory(0, 1) is None and dump.memory_ranges() == ()


@pytest.mark.parametrize(
    "arch", [synth.ARCH_X86, synth.ARCH_AMD64, synth.ARCH_ARM, synth.ARCH_ARM64, synth.ARCH_ARM64_OLD]
)
def test_a_dump_with_every_stream(arch: int) -> None:
    dump = Minidump.from_bytes(synth.everything(arch))
    read_everything(dump)
    assert [c.__name__ for c in STREAM_CLASSES.values() if dump.get_stream(c) is None] == []
    assert dump.notes == []
    reason = dump.crash_reason()
    assert reason is not None and reason.reason == "SIGSEGV /SEGV_MAPERR" and reason.address == 0x45
    assert dump.requesting_thread_index() == 0
    assert dump.read_memory(0x9000, 4) == b"\x22" * 4 and dump.read_memory(0x8000, 4) == b"\x11" * 4
