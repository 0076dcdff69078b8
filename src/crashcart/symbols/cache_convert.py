"""Converting one symbol file into a cache entry's files: a Breakpad ``.sym`` file or a native debug file (ELF/DWARF,
Mach-O, PE, PDB) in, ``symcache`` + ``cfi`` + the ``meta.json`` description out, in a temp directory the cache
then renames into place (``cache.SymbolCache``). A native file that lacks unwind or debug information may be
completed by the module's other file (its *companion*). Anything unusable is ``SymbolMalformed``.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from crashcart.symbols._symbolic import NativeObject, build_native, build_symcache
from crashcart.symbols.cfi import write_cfi_index
from crashcart.symbols.interfaces import SymbolData, SymbolMalformed, SymbolNotFound
from crashcart.symbols.paths import BINARY, DEBUG
from crashcart.symbols.symfile import SymLimits, scan_stack_records, scan_sym_file

LOGGER = logging.getLogger(__name__)

Companion = Callable[[str, Path | None], SymbolData]
"""Fetches a second native file for a module: called with ``paths.BINARY`` (the file found has no unwind
information) or ``paths.DEBUG`` (it has no debug information) and the first file if a local source handed it
over (not to be found again); raises as a source does."""


class Converter:
    """Converts within ``limits`` (file size, line length, record counts: ``symfile.SymLimits``)."""

    def __init__(self, limits: SymLimits | None = None) -> None:
        self.limits = limits or SymLimits()

    def convert(
        self, data: SymbolData, temp: Path, debug_id: str, companion: Companion | None = None
    ) -> dict[str, Any]:
        """Write the entry's files for ``data`` (bytes are written to ``temp`` first and removed after) into
        ``temp``; returns the ``meta.json`` description. Raises ``SymbolMalformed``."""
        source = as_local_file(data, temp)
        del data
        with gc_paused():
            meta = self._build(source, temp, debug_id, companion)
        if source.parent == temp:
            source.unlink()
        return meta

    def _build(self, source: Path, temp: Path, debug_id: str, companion: Companion | None = None) -> dict[str, Any]:
        """Convert ``source`` into ``temp``; a ``.sym`` file starts with ``MODULE``, anything else is handed to
        symbolic as a native debug file."""
        try:
            with source.open("rb") as handle:
                head = handle.read(7)
            size = source.stat().st_size
        except OSError as exc:
            raise SymbolMalformed(f"{source}: {exc}") from exc
        if head == b"MODULE ":
            return self._build_sym(source, temp)
        if size > self.limits.max_file_size:
            raise SymbolMalformed(f"debug file is {size} bytes, over the {self.limits.max_file_size}-byte limit")
        native = build_native(source, debug_id, temp / "symcache", temp / "cfi.txt")
        meta: dict[str, Any] = {
            "kind": "native",
            "file_format": native.file_format,
            "object_kind": native.kind,
            "arch": native.arch,
            "debug_id": native.debug_id,
            "code_id": native.code_id,
            "features": list(native.features),
            "cfi_error": native.cfi_error,
            "companion": None,
        }
        # A debug companion file (dSYM, split .debug, PDB) without unwind tables wants the binary; a binary
        # without debug information wants the debug file.
        if native.kind == "dbg":
            wanted = BINARY if not native.has_cfi else None
        else:
            wanted = DEBUG if "debug" not in native.features else None
        if companion is not None and wanted is not None:
            meta["companion"] = self._build_companion(source, temp, debug_id, native, companion, wanted)
            if meta["companion"] is not None and "cfi" in meta["companion"]["used_for"]:
                meta["cfi_error"] = ""
        records = scan_stack_records(temp / "cfi.txt", self.limits)
        (temp / "cfi.txt").unlink()
        write_cfi_index(records, temp / "cfi")
        return meta

    def _build_companion(
        self, first: Path, temp: Path, debug_id: str, found: NativeObject, companion: Companion, wanted: str
    ) -> dict[str, Any] | None:
        """Fetch and convert the module's other native file (``wanted``: ``BINARY`` or ``DEBUG``); use its CFI
        if ``found`` (the first file) has none, and its SymCache if it has debug information and ``found`` has
        not. Its description, or ``None``.

        One more fetch (a few requests per source, once per conversion; the entry then records what was found).
        A companion that is missing, the same file again, unreadable, too big, another build's or without
        what was wanted is left out (logged): the first file's entry stands. A source that is unavailable
        raises ``SymbolSourceUnavailable`` (nothing is cached, the module is tried again later), as when the
        first file's lookup meets one.
        """
        try:
            data = companion(wanted, None if first.parent == temp else first)
        except (SymbolNotFound, SymbolMalformed) as exc:
            LOGGER.info("no %s file to go with %s: %s", wanted, first.name, exc)
            return None
        other = temp / "companion"
        other.mkdir()
        try:
            source = as_local_file(data, other)
            del data
            if source == first:
                return None
            size = source.stat().st_size
            if size > self.limits.max_file_size:
                LOGGER.warning("the %s file to go with %s is %d bytes, over the limit", wanted, first.name, size)
                return None
            native = build_native(source, debug_id, other / "symcache", other / "cfi.txt")
            roles = []
            if native.has_cfi and not found.has_cfi:
                os.replace(other / "cfi.txt", temp / "cfi.txt")
                roles.append("cfi")
            if "debug" in native.features and "debug" not in found.features:
                os.replace(other / "symcache", temp / "symcache")
                roles.append("symcache")
            if not roles:
                LOGGER.info("the %s file found for %s does not have what it lacks", wanted, first.name)
                return None
        except SymbolMalformed as exc:
            LOGGER.warning("unusable %s file to go with %s: %s", wanted, first.name, exc)
            return None
        finally:
            shutil.rmtree(other, ignore_errors=True)
        return {
            "used_for": roles,
            "file_format": native.file_format,
            "object_kind": native.kind,
            "features": list(native.features),
        }

    def _build_sym(self, source: Path, temp: Path) -> dict[str, Any]:
        scan = scan_sym_file(source, self.limits)
        build_symcache(source, temp / "symcache")
        write_cfi_index(scan.cfi, temp / "cfi")
        return {
            "kind": "breakpad",
            "os": scan.os,
            "arch": scan.arch,
            "debug_id": scan.debug_id,
            "debug_file": scan.debug_file,
            "code_id": scan.code_id,
            "code_file": scan.code_file,
            "bad_records": scan.bad_records,
            "tail_public": scan.tail_public,
        }


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while converting.

    A conversion allocates hundreds of thousands of tuples and lists that live until it ends and hold no
    reference cycles. Each allocation counts towards the collector's thresholds, so with the collector on, a
    conversion triggers full collections that walk every object of the process (~10 ms each after the imports
    of a CLI or worker process); for a small ``.sym`` file that is most of the conversion. Collection resumes
    afterwards (other threads' cycles wait until then).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def as_local_file(data: bytes | Path, directory: Path) -> Path:
    """A fetched symbol file as a local path: downloaded bytes are written to ``directory/download``; a local
    source's file is used where it is."""
    if isinstance(data, bytes):
        source = directory / "download"
        source.write_bytes(data)
        return source
    return data
