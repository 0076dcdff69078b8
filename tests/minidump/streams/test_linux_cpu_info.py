from __future__ import annotations

from crashcart.minidump import LinuxCpuInfo, Minidump
from tests.minidump import synth

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Core(TM) i7-4960HQ CPU @ 2.60GHz
microcode\t: 0x1c

processor\t: 1
vendor_id\t: GenuineIntel
"""


def test_cpu_info() -> None:
    s = synth.minimal()
    s.text_stream(synth.LINUX_CPU_INFO, CPUINFO)
    found = Minidump.from_bytes(s.build()).get_stream(LinuxCpuInfo)
    assert found is not None and len(found.processors) == 2
    assert found.model_name == "Intel(R) Core(TM) i7-4960HQ CPU @ 2.60GHz"
    assert found.microcode_version == 0x1C
    assert found.processors[1]["processor"] == "1"


def test_cpu_info_without_microcode() -> None:
    s = synth.minimal()
    s.text_stream(synth.LINUX_CPU_INFO, "processor : 0\nmicrocode : n/a\n")
    found = Minidump.from_bytes(s.build()).get_stream(LinuxCpuInfo)
    assert found is not None and found.microcode_version is None and found.model_name is None
