from __future__ import annotations

import pytest

from crashcart.minidump import Minidump, MinidumpError, ThreadList
from tests.minidump import synth


def test_threads_with_stacks_and_lazy_contexts() -> None:
    s = synth.minimal(arch=synth.ARCH_AMD64)
    t1 = s.thread(
        11, context=synth.amd64_context(rip=0x1000, rsp=0x7000), stack_start=0x7000, stack=b"\x01" * 64, teb=0x7FFE0000
    )
    t2 = s.thread(12, context=synth.amd64_context(rip=0x2000))
    s.thread_list([t1, t2])
    dump = Minidump.from_bytes(s.build())
    threads = dump.get_stream(ThreadList)
    assert threads is not None and len(threads) == 2
    first, second = threads.threads
    assert (first.index, first.thread_id, first.teb, first.priority_class) == (0, 11, 0x7FFE0000, 0x20)
    assert (first.stack.start, first.stack.data_size, first.stack.end) == (0x7000, 64, 0x7040)
    assert first.context is not None and first.context.instruction_pointer == 0x1000
    assert second.context is not None and second.context.instruction_pointer == 0x2000
    assert threads.by_id(12) is second and threads.index_of(12) == 1 and threads.by_id(99) is None
    assert threads.index_of(99) is None
    assert dump.notes == []


def test_padded_header_is_accepted() -> None:
    s = synth.minimal()
    s.thread_list([s.thread(1, context=synth.amd64_context()), s.thread(2)], pad=True)
    threads = Minidump.from_bytes(s.build()).get_stream(ThreadList)
    assert threads is not None and [t.thread_id for t in threads.threads] == [1, 2]


def test_corrupt_context_loses_only_that_thread() -> None:
    s = synth.minimal()
    good = s.thread(1, context=synth.amd64_context(rip=5))
    bad = s.thread(2, context_location=(1232, 0xFFFFFF00))
    s.thread_list([good, bad])
    dump = Minidump.from_bytes(s.build())
    threads = dump.get_stream(ThreadList)
    assert threads is not None
    assert threads.threads[0].context is not None
    assert threads.threads[1].context is None
    assert [n.code for n in dump.notes] == ["out_of_bounds"]
    assert "thread 1 context" in str(dump.notes[0])


@pytest.mark.parametrize(("count", "code"), [(3, "truncated"), (200_000, "too_many")])
def test_counts_that_do_not_fit(count: int, code: str) -> None:
    s = synth.minimal()
    s.thread_list([s.thread(1)], count=count)
    dump = Minidump.from_bytes(s.build())
    assert dump.get_stream(ThreadList) is None
    with pytest.raises(MinidumpError) as err:
        dump.get_stream(ThreadList, strict=True)
    assert err.value.code == code
