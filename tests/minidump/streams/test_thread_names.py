from __future__ import annotations

from crashcart.minidump import Minidump, ThreadNames
from tests.minidump import synth


def test_names_by_thread_id() -> None:
    s = synth.minimal()
    s.thread_names([(7, s.string("main")), (9, s.string("IO thread")), (10, 0xFFFFFFF0)])
    dump = Minidump.from_bytes(s.build())
    names = dump.get_stream(ThreadNames)
    assert names is not None
    assert names.get(7) == "main" and names.get(9) == "IO thread" and names.get(10) is None
    assert [n.thread_id for n in names.names] == [7, 9]
    assert [n.code for n in dump.notes] == ["out_of_bounds"]
