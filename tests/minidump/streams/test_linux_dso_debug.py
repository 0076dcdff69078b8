from __future__ import annotations

import pytest

from crashcart.minidump import LinuxDsoDebug, Minidump, MinidumpError
from tests.minidump import synth


def test_64_bit_with_natural_alignment() -> None:
    s = synth.minimal(arch=synth.ARCH_AMD64)
    names = [s.string(""), s.string("linux-vdso.so.1"), s.string("/lib64/libc.so.6")]
    maps = b"".join(synth.u64(0x1000 * i) + synth.u32(name, 0) + synth.u64(0x2000 * i) for i, name in enumerate(names))
    map_rva = s.add(maps)
    s.stream(synth.LINUX_DSO_DEBUG, synth.u32(1, map_rva, 3, 0) + synth.u64(0xB000, 0x7F0000, 0x600E10) + bytes(32))
    found = Minidump.from_bytes(s.build()).get_stream(LinuxDsoDebug)
    assert found is not None
    assert (found.version, found.dso_count, found.brk, found.ldbase, found.dynamic) == (
        1,
        3,
        0xB000,
        0x7F0000,
        0x600E10,
    )
    assert [(m.addr, m.name, m.ld) for m in found.link_maps] == [
        (0, "", 0),
        (0x1000, "linux-vdso.so.1", 0x2000),
        (0x2000, "/lib64/libc.so.6", 0x4000),
    ]


def test_32_bit() -> None:
    s = synth.minimal(arch=synth.ARCH_ARM)
    map_rva = s.add(synth.u32(0x40000000, s.string("/system/bin/linker"), 0x4000F000))
    s.stream(synth.LINUX_DSO_DEBUG, synth.u32(1, map_rva, 1, 0x400, 0x40000000, 0x8000))
    found = Minidump.from_bytes(s.build()).get_stream(LinuxDsoDebug)
    assert found is not None and found.link_maps[0].name == "/system/bin/linker" and found.ldbase == 0x40000000


def test_packed_64_bit_record() -> None:
    s = synth.minimal(arch=synth.ARCH_AMD64)
    s.stream(synth.LINUX_DSO_DEBUG, synth.u32(1, 0, 0) + synth.u64(1, 2, 3))
    found = Minidump.from_bytes(s.build()).get_stream(LinuxDsoDebug)
    assert found is not None and (found.brk, found.ldbase, found.dynamic) == (1, 2, 3)


def test_huge_count() -> None:
    s = synth.minimal(arch=synth.ARCH_AMD64)
    s.stream(synth.LINUX_DSO_DEBUG, synth.u32(1, 0, 0x7FFFFFFF, 0) + synth.u64(0, 0, 0))
    with pytest.raises(MinidumpError) as err:
        Minidump.from_bytes(s.build()).get_stream(LinuxDsoDebug, strict=True)
    assert err.value.code == "too_many"
