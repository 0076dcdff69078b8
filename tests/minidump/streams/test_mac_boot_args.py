from __future__ import annotations

import struct

from crashcart.minidump import MacBootArgs, Minidump
from tests.minidump import synth


def test_boot_args() -> None:
    s = synth.Synth()
    rva = s.string("-v keepsyms=1")
    s.stream(synth.MAC_BOOTARGS, struct.pack("<IQ", synth.MAC_BOOTARGS, rva))
    found = Minidump.from_bytes(s.build()).get_stream(MacBootArgs)
    assert found is not None and found.boot_args == "-v keepsyms=1"


def test_no_boot_args() -> None:
    s = synth.Synth()
    s.stream(synth.MAC_BOOTARGS, struct.pack("<IQ", synth.MAC_BOOTARGS, 0))
    found = Minidump.from_bytes(s.build()).get_stream(MacBootArgs)
    assert found is not None and found.boot_args is None
