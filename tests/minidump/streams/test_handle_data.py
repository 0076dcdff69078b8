from __future__ import annotations

import pytest

from crashcart.minidump import HandleData, Minidump
from tests.minidump import synth


@pytest.mark.parametrize("v2", [True, False])
def test_handles(v2: bool) -> None:
    s = synth.Synth()
    s.handle_data([(4, "File", "\\Device\\HarddiskVolume3\\x"), (8, "Event", None)], v2=v2)
    found = Minidump.from_bytes(s.build()).get_stream(HandleData)
    assert found is not None and len(found) == 2
    first, second = found.handles
    assert (first.handle, first.type_name, first.object_name) == (4, "File", "\\Device\\HarddiskVolume3\\x")
    assert (second.type_name, second.object_name, second.granted_access, second.handle_count) == (
        "Event",
        None,
        0x1F0003,
        1,
    )


def test_unreadable_names_are_none_with_a_note() -> None:
    s = synth.Synth()
    s.stream(synth.HANDLE_DATA, synth.u32(16, 32, 1, 0) + synth.u64(4) + synth.u32(0xFFFFFF00, 0, 0, 0, 0, 0))
    dump = Minidump.from_bytes(s.build())
    found = dump.get_stream(HandleData)
    assert found is not None and found.handles[0].type_name is None
    assert [n.code for n in dump.notes] == ["out_of_bounds"]
