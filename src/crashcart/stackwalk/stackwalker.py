"""The one entry point to the stack walker: a minidump file in, rust-minidump's JSON document or Breakpad-style
text out (rust-minidump's ``process_minidump``).

``crashcart stackwalk`` (``stackwalk.command``), the processor's worker (``processor.walker.InProcessWalker``),
the corpus conformance report and the benchmark all walk through :class:`Stackwalker`, so they measure and
ship the same path: open the dump, walk it with the production symbols (``crashcart.symbols``: sources, on-disk
caches, in-process LRU) behind a :class:`~crashcart.stackwalk.symbol_lookup.RecordingLookup`, render.

It is built from plain values (:class:`WalkerConfig`), never from ``Settings``: each composition root (the
processor's ``app``, the CLI) reads its settings and passes values, so this package imports neither settings
nor anything above it. One ``Stackwalker`` lives as long as its process: its symbol caches stay warm from one
dump to the next; ``close()`` releases them.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crashcart.errors import ConfigError, CrashcartError
from crashcart.minidump import Minidump, MinidumpError
from crashcart.s3client import S3ClientConfig
from crashcart.stackwalk.frame import WALKER_VERSION, WalkResult
from crashcart.stackwalk.interfaces import NoSymbols, SymbolLookup
from crashcart.stackwalk.output_json import Symbolizer, SymbolStatus, build_json
from crashcart.stackwalk.output_text import build_text
from crashcart.stackwalk.symbol_lookup import ProviderLookup, RecordingLookup
from crashcart.stackwalk.walker import WalkOptions, walk
from crashcart.symbols import SymbolProvider, build_symbol_provider
from crashcart.symbols.sources import split_urls

LOGGER = logging.getLogger(__name__)

GiB = 1024 * 1024 * 1024


@dataclass(frozen=True)
class WalkerConfig:
    """Everything a :class:`Stackwalker` is built from. No symbol URLs: walk without symbols."""

    #: Symbol sources tried in order: ``file:///dir``, ``https://server/``, ``s3://bucket/prefix``; an item may
    #: hold several, comma- or space-separated (``CRASHCART_SYMBOLS_URLS``' syntax).
    symbol_urls: Sequence[str] = ()
    #: The converted-symbol cache shared by the node's processes (required with ``symbol_urls``).
    symbols_cache_dir: Path | None = None
    symbols_cache_max_size: int = 4 * GiB
    symbols_missing_ttl: float = 3600.0
    symbols_max_negative_entries: int = 50_000
    symbols_http_timeout: float = 30.0
    #: The client of ``s3://`` symbol sources (``S3ClientConfig.for_symbols(settings)``).
    symbols_s3: S3ClientConfig | None = None
    options: WalkOptions = field(default_factory=WalkOptions)


class DumpUnreadable(CrashcartError):
    """The minidump cannot be opened or walked; ``reason`` is the minidump reader's error code (``bad_header``,
    ``truncated``, …) or ``io_error``."""

    code = "minidump_unreadable"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class Stackwalker:
    """Walks minidump files with one set of symbols and options; see the module docstring.

    ``symbols`` replaces the configured symbols with another :class:`SymbolLookup` (tests walking with a
    hand-written one); it is then neither symbolized in the output nor closed here.
    """

    def __init__(self, config: WalkerConfig | None = None, *, symbols: SymbolLookup | None = None) -> None:
        self.config = config if config is not None else WalkerConfig()
        self.provider_lookup: ProviderLookup | None = None
        self.symbols: SymbolLookup
        if symbols is not None:
            self.symbols = symbols
        elif split_urls(self.config.symbol_urls):
            self.provider_lookup = ProviderLookup(_build_provider(self.config))
            self.symbols = self.provider_lookup
        else:
            self.symbols = NoSymbols()

    @property
    def version(self) -> str:
        return WALKER_VERSION

    @property
    def options(self) -> WalkOptions:
        return self.config.options

    def walk(self, dump: Minidump, deadline: float | None = None) -> tuple[WalkResult, Collection[int]]:
        """Walk an open dump: the result, and the indexes of the modules the walk asked symbols about
        (Breakpad's "No symbols" list, the JSON's loaded-symbol flags). ``deadline`` (``time.monotonic``)
        defaults to ``options.max_seconds`` from now."""
        recording = RecordingLookup(self.symbols)
        return walk(dump, recording, self.config.options, deadline=deadline), recording.asked

    def walk_json(self, dump_path: Path, raw_crash: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """rust-minidump's ``--json`` document for the dump; ``raw_crash`` adds what rust-minidump reads from
        ``--raw-json`` (:func:`apply_raw_crash`). Raises :class:`DumpUnreadable`.

        One time budget (``options.max_seconds``) covers the walk and the document's building, and the
        document is bounded by ``options.max_output_size`` (``output_json.build_json``)."""
        options = self.config.options
        deadline = time.monotonic() + options.max_seconds
        prepare = None if raw_crash is None else functools.partial(apply_raw_crash, raw_crash=raw_crash)
        with self._open(dump_path) as dump:
            try:
                result, asked = self.walk(dump, deadline)
                return build_json(
                    dump,
                    result,
                    self._symbolize(),
                    self._status(),
                    asked,
                    max_size=options.max_output_size,
                    deadline=deadline,
                    prepare=prepare,
                )
            except MinidumpError as exc:  # a stream the walk needed is corrupt, though the header parsed
                raise DumpUnreadable(f"minidump {dump_path} failed while walking: {exc}", exc.code) from exc

    def walk_text(self, dump_path: Path) -> str:
        """Breakpad's ``minidump_stackwalk`` text output for the dump, bounded as :meth:`walk_json`'s. Raises
        :class:`DumpUnreadable`."""
        options = self.config.options
        deadline = time.monotonic() + options.max_seconds
        with self._open(dump_path) as dump:
            try:
                result, asked = self.walk(dump, deadline)
                return build_text(
                    dump,
                    result,
                    self._symbolize(),
                    self._status(),
                    asked=asked,
                    max_size=options.max_output_size,
                    deadline=deadline,
                )
            except MinidumpError as exc:
                raise DumpUnreadable(f"minidump {dump_path} failed while walking: {exc}", exc.code) from exc

    def close(self) -> None:
        """Release the symbol provider (its sources' connections and loaded modules)."""
        if self.provider_lookup is not None:
            self.provider_lookup.provider.close()

    def _open(self, dump_path: Path) -> Minidump:
        try:
            return Minidump.from_path(dump_path)
        except MinidumpError as exc:
            raise DumpUnreadable(f"cannot read minidump {dump_path}: {exc}", exc.code) from exc
        except OSError as exc:
            raise DumpUnreadable(f"cannot open minidump {dump_path}: {exc.strerror or exc}", "io_error") from exc

    def _symbolize(self) -> Symbolizer | None:
        return self.provider_lookup.symbolize if self.provider_lookup is not None else None

    def _status(self) -> SymbolStatus | None:
        return self.provider_lookup.status if self.provider_lookup is not None else None


def _build_provider(config: WalkerConfig) -> SymbolProvider:
    if config.symbols_cache_dir is None:
        raise ConfigError("symbol sources need a symbol cache directory")
    return build_symbol_provider(
        config.symbol_urls,
        config.symbols_cache_dir,
        cache_max_size=config.symbols_cache_max_size,
        missing_ttl=config.symbols_missing_ttl,
        max_negative_entries=config.symbols_max_negative_entries,
        http_timeout=config.symbols_http_timeout,
        s3=config.symbols_s3,
    )


def apply_raw_crash(doc: dict[str, Any], raw_crash: Mapping[str, Any]) -> None:
    """What rust-minidump takes from the raw crash (``--raw-json``): module certificate subjects.

    Mozilla's ``ModuleSignatureInfo`` is ``{subject: [module filename, …]}``, as an object or a JSON string.
    """
    info = raw_crash.get("ModuleSignatureInfo")
    if isinstance(info, str):
        try:
            info = json.loads(info)
        except ValueError:
            LOGGER.warning("raw crash ModuleSignatureInfo is not JSON; ignored")
            return
    if not isinstance(info, dict):
        return
    subjects: dict[str, str] = {}
    for subject, names in info.items():
        if isinstance(names, list):
            for name in names:
                if isinstance(name, str):
                    subjects[name.lower()] = str(subject)
    for module in doc.get("modules", []):
        subject = subjects.get(str(module.get("filename", "")).lower())
        if subject is not None:
            module["cert_subject"] = subject
    doc["modules_contains_cert_info"] = True
