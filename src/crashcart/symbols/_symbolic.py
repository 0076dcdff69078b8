"""The one place that calls ``symbolic`` (Sentry's library): build, open and query SymCaches, and turn native
debug files into a SymCache plus CFI text.

symbolic parses the Breakpad ``.sym`` text and native debug files (ELF/DWARF, Mach-O/dSYM, PE, PDB, via
``Archive.open``) into a SymCache: a compact, mmap-able index of functions, line records, inline frames and
symbols whose lookup follows Breakpad's rules (a FUNC bounds the PUBLIC before it; inlines come innermost
first). For native files, ``Object.make_cficache()`` converts the unwind tables (``.eh_frame``/``.debug_frame``,
compact unwind, ``.pdata``, PDB frame data) into Breakpad ``STACK CFI``/``STACK WIN`` text, which the cache
indexes like a ``.sym`` file's records. symbolic's errors (including Rust panics, ``symbolic.Panic``) become
``SymbolMalformed`` here; its untyped calls get types here.

symbolic's Python API keeps native function names as the object file has them (mangled); ``demangle`` turns
Itanium C++ names (and legacy Rust ones, which use the same scheme) into what Breakpad's ``dump_syms`` prints.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path

try:
    import cpp_demangle
except ImportError:  # no wheel for this platform (see pyproject.toml): names from native files stay mangled
    cpp_demangle = None
from symbolic.cfi import CFICACHE_LATEST_VERSION
from symbolic.debuginfo import Archive, Object, id_from_breakpad
from symbolic.exceptions import CfiError, SymbolicError
from symbolic.symcache import SYMCACHE_LATEST_VERSION, SymCache

from crashcart.symbols.interfaces import SymbolMalformed

__all__ = [
    "CFICACHE_LATEST_VERSION",
    "SYMCACHE_LATEST_VERSION",
    "Location",
    "NativeObject",
    "SymCacheFile",
    "SymbolicError",
    "build_native",
    "build_symcache",
    "demangle",
]

LOGGER = logging.getLogger(__name__)

#: How far back ``SymCacheFile.line_start`` looks for the start of a line's address range (bytes).
MAX_LINE_PROBE = 4096


@dataclass(frozen=True)
class Location:
    """One frame of a SymCache lookup; ``function_address`` is ``None`` for inlined frames."""

    function: str
    function_address: int | None
    file: str | None
    line: int


_NO_ADDRESS = 0xFFFFFFFF  # symbolic's sym_addr for inlined frames (they have no start of their own)

#: Longer mangled names are left as they are (the longest in a libxul are a few KiB).
MAX_MANGLED_LENGTH = 4096
#: A demangled name longer than this is not used (the mangled one is kept): substitutions can make the output
#: much longer than the input.
MAX_DEMANGLED_LENGTH = 16384
#: The hash suffix of a legacy Rust symbol (``core::fmt::write::h0123456789abcdef``), which rustc-demangle's
#: usual output (and Mozilla's ``dump_syms``) leaves out.
_RUST_HASH = re.compile(r"::h[0-9a-f]{16}$")


@functools.lru_cache(maxsize=8192)
def demangle(name: str) -> str:
    """``name`` demangled if it is an Itanium C++ name (``_Z…``, or ``__Z…`` as Mach-O symbol tables spell it),
    else unchanged; so is a name the demangler refuses, or one over the length bounds.

    The demangler is the ``cpp_demangle`` Rust crate (via the ``cpp-demangle`` package), which formats like
    ``c++filt`` and Breakpad (``google_breakpad::MinidumpFileWriter::Open(char const*)``) and bounds its
    recursion, so a hostile symbol file's names give an error here, not a crash or a hang. Legacy Rust names
    (``_ZN…17h<hash>E``) demangle through the same scheme; their hash is dropped. Rust v0 names (``_R…``) are
    left mangled.
    """
    if cpp_demangle is None or len(name) > MAX_MANGLED_LENGTH or not name.startswith(("_Z", "__Z")):
        return name
    mangled = name[1:] if name.startswith("__Z") else name
    try:
        demangled = cpp_demangle.demangle(mangled)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # ValueError for a bad name; a Rust panic would be pyo3's PanicException
        return name
    if not isinstance(demangled, str) or not demangled or len(demangled) > MAX_DEMANGLED_LENGTH:
        return name
    if mangled.startswith("_ZN") and mangled.endswith("E") and "17h" in mangled:
        demangled = _RUST_HASH.sub("", demangled)
    return demangled


def build_symcache(source: Path, out: Path) -> None:
    """Convert the symbol file at ``source`` into a SymCache file at ``out``; ``SymbolMalformed`` if it can't.

    symbolic refuses some files Breakpad reads: ``FILE`` records out of order or repeated (seen in the
    wild from old Mac dump_syms) and the old ``INLINE`` format (``INLINE_ORIGIN <id> <file_id> <name>``). If the
    first attempt fails, a normalized copy (``FILE`` records sorted, first of each id kept, right after the
    header; old-format inline records dropped, so such files lose only their inline frames) is tried.
    """
    try:
        _build(source, out)
    except SymbolicError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        normalized = out.with_name(out.name + ".normalized.sym")
        try:
            _normalize(source, normalized)
            _build(normalized, out)
        except SymbolicError:
            raise SymbolMalformed(f"symbolic cannot read the symbol file: {first}") from exc
        finally:
            normalized.unlink(missing_ok=True)


@dataclass(frozen=True)
class NativeObject:
    """What a native debug file turned out to be, and whether it yielded CFI."""

    file_format: str
    kind: str
    arch: str
    debug_id: str
    code_id: str
    features: tuple[str, ...]
    has_cfi: bool
    cfi_error: str


def build_native(source: Path, debug_id: str, symcache_out: Path, cfi_out: Path) -> NativeObject:
    """Convert the object of the native debug file at ``source`` matching ``debug_id`` (Breakpad form).

    Writes the SymCache to ``symcache_out`` and symbolic's CFI text (Breakpad ``STACK`` records) to ``cfi_out``.
    ``SymbolMalformed`` when symbolic cannot read the file or no object in it has the module's debug id (a fat
    Mach-O holds one object per architecture; a server answering with another build's file must not be
    cached as this module's symbols). A file without unwind information (a split ELF ``.debug`` file, a PDB
    without frame data) gives an empty ``cfi_out`` and ``has_cfi`` False, not an error.
    """
    try:
        archive = Archive.open(str(source))
        objects = list(archive.iter_objects())
    except SymbolicError as exc:
        raise SymbolMalformed(f"symbolic cannot read the debug file: {_first_line(exc)}") from exc
    chosen = _matching_object(objects, debug_id)
    try:
        symcache = chosen.make_symcache()
        with symcache_out.open("wb") as handle:
            symcache.dump_into(handle)  # type: ignore[no-untyped-call]
    except SymbolicError as exc:
        raise SymbolMalformed(f"symbolic cannot build a SymCache from the debug file: {_first_line(exc)}") from exc
    cfi_error = ""
    try:
        cficache = chosen.make_cficache()
        with cfi_out.open("wb") as handle:
            cficache.write_to(handle)
    except (CfiError, SymbolicError) as exc:  # no unwind sections, unsupported architecture, bad tables
        cfi_error = _first_line(exc)
        LOGGER.info("no CFI from %s: %s", source.name, cfi_error)
        cfi_out.write_bytes(b"")
    return NativeObject(
        file_format=chosen.file_format,
        kind=chosen.kind,
        arch=chosen.arch,
        debug_id=chosen.debug_id,
        code_id=chosen.code_id or "",
        features=tuple(sorted(chosen.features)),
        has_cfi=cfi_out.stat().st_size > 0,
        cfi_error=cfi_error,
    )


def _matching_object(objects: list[Object], debug_id: str) -> Object:
    """The object whose debug id is the module's (compared in symbolic's normalized form)."""
    if not objects:
        raise SymbolMalformed("the debug file holds no object")
    try:
        wanted = str(id_from_breakpad(debug_id)).lower()  # type: ignore[no-untyped-call]
    except (SymbolicError, ValueError):
        wanted = debug_id.lower()
    for candidate in objects:
        if str(candidate.debug_id).lower() == wanted:
            return candidate
    found = ", ".join(sorted({str(o.debug_id) for o in objects}))[:300]
    raise SymbolMalformed(f"no object in the debug file has debug id {debug_id} (found {found})")


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _build(source: Path, out: Path) -> None:
    archive = Archive.open(str(source))
    objects = list(archive.iter_objects())
    if len(objects) != 1:
        raise SymbolMalformed(f"expected one object in the symbol file, found {len(objects)}")
    symcache = objects[0].make_symcache()
    with out.open("wb") as handle:
        symcache.dump_into(handle)  # type: ignore[no-untyped-call]


def _normalize(source: Path, target: Path) -> None:
    """Write ``source`` to ``target`` with FILE records sorted and deduplicated, old INLINE records dropped."""
    files: dict[int, bytes] = {}
    old_inlines = False
    with source.open("rb") as handle:
        for line in handle:
            if line.startswith(b"FILE "):
                parts = line.split(b" ", 2)
                if len(parts) == 3 and parts[1].isdigit():
                    files.setdefault(int(parts[1]), line.rstrip(b"\r\n"))
            elif line.startswith(b"INLINE ") and len(line.split()) % 2 == 0:
                old_inlines = True  # old form: INLINE nest call_line origin (addr size)+ → odd field count
    with source.open("rb") as handle, target.open("wb") as out:
        header = handle.readline()
        out.write(header.rstrip(b"\r\n") + b"\n")
        for line in handle:
            if line.startswith(b"INFO "):
                out.write(line.rstrip(b"\r\n") + b"\n")
        out.writelines(files[index] + b"\n" for index in sorted(files))
        handle.seek(0)
        handle.readline()
        for line in handle:
            if line.startswith((b"FILE ", b"INFO ")):
                continue
            if old_inlines and line.startswith((b"INLINE ", b"INLINE_ORIGIN ")):
                continue
            out.write(line.rstrip(b"\r\n") + b"\n")


class SymCacheFile:
    """A SymCache mapped from disk; ``demangle``: function names are demangled at lookup (native files)."""

    def __init__(self, path: Path, *, demangle: bool = False) -> None:
        self._demangle = demangle
        try:
            self._symcache: SymCache = SymCache.open(str(path))  # type: ignore[no-untyped-call]
        except SymbolicError as exc:
            raise SymbolMalformed(f"{path}: {exc}") from exc

    def lookup(self, address: int) -> list[Location]:
        """Frames at ``address``, innermost first (the last one is the real function); empty if none."""
        found = self._symcache.lookup(address)  # type: ignore[no-untyped-call]
        return [
            Location(
                function=demangle(str(loc.symbol)) if self._demangle else str(loc.symbol),
                function_address=None if loc.sym_addr == _NO_ADDRESS else int(loc.sym_addr),
                file=loc.full_path,
                line=int(loc.line or 0),
            )
            for loc in found
        ]

    def line_start(self, address: int, limit: int = MAX_LINE_PROBE) -> int:
        """Where the address range that symbolizes like ``address`` starts (at most ``limit`` bytes back).

        For native debug files, which have no line records of their own: SymCache lookups do not report the
        start of the range they matched, so this walks back one byte at a time while the lookup (every frame:
        function, file, line) stays the same. That range is a DWARF line-table row (split at inline
        boundaries), the nearest thing to a Breakpad line record.
        """
        key = self._signature(address)
        start = address
        while start > 0 and address - start < limit and self._signature(start - 1) == key:
            start -= 1
        return start

    def _signature(self, address: int) -> tuple[tuple[str, int, str | None, int], ...]:
        return tuple(
            (str(loc.symbol), int(loc.sym_addr), loc.full_path, int(loc.line or 0))
            for loc in self._symcache.lookup(address)  # type: ignore[no-untyped-call]
        )
