"""What every CPU unwinder shares: the walking environment, stack scanning and the CFI step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from crashcart.minidump import MemoryRegion, Module
from crashcart.stackwalk.cfi import caller_registers
from crashcart.stackwalk.frame import Frame, Trust
from crashcart.stackwalk.interfaces import SymbolLookup


class ModuleLookup(Protocol):
    def module_at(self, address: int) -> Module | None: ...


@dataclass(frozen=True)
class Caller:
    """A caller frame as an unwinder computed it, before the driver checks and symbolizes it."""

    trust: Trust
    registers: dict[str, int]


@dataclass
class UnwindEnv:
    """Everything an unwinder may look at for one thread. Memory is the thread's stack only (as Breakpad)."""

    stack: MemoryRegion | None
    modules: ModuleLookup
    symbols: SymbolLookup
    os: str
    pointer_size: int
    scan_words: int = 40
    #: arm64 pointer-authentication mask (all ones up to the highest module address bit); 0 = no stripping.
    address_mask: int = 0

    def read_word(self, address: int) -> int | None:
        # ``MemoryRegion.read`` inlined: stack scans read tens of thousands of words per dump.
        stack = self.stack
        if stack is None or address < 0:
            return None
        offset = address - stack.base
        end = offset + self.pointer_size
        if offset < 0 or end > len(stack.data):
            return None
        return int.from_bytes(stack.data[offset:end], "little")

    def module_at(self, address: int) -> Module | None:
        return self.modules.module_at(address)

    def address_seems_valid(self, address: int) -> bool:
        """Breakpad's ``InstructionAddressSeemsValid``: inside a module, and inside a function if it has symbols."""
        module = self.module_at(address)
        if module is None:
            return False
        if not self.symbols.has_symbols(module):
            return True
        return self.symbols.function_at(module, address - module.base_address) is not None

    def scan(self, start: int, *, context_frame: bool, words: int | None = None) -> tuple[int, int] | None:
        """First ``(slot address, value)`` from ``start`` up that looks like a return address.

        Breakpad's ``ScanForReturnAddress``: ``scan_words`` words (×4 above the context frame) or ``words``,
        both ends inclusive, stopping at the first unreadable slot. A value is accepted when ``value - 1``
        (inside the call instruction) seems a valid instruction address, so a module base is never taken.
        """
        if words is None:
            words = self.scan_words * 4 if context_frame else self.scan_words
        for i in range(words + 1):
            slot = start + i * self.pointer_size
            value = self.read_word(slot)
            if value is None:
                return None
            if value and self.address_seems_valid(value - 1):
                return slot, value
        return None

    def strip_pointer_auth(self, value: int) -> int:
        """Breakpad's ``PtrauthStrip``: mask off PAC bits if what remains points into a module."""
        if not self.address_mask:
            return value
        stripped = value & self.address_mask
        return stripped if stripped != value and self.module_at(stripped) is not None else value


def cfi_caller(
    env: UnwindEnv,
    callee: Frame,
    *,
    prefix: str,
    callee_saved: Sequence[str],
    aliases: Mapping[str, str] | None = None,
) -> dict[str, int] | None:
    """The caller's registers by CFI (with ``.cfa``/``.ra``), callee-saved registers carried over, or None.

    ``aliases`` maps the names ``.sym`` rules use to the context's names (arm64 ``x29`` → ``fp``).
    """
    module = callee.module
    if module is None:
        return None
    rules = env.symbols.cfi_rules(module, callee.instruction - module.base_address)
    if rules is None:
        return None
    aliases = aliases or {}
    known = dict(callee.registers)
    for sym_name, ctx_name in aliases.items():
        if ctx_name in known:
            known[sym_name] = known[ctx_name]
    computed = caller_registers(rules, known, env.read_word, env.pointer_size, prefix=prefix)
    if computed is None:
        return None
    caller = {name: callee.registers[name] for name in callee_saved if name in callee.registers}
    for name, value in computed.items():
        caller[aliases.get(name, name)] = value
    return caller
