"""Symbols: finding symbol files (``SymbolSource``: ``fs``, ``http``, ``s3``, ``chain``) apart from using them
(``SymbolCache`` converts each ``.sym`` or native debug file once; ``SymbolProvider`` answers the stack walker).

Build one per process with ``build_symbol_provider(urls, cache_dir, …)``, from plain values the composition root
reads from settings (the stack walker's ``crashcart.stackwalk.Stackwalker`` does it for the processor and the
CLI).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from crashcart.s3client import S3ClientConfig
from crashcart.symbols.cache import SymbolCache
from crashcart.symbols.cache_layout import MAX_NEGATIVE_ENTRIES
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


GiB = 1024 * 1024 * 1024


def build_symbol_provider(
    urls: str | Sequence[str],
    cache_dir: Path,
    *,
    cache_max_size: int = 4 * GiB,
    missing_ttl: float = 3600.0,
    max_negative_entries: int = MAX_NEGATIVE_ENTRIES,
    http_timeout: float = 30.0,
    s3: S3ClientConfig | None = None,
) -> SymbolProvider:
    """The provider for a process: sources for ``urls`` (tried in order) over the on-disk cache at ``cache_dir``
    (shared by the node's processes), with the size cap, missing-file TTL and negative-entry bound given."""
    cache = SymbolCache(
        cache_dir, max_size=cache_max_size, missing_ttl=missing_ttl, max_negative_entries=max_negative_entries
    )
    source = build_symbol_source(urls, http_timeout=http_timeout, s3=s3)
    return SymbolProvider(source, cache, missing_ttl=missing_ttl)
