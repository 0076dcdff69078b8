"""The processor's stack walker: one minidump in, rust-minidump's ``--json`` document (``json_dump``) out.

Socorro runs ``minidump-stackwalk`` as a subprocess per dump, so every crash starts with cold symbol caches.
Crashcart's walker is Python and runs inside the processor's supervised worker (STYLE.md §8): one
``InProcessWalker`` per worker keeps its ``SymbolProvider`` — and the provider's in-memory and on-disk caches —
alive from one crash to the next; the supervisor enforces the hard per-crash time budget.

The contract the processing rule relies on (:class:`Walker`) is a plain callable
``(dump_path, raw_crash) -> dict``. A dump that cannot be read is not an error: the document says so in its
``status`` (``ERROR_<CODE>``, ``<CODE>`` being a :mod:`crashcart.minidump.errors` code) and its
``stackwalker`` object, as rust-minidump's does for a dump it cannot parse.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from crashcart.minidump import Minidump, MinidumpError
from crashcart.stackwalk import WALKER_VERSION, WalkOptions, walk
from crashcart.stackwalk.command import apply_raw_crash
from crashcart.stackwalk.output_json import build_json
from crashcart.stackwalk.symbol_lookup import ProviderLookup, RecordingLookup
from crashcart.symbols import SymbolProvider

LOGGER = logging.getLogger(__name__)


class Walker(Protocol):
    """Walks one dump file and returns its rust-minidump JSON document; never raises for a bad dump."""

    def __call__(self, dump_path: Path, raw_crash: Mapping[str, Any]) -> dict[str, Any]: ...


def failure_document(code: str, version: str = WALKER_VERSION) -> dict[str, Any]:
    """The document for a dump that could not be walked at all: ``status`` ``ERROR_<CODE>``, no threads."""
    return {
        "status": f"ERROR_{code.upper()}",
        "stackwalker": {"version": version, "status": "failed", "notes": [code]},
    }


class InProcessWalker:
    """The production :class:`Walker`: ``Minidump.from_path`` → ``walk`` → ``build_json`` in this process.

    ``symbol_provider`` is built once by the worker's composition root and reused for every crash (its caches
    stay warm); ``close()`` releases it when the worker stops. The raw crash supplies what rust-minidump reads
    from ``--raw-json`` (module certificate subjects from ``ModuleSignatureInfo``).
    """

    def __init__(self, symbol_provider: SymbolProvider, options: WalkOptions | None = None) -> None:
        self.supplier = ProviderLookup(symbol_provider)
        self.options = options if options is not None else WalkOptions()

    @property
    def version(self) -> str:
        return WALKER_VERSION

    def __call__(self, dump_path: Path, raw_crash: Mapping[str, Any]) -> dict[str, Any]:
        try:
            dump = Minidump.from_path(dump_path)
        except MinidumpError as exc:
            LOGGER.info("minidump %s unreadable: %s", dump_path.name, exc.code)
            return failure_document(exc.code)
        except OSError as exc:
            LOGGER.warning("minidump %s cannot be opened: %s", dump_path.name, exc.strerror or exc)
            return failure_document("io_error")
        recording = RecordingLookup(self.supplier)
        with dump:
            try:
                result = walk(dump, recording, self.options)
                doc = build_json(dump, result, self.supplier.symbolize, self.supplier.status, recording.asked)
            except MinidumpError as exc:
                # A stream the walk needed turned out corrupt after the header parsed.
                LOGGER.info("minidump %s failed while walking: %s", dump_path.name, exc.code)
                return failure_document(exc.code)
        apply_raw_crash(doc, dict(raw_crash))
        return doc

    def close(self) -> None:
        """Release the symbol provider (the worker is stopping)."""
        self.supplier.provider.close()
