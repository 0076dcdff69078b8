"""Any registers and any stack bytes give a bounded walk with increasing stack pointers, never an exception."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from crashcart.minidump import MemoryRegion, ModuleList
from crashcart.stackwalk import NoSymbols, WalkOptions, walk_stack
from crashcart.stackwalk.unwind import UnwindEnv, unwinder_for
from tests.stackwalk.helpers import module
from tests.stackwalk.simple_symbols import SimpleSymbols

BASE = 0x10000
MODULES = ModuleList.from_modules((module("a", 0x20000, 0x1000), module("b", 0x30000, 0x1000)))
SYMBOLS = SimpleSymbols()
SYMBOLS.add(
    "a",
    "0123456789ABCDEF0123456789ABCDEF0",
    "FUNC 0 800 0 f\nSTACK CFI INIT 0 1000 .cfa: $rsp 8 + .ra: .cfa -8 + ^ $rbp: .cfa 16 - ^\n"
    "STACK CFI 10 .cfa: sp 16 + .ra: .cfa -8 + ^ x29: .cfa -16 + ^\n"
    "STACK CFI 20 .cfa: $esp 4 + .ra: .cfa 4 - ^ $ebp: $ebp\n",
)
ADDRESSES = st.one_of(
    st.integers(0, 2**64 - 1),
    st.integers(BASE, BASE + 0x400),
    st.integers(0x20000, 0x20FFF),
    st.integers(0x30000, 0x30FFF),
)


@settings(max_examples=150, deadline=None)
@given(
    cpu=st.sampled_from(["amd64", "x86", "arm64", "arm"]),
    os=st.sampled_from(["Linux", "Windows NT", "iOS"]),
    words=st.lists(ADDRESSES, max_size=128),
    registers=st.dictionaries(
        st.sampled_from(["rip", "rsp", "rbp", "eip", "esp", "ebp", "pc", "sp", "fp", "lr", "r7", "x19"]), ADDRESSES
    ),
    with_symbols=st.booleans(),
)
def test_any_stack(cpu: str, os: str, words: list[int], registers: dict[str, int], *, with_symbols: bool) -> None:
    unwinder = unwinder_for(cpu)
    assert unwinder is not None
    size = unwinder.POINTER_SIZE
    data = b"".join((w & ((1 << (8 * size)) - 1)).to_bytes(size, "little") for w in words)
    env = UnwindEnv(MemoryRegion(BASE, data), MODULES, SYMBOLS if with_symbols else NoSymbols(), os, size, 40, 0x3FFFF)
    regs = {k: v & ((1 << (8 * size)) - 1) for k, v in registers.items()}
    frames, _ = walk_stack(unwinder, regs, env, WalkOptions(max_frames=200), deadline=float("inf"))
    assert len(frames) <= 200
    sps = [f.registers[unwinder.SP] for f in frames]
    # sp may stay put only on the first unwind, and never goes down.
    assert all(b > a for a, b in pairwise(sps[1:]))
    assert all(b >= a for a, b in pairwise(sps))
