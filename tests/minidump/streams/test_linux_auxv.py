from __future__ import annotations

import struct

from crashcart.minidump import LinuxAuxv, Minidump
from tests.minidump import synth


def test_auxv_by_pointer_size() -> None:
    s = synth.minimal(arch=synth.ARCH_AMD64)
    s.text_stream(synth.LINUX_AUXV, struct.pack("<6Q", 6, 4096, 33, 0x7FFF0000, 0, 0))
    found = Minidump.from_bytes(s.build()).get_stream(LinuxAuxv)
    assert found is not None and found.pointer_size == 8 and found.entries == ((6, 4096), (33, 0x7FFF0000))
    s = synth.minimal(arch=synth.ARCH_ARM)
    s.text_stream(synth.LINUX_AUXV, struct.pack("<6I", 6, 4096, 16, 0x1F, 0, 0))
    found = Minidump.from_bytes(s.build()).get_stream(LinuxAuxv)
    assert found is not None and found.pointer_size == 4 and found.get(16) == 0x1F and found.get(99) is None


def test_auxv_without_system_info_guesses_from_the_size() -> None:
    s = synth.Synth()
    s.text_stream(synth.LINUX_AUXV, struct.pack("<4I", 6, 4096, 0, 0)[:12])
    found = Minidump.from_bytes(s.build()).get_stream(LinuxAuxv)
    assert found is not None and found.pointer_size == 4 and found.entries == ((6, 4096),)
