from __future__ import annotations

import struct
from itertools import count, pairwise

from crashcart.minidump import Minidump
from crashcart.stackwalk import WALKER_VERSION, Trust, WalkOptions, walk
from tests.minidump import synth
from tests.stackwalk.crash_dumps import shared_chain_dump
from tests.stackwalk.helpers import Stack, module, run

APP = module("app", 0x400000, 0x10000)
BASE = 0x7FFE_0000_0000


def _stack_bytes(*words: int) -> bytes:
    return b"".join(struct.pack("<Q", w) for w in words)


def _dump(*, arch: int = synth.ARCH_AMD64, with_exception: bool = True, dump_thread: int | None = None) -> bytes:
    s = synth.Synth()
    s.system_info(arch=arch, platform=synth.OS_LINUX)
    s.module_list([s.module("/usr/bin/app", 0x400000, 0x10000)])
    handler = synth.amd64_context(rip=0x401500, rsp=BASE, rbp=0)
    fault = synth.amd64_context(rip=0x401234, rsp=BASE, rbp=0)
    stack = _stack_bytes(0, 0x402005, 0, 0x403007, 0)
    threads = [
        s.thread(1, context=synth.amd64_context(rip=0x404000, rsp=BASE, rbp=0), stack_start=BASE, stack=stack),
        s.thread(7, context=handler, stack_start=BASE, stack=stack),
    ]
    s.thread_list(threads)
    if with_exception:
        s.exception(thread_id=7, code=11, context=fault)
    if dump_thread is not None:
        s.breakpad_info(dump_thread=dump_thread, requesting_thread=7)
    return s.build()


def test_walk_a_dump() -> None:
    result = walk(Minidump.from_bytes(_dump()))
    assert (result.cpu, result.os, result.status, result.notes, result.version) == (
        "amd64",
        "Linux",
        "ok",
        (),
        WALKER_VERSION,
    )
    assert result.crashing_thread == 1
    crashed = result.crashing_stack
    assert crashed is not None
    # The crashing thread starts from the exception's context, not the handler's.
    assert [(f.module_name, f.module_offset, f.trust) for f in crashed.frames] == [
        ("app", 0x1234, Trust.CONTEXT),
        ("app", 0x2005, Trust.SCAN),
        ("app", 0x3007, Trust.SCAN),
    ]
    assert [t.index for t in result.threads] == [0, 1]
    assert result.threads[0].frames[0].module_offset == 0x4000


def test_dump_writing_thread_is_skipped_and_numbering_follows_breakpad() -> None:
    result = walk(Minidump.from_bytes(_dump(dump_thread=1)))
    assert [(t.index, t.thread_id) for t in result.threads] == [(0, 7)]
    assert result.crashing_thread == 0


def test_crashing_thread_only() -> None:
    result = walk(Minidump.from_bytes(_dump()), None, WalkOptions(crashing_thread_only=True))
    assert [t.thread_id for t in result.threads] == [7]


def test_without_exception_each_thread_uses_its_own_context() -> None:
    result = walk(Minidump.from_bytes(_dump(with_exception=False)))
    assert result.crashing_thread is None
    assert result.threads[1].frames[0].module_offset == 0x1500


def test_no_threads_or_unsupported_cpu() -> None:
    s = synth.Synth()
    s.system_info()
    result = walk(Minidump.from_bytes(s.build()))
    assert (result.status, result.notes, result.threads) == ("failed", ("no_thread_list",), ())
    s = synth.Synth()
    s.system_info(arch=1)  # MIPS
    s.thread_list([])
    result = walk(Minidump.from_bytes(s.build()))
    assert result.status == "failed"
    assert result.notes[0].startswith("unsupported_cpu")


def test_garbage_never_raises() -> None:
    data = bytearray(_dump())
    for i in range(200, len(data), 97):
        data[i] ^= 0xFF
        try:
            dump = Minidump.from_bytes(bytes(data))
        except Exception:
            continue
        walk(dump)


def _recursion(depth: int) -> tuple[Stack, dict[str, int]]:
    stack = Stack(BASE)
    records = [stack.push(0, 0x402000 + i) for i in range(depth)]
    for here, above in pairwise(records):
        stack.words[(here - BASE) // 8] = above
    stack.push(0, 0)
    stack.words[(records[-1] - BASE) // 8] = stack.top - 16
    return stack, {"rip": 0x401000, "rsp": BASE, "rbp": records[0]}


def test_frame_limit() -> None:
    stack, regs = _recursion(50)
    frames, truncated = run("amd64", regs, stack, [APP])
    assert len(frames) == 51
    assert truncated is None
    frames, truncated = run("amd64", regs, stack, [APP], options=WalkOptions(max_frames=10))
    assert (len(frames), truncated) == (10, "frame_limit")


def test_time_budget() -> None:
    stack, regs = _recursion(50)
    ticks = count()
    frames, truncated = run("amd64", regs, stack, [APP], clock=lambda: next(ticks) / 10)
    assert truncated == "time_budget"
    assert 1 <= len(frames) < 51


def test_scanned_frame_limit() -> None:
    stack = Stack(BASE)
    stack.push(*(0x402000 + i for i in range(30)))
    frames, _ = run("amd64", {"rip": 0x401000, "rsp": BASE}, stack, [APP], options=WalkOptions(max_scanned_frames=5))
    assert len(frames) == 6


def test_frame_budget_per_dump_walks_the_crashing_thread_first() -> None:
    """Issue #9 point 5: threads sharing one frame-pointer chain; the per-dump budget cuts the walk, never the
    crashing thread (here the last), and the threads it does not reach are counted in one note."""
    dump = Minidump.from_bytes(shared_chain_dump(threads=30, chain_bytes=4096, crashing=29))
    result = walk(dump, options=WalkOptions(max_frames=100, max_total_frames=250))
    assert [t.index for t in result.threads] == list(range(30))  # minidump order
    frames = [len(t.frames) for t in result.threads]
    assert frames[29] == 100 and result.threads[29].truncated == "frame_limit"
    assert frames[:2] == [100, 50] and result.threads[1].truncated == "frame_budget"
    assert frames[2:29] == [0] * 27
    assert sum(frames) == 250
    assert result.status == "partial"
    assert result.notes[-1] == "frame_budget: 250 frames per dump reached; 27 threads not walked"
    assert len(result.notes) == 4  # threads 29 and 0 at the frame limit, 1 at the budget, the summary


def test_thread_notes_are_bounded() -> None:
    dump = Minidump.from_bytes(shared_chain_dump(threads=60, chain_bytes=1024))
    result = walk(dump, options=WalkOptions(max_frames=2))
    assert len(result.notes) == 21
    assert result.notes[-1] == "40 more threads cut short"


def test_time_budget_is_noted_with_the_threads_it_left() -> None:
    ticks = count()
    dump = Minidump.from_bytes(shared_chain_dump(threads=10, chain_bytes=1024, crashing=5))
    result = walk(dump, options=WalkOptions(max_seconds=1000.0), clock=lambda: float(next(ticks)), deadline=300.0)
    assert len(result.threads[5].frames) == 64  # walked first, whole: 1,024 bytes of 16-byte links
    assert sum(1 for t in result.threads if t.truncated == "time_budget" and not t.frames) >= 1
    assert any(n.startswith("time_budget: ") and n.endswith("threads not walked") for n in result.notes)
