"""``SymbolProvider``: what the stack walker asks about a module (symbols for an address, unwind rules).

It finds files through a ``SymbolSource``, has the ``SymbolCache`` convert them once, and keeps the most
recently used modules loaded in the process (a worker walks many dumps, and the same modules recur).
Addresses are module-relative (``instruction - module.base``).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crashcart.errors import CrashcartError
from crashcart.symbols._symbolic import SymCacheFile
from crashcart.symbols.cache import CachedModule, SymbolCache
from crashcart.symbols.cfi import CfiIndex, CfiRange, WinFrameInfo
from crashcart.symbols.interfaces import (
    ModuleRef,
    SymbolData,
    SymbolMalformed,
    SymbolNotFound,
    SymbolSource,
    SymbolSourceUnavailable,
)
from crashcart.symbols.paths import companion_paths

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class InlineFrame:
    """A function inlined at the looked-up address; ``file``/``line`` are where its code is at that address."""

    function: str
    file: str | None
    line: int | None


@dataclass(frozen=True)
class SymbolInfo:
    """An address symbolized, Breakpad-style.

    ``function``/``function_offset`` name the real (outermost) function, from a ``FUNC`` record or, failing
    that, the nearest ``PUBLIC`` symbol (then ``file``/``line`` are ``None``). With inlining, ``file``/``line``
    are the call site in the real function of the outermost inlined call, and ``inlines`` lists the inlined
    functions innermost first (rust-minidump's order), each with its own location. A line record's line 0
    (compiler-generated code) is kept as 0, as Breakpad prints it.
    """

    function: str
    function_address: int
    function_offset: int
    file: str | None
    line: int | None
    inlines: tuple[InlineFrame, ...] = ()
    line_address: int | None = None


class SymbolProvider:
    """Symbols and unwind rules per module, loaded on first use and kept in an LRU of ``max_loaded`` modules.

    Failures are remembered in the process too: a missing file for ``missing_ttl`` seconds, a malformed one
    until restart, an unavailable source for ``unavailable_retry`` seconds (so one dump does not ask a down
    server once per frame). The reason is in ``status(module)``. At most the cache's ``max_negative_entries``
    failures are remembered (the oldest are forgotten first), whatever the dumps name.
    """

    def __init__(
        self,
        source: SymbolSource,
        cache: SymbolCache,
        *,
        max_loaded: int = 64,
        missing_ttl: float = 3600.0,
        unavailable_retry: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.cache = cache
        self.max_loaded = max_loaded
        self.missing_ttl = missing_ttl
        self.unavailable_retry = unavailable_retry
        self._clock = clock
        self._loaded: OrderedDict[tuple[str, str], CachedModule] = OrderedDict()
        self._failed: OrderedDict[tuple[str, str], tuple[CrashcartError, float]] = OrderedDict()
        self._local = source.is_local

    def close(self) -> None:
        self._loaded.clear()
        self.source.close()

    @staticmethod
    def _key(module: ModuleRef) -> tuple[str, str]:
        return (module.debug_file or module.code_file or "", module.debug_id or module.code_id or "")

    def _remember_failure(self, key: tuple[str, str], exc: CrashcartError, until: float) -> None:
        self._failed[key] = (exc, until)
        while len(self._failed) > self.cache.negative.max_entries:
            self._failed.popitem(last=False)

    def module_symbols(self, module: ModuleRef) -> CachedModule | None:
        """The module's loaded symbols, or ``None`` when there are none (see ``status``)."""
        key = self._key(module)
        loaded = self._loaded.get(key)
        if loaded is not None:
            self._loaded.move_to_end(key)
            return loaded
        failed = self._failed.get(key)
        if failed is not None:
            if self._clock() < failed[1]:
                return None
            del self._failed[key]
        debug_file, debug_id = key

        def fetch() -> SymbolData:
            return self.source.locate(
                module.debug_file or module.code_file, module.debug_id, module.code_file or None, module.code_id or None
            )

        def companion(wanted: str, exclude: Path | None) -> SymbolData:
            """The module's other native file (see ``SymbolCache.load``)."""
            code_file, code_id = module.code_file or None, module.code_id or None
            paths = companion_paths(module.debug_file or module.code_file, module.debug_id, code_file, code_id, wanted)
            if not paths:
                raise SymbolNotFound(f"{debug_file}/{debug_id}: no {wanted} file to look for")
            return self.source.locate_paths(paths, f"{debug_file}/{debug_id} ({wanted})", exclude)

        try:
            loaded = self.cache.load(debug_file, debug_id, fetch, local=self._local, companion=companion)
        except SymbolNotFound as exc:
            self._remember_failure(key, exc, self._clock() + self.missing_ttl)
            return None
        except SymbolMalformed as exc:
            LOGGER.warning("symbols for %s/%s unusable: %s", debug_file, debug_id, exc)
            self._remember_failure(key, exc, float("inf"))
            return None
        except SymbolSourceUnavailable as exc:
            LOGGER.warning("symbols for %s/%s not available now: %s", debug_file, debug_id, exc)
            self._remember_failure(key, exc, self._clock() + self.unavailable_retry)
            return None
        self._loaded[key] = loaded
        while len(self._loaded) > self.max_loaded:
            self._loaded.popitem(last=False)
        return loaded

    def status(self, module: ModuleRef) -> str:
        """``"ok"``, ``"not_loaded"``, or the error code of the last failure (``symbol_not_found``, …)."""
        key = self._key(module)
        if key in self._loaded:
            return "ok"
        failed = self._failed.get(key)
        return failed[0].code if failed is not None else "not_loaded"

    def has_symbols(self, module: ModuleRef) -> bool:
        """Whether a symbol file was found and converted (the scan heuristics' "module has symbols")."""
        return self.module_symbols(module) is not None

    def has_cfi(self, module: ModuleRef) -> bool:
        symbols = self.module_symbols(module)
        return symbols is not None and symbols.cfi.has_cfi

    def lookup(self, module: ModuleRef, address: int) -> SymbolInfo | None:
        """Function, offset, file, line and inline frames at ``address``, or ``None`` (no symbols there)."""
        symbols = self.module_symbols(module)
        if symbols is None or address < 0:
            return None
        locations = symbols.symcache.lookup(address)
        if not locations:
            return _tail_public(symbols, address)
        outer = locations[-1]
        start = outer.function_address if outer.function_address is not None else address
        inlines = tuple(
            InlineFrame(loc.function, loc.file, loc.line if loc.file is not None else None) for loc in locations[:-1]
        )
        # The innermost location is the line record's (outer ones are call sites).
        line_address: int | None = None
        if locations[0].file is not None:
            index: SymCacheFile | CfiIndex = symbols.symcache if symbols.native else symbols.cfi
            line_address = index.line_start(address)
        return SymbolInfo(
            function=outer.function,
            function_address=start,
            function_offset=address - start,
            file=outer.file,
            line=outer.line if outer.file is not None else None,
            inlines=inlines,
            line_address=line_address,
        )

    def cfi_rules(self, module: ModuleRef, address: int) -> CfiRange | None:
        """The ``STACK CFI`` INIT rules and deltas covering ``address``, or ``None``."""
        symbols = self.module_symbols(module)
        return None if symbols is None else symbols.cfi.cfi_rules(address)

    def parameter_size(self, module: ModuleRef, function_address: int) -> int:
        """``param_size`` of the FUNC/PUBLIC starting at ``function_address`` (``SymbolInfo.function_address``)."""
        symbols = self.module_symbols(module)
        return 0 if symbols is None else symbols.cfi.parameter_size(function_address)

    def win_records(self, module: ModuleRef, address: int) -> list[WinFrameInfo]:
        """``STACK WIN`` records covering ``address`` (FrameData before FPO); empty without symbols."""
        symbols = self.module_symbols(module)
        return [] if symbols is None else symbols.cfi.win_records(address)


def _tail_public(symbols: CachedModule, address: int) -> SymbolInfo | None:
    """Breakpad's answer past the SymCache's last range: the last ``PUBLIC`` symbol, when it starts above every
    ``FUNC`` (``SymScan.tail_public``), covers every address after it (Breakpad's nearest-``PUBLIC`` lookup has
    no upper bound; the walker asks only about addresses inside the module). Its name is the SymCache's at its
    address (the ``FUNC`` it sits in, if any, which Breakpad's files name alike)."""
    start = symbols.meta.get("tail_public")
    if not isinstance(start, int) or address < start:
        return None
    at_start = symbols.symcache.lookup(start)
    if not at_start:
        return None
    return SymbolInfo(at_start[-1].function, start, address - start, None, None)
