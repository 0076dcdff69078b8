"""Property tests: whatever the bytes, the reader gives a Minidump or a MinidumpError (never another
exception), quickly, and reading every stream, context and memory range of the result is just as safe.

Seeds are real dumps (the fixtures) and a synthetic dump holding every stream kind; the mutations flip bytes,
truncate, and write huge or boundary values over counts, sizes and RVAs.
"""

from __future__ import annotations

import struct
import time
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crashcart.minidump import Minidump, MinidumpError, ModuleList, ThreadList
from tests.minidump import synth
from tests.minidump.exercise import assert_no_parser_bugs, read_everything

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "minidump"

PROPERTY = settings(
    max_examples=150,
    deadline=2000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HEADER = b"MDMP" + struct.pack("<I", 0xA793)
BOUNDARY_U32 = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFF]


@cache
def seeds() -> tuple[bytes, ...]:
    real = [(FIXTURES / f"{name}.dmp").read_bytes() for name in ("minidump2", "linux-mini", "thread_name_list")]
    made = [synth.everything(arch) for arch in (synth.ARCH_AMD64, synth.ARCH_X86, synth.ARCH_ARM, synth.ARCH_ARM64)]
    return (*made, *real)


def check(data: bytes) -> None:
    """The property itself."""
    started = time.monotonic()
    try:
        dump = Minidump.from_bytes(data)
    except MinidumpError:
        return
    read_everything(dump)
    assert_no_parser_bugs(dump)
    dump.close()
    assert time.monotonic() - started < 2.0


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds())))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "u32", "u64", "directory", "truncate", "splice"]))
        # Offsets start after the signature and version: the other tests cover those.
        if kind == "flip":
            offset = draw(st.integers(8, len(data) - 1))
            data[offset] ^= 1 << draw(st.integers(0, 7))
        elif kind in ("u32", "u64"):
            size = 4 if kind == "u32" else 8
            offset = draw(st.integers(8, len(data) - size))
            value = draw(st.sampled_from([*BOUNDARY_U32, len(data), len(data) - 4, 1 << 63, (1 << 64) - 1]))
            data[offset : offset + size] = (value % (1 << (8 * size))).to_bytes(size, "little")
        elif kind == "directory":
            # Aim at the directory: a stream's type, size or RVA.
            count, rva = struct.unpack_from("<II", data, 8)
            if count and rva + 12 * count <= len(data):
                entry = rva + 12 * draw(st.integers(0, count - 1)) + 4 * draw(st.integers(0, 2))
                struct.pack_into("<I", data, entry, draw(st.sampled_from([*BOUNDARY_U32, len(data)])))
        elif kind == "truncate":
            del data[draw(st.integers(min(32, len(data)), len(data))) :]
        else:
            start = draw(st.integers(8, len(data)))
            data[start:start] = draw(st.binary(max_size=64))
    return bytes(data)


@settings(PROPERTY, max_examples=300)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(data: bytes) -> None:
    check(data)


@settings(PROPERTY, max_examples=300)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_behind_a_valid_header(data: bytes) -> None:
    check(HEADER + data)


@settings(PROPERTY, max_examples=400)
@given(
    st.integers(0, 40),
    st.integers(0, 600),
    st.lists(st.tuples(st.sampled_from(sorted(synth.ALL_STREAM_TYPES)), st.integers(0, 700), st.integers(0, 700))),
    st.binary(min_size=0, max_size=700),
)
def test_random_directories(count: int, directory_rva: int, entries: list[tuple[int, int, int]], body: bytes) -> None:
    directory = b"".join(struct.pack("<III", *entry) for entry in entries)
    data = bytearray(HEADER + struct.pack("<II", count or len(entries), directory_rva) + bytes(16) + body)
    data[directory_rva : directory_rva + len(directory)] = directory
    check(bytes(data))


@settings(PROPERTY, max_examples=1000)
@given(mutated())
def test_mutated_dumps(data: bytes) -> None:
    check(data)


def test_huge_counts_pointing_at_one_big_string_hit_the_budget() -> None:
    s = synth.minimal()
    name = s.string("x" * 30_000)  # 60 KB of UTF-16
    record = s.module("", 0x1000, 0x1000, name_rva=name)
    s.module_list([record] * 20_000)  # 20,000 modules × 60 KB = 1.2 GB if decoded naively
    started = time.monotonic()
    dump = Minidump.from_bytes(s.build())
    with pytest.raises(MinidumpError) as err:
        dump.get_stream(ModuleList, strict=True)
    assert err.value.code == "limit_exceeded"
    assert time.monotonic() - started < 5


def test_notes_are_capped() -> None:
    s = synth.minimal()
    bad = s.thread(1, context_location=(1232, 0xFFFFFF00))
    s.thread_list([bad] * 5000)
    dump = Minidump.from_bytes(s.build())
    threads = dump.get_stream(ThreadList)
    assert threads is not None and all(t.context is None for t in threads.threads)
    assert len(dump.notes) == 1000 and dump.dropped_notes == 4000
