from __future__ import annotations

import pytest

from crashcart.minidump import Minidump, MinidumpError, SystemInfo
from tests.minidump import synth


def info(s: synth.Synth) -> SystemInfo:
    found = Minidump.from_bytes(s.build()).get_stream(SystemInfo)
    assert found is not None
    return found


def test_windows_x86_as_breakpad_prints_it() -> None:
    s = synth.Synth()
    s.system_info(
        arch=synth.ARCH_X86,
        platform=synth.OS_WINDOWS,
        level=6,
        revision=0x0D08,
        cpus=1,
        version=(5, 1, 2600),
        csd="Service Pack 2",
    )
    found = info(s)
    assert (found.os, found.os_version, found.cpu) == ("Windows NT", "5.1.2600 Service Pack 2", "x86")
    assert found.cpu_info == "GenuineIntel family 6 model 13 stepping 8"
    assert found.cpu_vendor == "GenuineIntel" and found.number_of_processors == 1 and found.pointer_size == 4


def test_empty_csd_keeps_the_trailing_space_and_amd64_has_no_vendor() -> None:
    s = synth.Synth()
    s.system_info(
        arch=synth.ARCH_AMD64, platform=synth.OS_WINDOWS, level=6, revision=0x3F02, version=(6, 1, 7600), csd=""
    )
    found = info(s)
    assert found.os_version == "6.1.7600 " and found.cpu_info == "family 6 model 63 stepping 2"
    assert found.cpu_vendor is None and found.pointer_size == 8


def test_no_csd_string() -> None:
    s = synth.Synth()
    s.system_info(csd=None, version=(0, 0, 0))
    assert info(s).os_version == "0.0.0" and info(s).csd_version is None


def test_arm_cpu_description() -> None:
    s = synth.Synth()
    hwcaps = (1 << 0) | (1 << 1) | (1 << 12)
    s.system_info(
        arch=synth.ARCH_ARM, platform=synth.OS_ANDROID, level=7, revision=0, cpu_info=synth.u32(0x413FC090, hwcaps)
    )
    found = info(s)
    assert (found.os, found.cpu) == ("Android", "arm")
    assert found.cpu_info == "ARMv7 ARM Cortex-A9 features: swp,half,neon"
    s = synth.Synth()
    s.system_info(arch=synth.ARCH_ARM, level=8, cpu_info=synth.u32(0x77001230, 0))
    assert info(s).cpu_info == "ARMv8 vendor(0x77) part(0x77001230)"


def test_unknown_values_print_as_hex() -> None:
    s = synth.Synth()
    s.system_info(arch=0x1234, platform=0x9999)
    found = info(s)
    assert (found.os, found.cpu, found.cpu_info) == ("0x00009999", "0x1234", "")
    s = synth.Synth()
    s.system_info(arch=synth.ARCH_ARM64_OLD, platform=synth.OS_IOS)
    assert (info(s).cpu, info(s).os) == ("arm64", "iOS")


def test_short_stream() -> None:
    s = synth.Synth()
    s.stream(synth.SYSTEM_INFO, bytes(40))
    with pytest.raises(MinidumpError, match="needs 56 bytes"):
        Minidump.from_bytes(s.build()).get_stream(SystemInfo, strict=True)
