"""What the stack walker needs from symbols, and nothing more: the :class:`SymbolLookup` protocol.

The walker asks four questions about a module at a module-relative address: does it have symbols at all,
which function covers the address, which CFI rules apply there, and which ``STACK WIN`` record. Names, so that
each means one thing (rust-minidump's ``SymbolSupplier``/``SymbolProvider`` split, in Crashcart's words):

* ``crashcart.symbols.SymbolSource`` *finds* symbol files (rust-minidump's ``SymbolSupplier``);
* ``crashcart.symbols.SymbolProvider`` *uses* them: converted caches, lookups and unwind records in the symbol
  layer's own terms, per ``ModuleRef`` (rust-minidump's ``SymbolProvider``);
* :class:`SymbolLookup` (here) is what the *walker* asks, in the walker's terms (a minidump ``Module``,
  :class:`CfiRules` as register → expression, :class:`WindowsFrameInfo`). It is not called a provider because
  one already exists a layer below, and not a supplier because it finds nothing.
  ``crashcart.stackwalk.symbol_lookup.ProviderLookup`` answers it from a ``SymbolProvider`` in production;
  :class:`NoSymbols` answers it for a walk without symbols (Breakpad's ``minidump_stackwalk`` with no symbol
  path); the tests' ``SimpleSymbols`` (``tests/stackwalk/simple_symbols.py``) reads ``.sym`` files directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from crashcart.minidump import Module


@dataclass(frozen=True)
class CfiRules:
    """The STACK CFI rule set in force at one address: register name → postfix expression.

    Keys are ``.cfa``, ``.ra`` and register names as the ``.sym`` file spells them (``$rbp``, ``x29``).
    """

    rules: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, base: Mapping[str, str] | None = None) -> CfiRules:
        """Parse ``REG: EXPR REG: EXPR …`` on top of ``base`` (later rules replace earlier ones)."""
        rules: dict[str, str] = dict(base or {})
        name: str | None = None
        expr: list[str] = []
        for token in text.split():
            if token.endswith(":"):
                if name is not None:
                    rules[name] = " ".join(expr)
                name, expr = token[:-1], []
            else:
                expr.append(token)
        if name is not None:
            rules[name] = " ".join(expr)
        return cls(rules)


@dataclass(frozen=True)
class WindowsFrameInfo:
    """A ``STACK WIN`` record (x86 Windows), or just a function's parameter size (``complete=False``).

    ``kind`` is 4 for FrameData (with ``program``) and 0 for FPO (``allocates_base_pointer``).
    """

    kind: int
    parameter_size: int
    saved_register_size: int = 0
    local_size: int = 0
    program: str = ""
    allocates_base_pointer: bool = False
    #: False when only ``parameter_size`` is known (from a FUNC or PUBLIC line, no STACK WIN covers it).
    complete: bool = True


@runtime_checkable
class SymbolLookup(Protocol):
    """Symbol answers for one module at a module-relative address (``address - module.base_address``)."""

    def has_symbols(self, module: Module) -> bool:
        """Whether a symbol file was found and loaded for ``module``."""
        ...

    def function_at(self, module: Module, rel_addr: int) -> str | None:
        """The FUNC or PUBLIC name covering ``rel_addr``, None if none does (or there are no symbols)."""
        ...

    def cfi_rules(self, module: Module, rel_addr: int) -> CfiRules | None:
        """The CFI rules in force at ``rel_addr``, None if no ``STACK CFI INIT`` range covers it."""
        ...

    def windows_frame_info(self, module: Module, rel_addr: int) -> WindowsFrameInfo | None:
        """Breakpad's ``FindWindowsFrameInfo``: the innermost ``STACK WIN`` record covering ``rel_addr``
        (FrameData before FPO); else the covering FUNC's (or the nearest PUBLIC's) parameter size as an
        incomplete record; else None."""
        ...


class NoSymbols:
    """The lookup that knows nothing: every module is symbol-less, so scans accept any module address."""

    def has_symbols(self, module: Module) -> bool:
        return False

    def function_at(self, module: Module, rel_addr: int) -> str | None:
        return None

    def cfi_rules(self, module: Module, rel_addr: int) -> CfiRules | None:
        return None

    def windows_frame_info(self, module: Module, rel_addr: int) -> WindowsFrameInfo | None:
        return None
