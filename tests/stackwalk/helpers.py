"""Small synthetic stacks for unwinder tests: modules, stack memory, and a walk over them."""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable

from crashcart.minidump import Location, MemoryRegion, Module, ModuleList, VersionInfo
from crashcart.stackwalk import NoSymbols, SymbolLookup, WalkOptions, walk_stack
from crashcart.stackwalk.frame import Frame
from crashcart.stackwalk.unwind import UnwindEnv, unwinder_for


def module(name: str, base: int, size: int, debug_id: str = "0123456789ABCDEF0123456789ABCDEF0") -> Module:
    return Module(
        index=0,
        base_address=base,
        size=size,
        checksum=0,
        time_date_stamp=0,
        name=f"/lib/{name}",
        version_info=VersionInfo(*([0] * 13)),
        codeview=None,
        cv_record=Location(0, 0),
        misc_record=Location(0, 0),
        debug_file=name,
        debug_id=debug_id,
        code_id=None,
    )


class Stack:
    """Stack memory built word by word from ``base`` upwards."""

    def __init__(self, base: int, pointer_size: int = 8) -> None:
        self.base = base
        self.pointer_size = pointer_size
        self.words: list[int] = []

    def push(self, *values: int) -> int:
        """Append words; returns the address of the first one."""
        address = self.base + len(self.words) * self.pointer_size
        self.words.extend(values)
        return address

    @property
    def top(self) -> int:
        return self.base + len(self.words) * self.pointer_size

    def region(self) -> MemoryRegion:
        code = "<Q" if self.pointer_size == 8 else "<I"
        return MemoryRegion(self.base, b"".join(struct.pack(code, w) for w in self.words))


def run(
    cpu: str,
    registers: dict[str, int],
    stack: Stack,
    modules: list[Module],
    *,
    symbols: SymbolLookup | None = None,
    os: str = "Linux",
    options: WalkOptions | None = None,
    address_mask: int = 0,
    clock: Callable[[], float] = lambda: 0.0,
) -> tuple[tuple[Frame, ...], str | None]:
    unwinder = unwinder_for(cpu)
    assert unwinder is not None
    options = options or WalkOptions()
    env = UnwindEnv(
        stack.region(),
        ModuleList.from_modules(tuple(dataclasses.replace(m, index=i) for i, m in enumerate(modules))),
        symbols or NoSymbols(),
        os,
        unwinder.POINTER_SIZE,
        options.scan_words,
        address_mask,
    )
    return walk_stack(unwinder, registers, env, options, deadline=1.0, clock=clock)


def summary(frames: tuple[Frame, ...]) -> list[tuple[str | None, int | None, str]]:
    return [(f.module_name, f.module_offset, str(f.trust)) for f in frames]
