from __future__ import annotations

import struct

import pytest

from crashcart.minidump import Minidump, MinidumpError, MiscInfo
from tests.minidump import synth


def misc(s: synth.Synth) -> MiscInfo:
    found = Minidump.from_bytes(s.build()).get_stream(MiscInfo)
    assert found is not None
    return found


def test_version_1_fields_follow_the_flags() -> None:
    s = synth.Synth()
    s.misc_info(flags=0x1)
    found = misc(s)
    assert found.process_id == 1234 and found.process_create_time is None and found.processor_max_mhz is None
    s = synth.Synth()
    s.misc_info(flags=0x2)
    found = misc(s)
    assert found.process_id is None
    assert (found.process_create_time, found.process_user_time, found.process_kernel_time) == (1_600_000_000, 5, 6)


def test_version_2_processor_power() -> None:
    s = synth.Synth()
    s.misc_info(size=44, flags=0x7)
    found = misc(s)
    assert (found.processor_max_mhz, found.processor_current_mhz, found.processor_mhz_limit) == (3000, 2500, 3000)
    assert (found.processor_max_idle_state, found.processor_current_idle_state) == (2, 1)
    assert found.time_zone is None


def _time_zone() -> bytes:
    standard = synth.utf16_fixed("Pacific Standard Time", 32)
    daylight = synth.utf16_fixed("Pacific Daylight Time", 32)
    date = struct.pack("<8H", 0, 11, 0, 1, 2, 0, 0, 0)
    return struct.pack("<i", 480) + standard + date + struct.pack("<i", 0) + daylight + date + struct.pack("<i", -60)


def test_version_5_everything() -> None:
    flags = 0x1 | 0x2 | 0x4 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x200
    tail = synth.u32(8192, 13, 0, 2) + _time_zone()
    tail += synth.utf16_fixed("22621.1.amd64fre.ni_release.220506-1250", 260) + synth.utf16_fixed("dbghelp.dll", 40)
    xstate = synth.u32(528, 0x9C0) + synth.u64(0b111)
    features = [synth.u32(0, 160), synth.u32(160, 256), synth.u32(576, 256)] + [synth.u32(0, 0)] * 61
    tail += xstate + b"".join(features) + synth.u32(0xC0FFEE)
    s = synth.Synth()
    s.misc_info(size=1364, flags=flags, tail=tail)
    found = misc(s)
    assert (found.process_integrity_level, found.process_execute_flags, found.protected_process) == (8192, 13, 0)
    assert found.time_zone_id == 2 and found.time_zone is not None
    assert found.time_zone.bias == 480 and found.time_zone.standard_name == "Pacific Standard Time"
    assert found.time_zone.daylight_name == "Pacific Daylight Time" and found.time_zone.daylight_bias == -60
    assert found.time_zone.standard_date.month == 11 and found.time_zone.standard_date.hour == 2
    assert found.build_string == "22621.1.amd64fre.ni_release.220506-1250" and found.dbg_bld_str == "dbghelp.dll"
    assert found.xstate is not None and found.xstate.context_size == 0x9C0
    assert [(f.index, f.offset, f.size) for f in found.xstate.features] == [(0, 0, 160), (1, 160, 256), (2, 576, 256)]
    assert found.process_cookie == 0xC0FFEE


def test_declared_size_larger_than_the_stream_is_not_trusted() -> None:
    s = synth.Synth()
    s.stream(synth.MISC_INFO, synth.u32(1364, 0x7, 1, 2, 3, 4))
    found = misc(s)
    assert found.process_id == 1 and found.processor_max_mhz is None


def test_too_short() -> None:
    s = synth.Synth()
    s.stream(synth.MISC_INFO, synth.u32(24, 1))
    with pytest.raises(MinidumpError, match="needs 24 bytes"):
        Minidump.from_bytes(s.build()).get_stream(MiscInfo, strict=True)
