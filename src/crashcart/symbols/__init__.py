"""Symbols: finding symbol files (``SymbolSource``: ``fs``, ``http``, ``s3``, ``chain``) apart from using them
(``SymbolCache`` converts each ``.sym`` or native debug file once; ``SymbolProvider`` answers the stack walker).

Build one per process with ``build_symbol_provider(settings)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crashcart.symbols.cache import SymbolCache
from crashcart.symbols.cfi import CfiRange, WinFrameInfo
from crashcart.symbols.interfaces import (
    ModuleRef,
    SymbolData,
    SymbolMalformed,
    SymbolNotFound,
    SymbolSource,
    SymbolSourceUnavailable,
)
from crashcart.symbols.paths import code_id_sym_path, native_paths, sym_path
from crashcart.symbols.provider import InlineFrame, SymbolInfo, SymbolProvider
from crashcart.symbols.sources import build_symbol_source

if TYPE_CHECKING:
    from crashcart.settings import Settings

__all__ = [
    "CfiRange",
    "InlineFrame",
    "ModuleRef",
    "SymbolCache",
    "SymbolData",
    "SymbolInfo",
    "SymbolMalformed",
    "SymbolNotFound",
    "SymbolProvider",
    "SymbolSource",
    "SymbolSourceUnavailable",
    "WinFrameInfo",
    "build_symbol_provider",
    "build_symbol_source",
    "code_id_sym_path",
    "native_paths",
    "sym_path",
]


def build_symbol_provider(settings: Settings, urls: str | None = None) -> SymbolProvider:
    """The provider for a process: sources from ``symbols_urls`` (or ``urls``), the shared on-disk cache."""
    cache_dir = settings.symbols_cache_dir or settings.data_dir / "symbols"
    cache = SymbolCache(cache_dir, max_size=settings.symbols_cache_max_size, missing_ttl=settings.symbols_missing_ttl)
    return SymbolProvider(build_symbol_source(settings, urls), cache, missing_ttl=settings.symbols_missing_ttl)
