from __future__ import annotations

from crashcart.minidump import BreakpadInfo, Minidump
from tests.minidump import synth


def test_validity_bits() -> None:
    for validity, expected in [(3, (5, 6)), (1, (5, None)), (2, (None, 6)), (0, (None, None))]:
        s = synth.Synth()
        s.breakpad_info(validity=validity, dump_thread=5, requesting_thread=6)
        found = Minidump.from_bytes(s.build()).get_stream(BreakpadInfo)
        assert found is not None
        assert (found.dump_thread_id, found.requesting_thread_id) == expected
