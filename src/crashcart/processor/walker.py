"""The processor's stack walker: one minidump in, rust-minidump's ``--json`` document (``json_dump``) out.

Socorro runs ``minidump-stackwalk`` as a subprocess per dump, so every crash starts with cold symbol caches.
Crashcart's walker is Python and runs inside the processor's supervised worker (``docs/architecture.md``): one
``InProcessWalker`` per worker keeps its ``Stackwalker`` — and the symbol provider's in-memory and on-disk caches
— alive from one crash to the next; the supervisor enforces the hard per-crash time budget.

The contract the processing rule relies on (:class:`Walker`) is a plain callable
``(dump_path, raw_crash) -> dict``. A dump that cannot be read is not an error: the document says so in its
``status`` (``ERROR_<CODE>``, ``<CODE>`` being a :mod:`crashcart.minidump.errors` code) and its
``stackwalker`` object, as rust-minidump's does for a dump it cannot parse.

:func:`walker_config` is the deployment's walker as values from settings; the processor's composition root and
``crashcart stackwalk`` both build theirs with it (the command then replaces the symbol sources with its own).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from crashcart.s3client import S3ClientConfig
from crashcart.settings import Settings
from crashcart.stackwalk import WALKER_VERSION, WalkOptions
from crashcart.stackwalk.stackwalker import DumpUnreadable, Stackwalker, WalkerConfig

LOGGER = logging.getLogger(__name__)


class Walker(Protocol):
    """Walks one dump file and returns its rust-minidump JSON document; never raises for a bad dump."""

    def __call__(self, dump_path: Path, raw_crash: Mapping[str, Any]) -> dict[str, Any]: ...


def walker_config(settings: Settings) -> WalkerConfig:
    """The walker a deployment configures: ``CRASHCART_SYMBOLS_*`` sources and cache, ``CRASHCART_STACKWALK_*``
    limits."""
    assert settings.symbols_cache_dir is not None  # filled from data_dir by Settings
    return WalkerConfig(
        symbol_urls=(settings.symbols_urls,),
        symbols_cache_dir=settings.symbols_cache_dir,
        symbols_cache_max_size=settings.symbols_cache_max_size,
        symbols_missing_ttl=settings.symbols_missing_ttl,
        symbols_max_negative_entries=settings.symbols_max_negative_entries,
        symbols_http_timeout=settings.symbols_http_timeout,
        symbols_s3=S3ClientConfig.for_symbols(settings),
        options=WalkOptions(
            max_frames=settings.stackwalk_max_frames,
            max_total_frames=settings.stackwalk_max_total_frames,
            max_seconds=settings.stackwalk_max_seconds,
            max_output_size=settings.stackwalk_max_output_size,
        ),
    )


def failure_document(code: str, version: str = WALKER_VERSION) -> dict[str, Any]:
    """The document for a dump that could not be walked at all: ``status`` ``ERROR_<CODE>``, no threads."""
    return {
        "status": f"ERROR_{code.upper()}",
        "stackwalker": {"version": version, "status": "failed", "notes": [code]},
    }


class InProcessWalker:
    """The production :class:`Walker`: ``Stackwalker.walk_json`` in this process, a failure document for a dump
    it cannot read.

    The ``Stackwalker`` is built once by the worker's composition root and reused for every crash (its caches
    stay warm); ``close()`` releases it when the worker stops. The raw crash supplies what rust-minidump reads
    from ``--raw-json`` (module certificate subjects from ``ModuleSignatureInfo``).
    """

    def __init__(self, stackwalker: Stackwalker) -> None:
        self.stackwalker = stackwalker

    @property
    def version(self) -> str:
        return self.stackwalker.version

    def __call__(self, dump_path: Path, raw_crash: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self.stackwalker.walk_json(dump_path, raw_crash)
        except DumpUnreadable as exc:
            if exc.reason == "io_error":
                LOGGER.warning("minidump %s cannot be read: %s", dump_path.name, exc)
            else:
                LOGGER.info("minidump %s unreadable: %s", dump_path.name, exc.reason)
            return failure_document(exc.reason)

    def close(self) -> None:
        """Release the symbol provider (the worker is stopping)."""
        self.stackwalker.close()
