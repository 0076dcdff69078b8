"""The one place that calls ``symbolic`` (Sentry's library): build, open and query SymCaches.

symbolic parses the Breakpad ``.sym`` text (and could parse native debug files the same way) into a SymCache:
a compact, mmap-able index of functions, line records, inline frames and PUBLIC symbols whose lookup follows
Breakpad's rules (a FUNC bounds the PUBLIC before it; inlines come innermost first). Its errors become
``SymbolMalformed`` here; its untyped calls get types here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from symbolic.debuginfo import Archive
from symbolic.exceptions import SymbolicError
from symbolic.symcache import SYMCACHE_LATEST_VERSION, SymCache

from crashcart.symbols.interfaces import SymbolMalformed

__all__ = ["SYMCACHE_LATEST_VERSION", "Location", "SymCacheFile", "SymbolicError", "build_symcache"]


@dataclass(frozen=True)
class Location:
    """One frame of a SymCache lookup; ``function_address`` is ``None`` for inlined frames."""

    function: str
    function_address: int | None
    file: str | None
    line: int


_NO_ADDRESS = 0xFFFFFFFF  # symbolic's sym_addr for inlined frames (they have no start of their own)


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
    """A SymCache mapped from disk."""

    def __init__(self, path: Path) -> None:
        try:
            self._symcache: SymCache = SymCache.open(str(path))  # type: ignore[no-untyped-call]
        except SymbolicError as exc:
            raise SymbolMalformed(f"{path}: {exc}") from exc

    def lookup(self, address: int) -> list[Location]:
        """Frames at ``address``, innermost first (the last one is the real function); empty if none."""
        found = self._symcache.lookup(address)  # type: ignore[no-untyped-call]
        return [
            Location(
                function=str(loc.symbol),
                function_address=None if loc.sym_addr == _NO_ADDRESS else int(loc.sym_addr),
                file=loc.full_path,
                line=int(loc.line or 0),
            )
            for loc in found
        ]
