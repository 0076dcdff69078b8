"""The walker's ``SymbolLookup`` over ``crashcart.symbols.SymbolProvider`` (the production symbols).

The walker asks in its own terms (``CfiRules``, ``WindowsFrameInfo``); the provider answers in the symbol
layer's (``symbols.CfiRange`` with INIT rules and deltas, ``WinFrameInfo`` records). This module translates,
and adds ``symbolize`` for the output layer (function, offset, file, line and inline frames).
"""

from __future__ import annotations

from crashcart.minidump import Module
from crashcart.stackwalk.interfaces import CfiRules, SymbolLookup, WindowsFrameInfo
from crashcart.symbols import SymbolInfo, SymbolProvider


class ProviderLookup:
    """Implements :class:`~crashcart.stackwalk.interfaces.SymbolLookup` with a ``SymbolProvider``.

    Addresses are module-relative. The minidump ``Module`` already carries ``debug_file``, ``debug_id``,
    ``code_file`` and ``code_id``; a module without a code id is given ``""`` (the provider's convention).
    """

    def __init__(self, provider: SymbolProvider) -> None:
        self.provider = provider
        self._refs: dict[int, tuple[Module, _ModuleRef]] = {}

    def _ref(self, module: Module) -> _ModuleRef:
        """One ``_ModuleRef`` per ``Module`` (the walker asks about the same modules thousands of times)."""
        found = self._refs.get(id(module))
        if found is not None and found[0] is module:
            return found[1]
        if len(self._refs) >= _MAX_REFS:
            self._refs.clear()  # a worker walks many dumps; their modules need not stay alive
        ref = _ModuleRef(module)
        self._refs[id(module)] = (module, ref)
        return ref

    def has_symbols(self, module: Module) -> bool:
        return self.provider.has_symbols(self._ref(module))

    def function_at(self, module: Module, rel_addr: int) -> str | None:
        info = self.symbolize(module, rel_addr)
        return None if info is None else info.function

    def symbolize(self, module: Module, rel_addr: int) -> SymbolInfo | None:
        """Function, offset, file, line and inline frames at ``rel_addr``; None without symbols there."""
        if rel_addr < 0:
            return None
        return self.provider.lookup(self._ref(module), rel_addr)

    def status(self, module: Module) -> str:
        """``ok``, ``not_loaded`` or the error code of the last failure (``symbol_not_found``, …)."""
        return self.provider.status(self._ref(module))

    def cfi_rules(self, module: Module, rel_addr: int) -> CfiRules | None:
        rules = self.provider.cfi_rules(self._ref(module), rel_addr)
        return None if rules is None else CfiRules(rules.merged())

    def windows_frame_info(self, module: Module, rel_addr: int) -> WindowsFrameInfo | None:
        ref = self._ref(module)
        records = self.provider.win_records(ref, rel_addr)
        if records:
            record = records[0]  # the provider puts FrameData before FPO, innermost of each type
            program = record.program_string or ""
            return WindowsFrameInfo(
                kind=record.type,
                parameter_size=record.parameter_size,
                saved_register_size=record.saved_register_size,
                local_size=record.local_size,
                program=program,
                allocates_base_pointer=not program and record.allocates_base_pointer,
            )
        info = self.symbolize(module, rel_addr)
        if info is None:
            return None
        size = self.provider.parameter_size(ref, info.function_address)
        return WindowsFrameInfo(kind=-1, parameter_size=size, complete=False)


class _ModuleRef:
    """``Module`` seen as the symbol layer's ``ModuleRef``: basenames (what stores are keyed by), ``code_id``
    never None."""

    __slots__ = ("code_file", "code_id", "debug_file", "debug_id")

    def __init__(self, module: Module) -> None:
        self.debug_file = module.debug_filename
        self.debug_id = module.debug_id
        self.code_file = module.filename
        self.code_id = module.code_id or ""


_MAX_REFS = 4096


class RecordingLookup:
    """Wraps a lookup and records every module the walker asked about (by module-list index).

    Breakpad warns "No symbols" for each module its resolver tried to load during the walk, which includes
    modules that only a scanned candidate address fell in; this set reproduces that list.
    """

    def __init__(self, inner: SymbolLookup) -> None:
        self.inner = inner
        self.asked: set[int] = set()

    def has_symbols(self, module: Module) -> bool:
        self.asked.add(module.index)
        return self.inner.has_symbols(module)

    def function_at(self, module: Module, rel_addr: int) -> str | None:
        self.asked.add(module.index)
        return self.inner.function_at(module, rel_addr)

    def cfi_rules(self, module: Module, rel_addr: int) -> CfiRules | None:
        self.asked.add(module.index)
        return self.inner.cfi_rules(module, rel_addr)

    def windows_frame_info(self, module: Module, rel_addr: int) -> WindowsFrameInfo | None:
        self.asked.add(module.index)
        return self.inner.windows_frame_info(module, rel_addr)
