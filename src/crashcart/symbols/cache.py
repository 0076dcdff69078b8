"""The on-disk symbol cache: each symbol file (Breakpad ``.sym`` or native debug file) converted once into
fast-to-load forms, shared by processes.

Layout under the cache root (``CRASHCART_SYMBOLS_CACHE_DIR``)::

    v<CACHE_FORMAT_VERSION>.<CFI_FORMAT_VERSION>-sc<SymCache version>-cf<CfiCache version>/
        <debug_file>/<DEBUG_ID>/          one entry, created by renaming a finished temp directory
            symcache                      symbolic SymCache: functions, lines, inlines, PUBLIC symbols
            cfi                           ``cfi.CfiIndex`` file: STACK CFI / STACK WIN by address, line starts
            meta.json                     identity (MODULE / INFO CODE_ID, or the native object's), ``kind``
                                          (``breakpad`` or ``native``), the native ``companion`` file (if
                                          any); its mtime is the entry's last use
        <debug_file>/<DEBUG_ID>.missing   no source had the file (valid for ``missing_ttl`` from the time in it)
        <debug_file>/<DEBUG_ID>.malformed the file could not be converted (for ``malformed_ttl``)
        <debug_file>/<DEBUG_ID>.lock      ``flock``-ed while one process converts; others wait, then reuse
    .usage                                when the last eviction walk ran and the bytes it found (a process's
                                          first estimate, instead of a walk of its own)

The format version is part of the path, so a new release never reads an old layout; old directories are never
touched again and ``evict`` removes them first. After a conversion the cache evicts least recently used
entries down to ``max_size`` (walking the tree only when its running estimate is over the cap or stale);
a janitor may call ``evict`` on its own schedule. Entries are written to a temp directory and renamed into
place, so readers see whole entries or nothing, and may vanish at any time (eviction by another process): a
load that loses that race converts again. Malformed files are also remembered in the process until restart.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crashcart.symbols._symbolic import (
    CFICACHE_LATEST_VERSION,
    SYMCACHE_LATEST_VERSION,
    NativeObject,
    SymbolicError,
    SymCacheFile,
    build_native,
    build_symcache,
)
from crashcart.symbols.cfi import CFI_FORMAT_VERSION, CfiIndex, write_cfi_index
from crashcart.symbols.interfaces import SymbolData, SymbolMalformed, SymbolNotFound, SymbolSourceUnavailable
from crashcart.symbols.paths import BINARY, DEBUG, clean_file_name, clean_id
from crashcart.symbols.symfile import SymLimits, scan_stack_records, scan_sym_file

LOGGER = logging.getLogger(__name__)

# 3: native entries may combine two files (``companion`` in meta.json); 4: ``tail_public`` in .sym entries' meta
CACHE_FORMAT_VERSION = 4
#: symbolic's CfiCache text is indexed for native files, so its version is part of the layout too.
VERSION_DIR = f"v{CACHE_FORMAT_VERSION}.{CFI_FORMAT_VERSION}-sc{SYMCACHE_LATEST_VERSION}-cf{CFICACHE_LATEST_VERSION}"
GiB = 1024 * 1024 * 1024
STALE_TEMP_SECONDS = 3600.0
RESCAN_SECONDS = 300.0
#: Under the root (outside the version directories): when the last walk of the cache was and the total it found.
USAGE_FILE = ".usage"
#: Below this many entries a walk costs less than writing ``USAGE_FILE``, which is then left as it is.
USAGE_MIN_ENTRIES = 200

Companion = Callable[[str, Path | None], SymbolData]
"""Fetches a second native file for a module: called with ``paths.BINARY`` (the file found has no unwind
information) or ``paths.DEBUG`` (it has no debug information) and the first file if a local source handed it
over (not to be found again); raises as a source does."""


@dataclass
class CachedModule:
    """One module's loaded symbols: the SymCache (symbolic) and the CFI index, plus the file's identity."""

    debug_file: str
    debug_id: str
    symcache: SymCacheFile
    cfi: CfiIndex
    meta: dict[str, Any]

    @property
    def native(self) -> bool:
        """Converted from a native debug file (no line records of its own, no FUNC parameter sizes)."""
        return self.meta.get("kind") == "native"


class SymbolCache:
    """Converts and keeps symbol files under ``root``; ``load`` is the one entry point."""

    def __init__(
        self,
        root: Path,
        *,
        max_size: int = 4 * GiB,
        missing_ttl: float = 3600.0,
        malformed_ttl: float = 86400.0,
        limits: SymLimits | None = None,
        lock_timeout: float = 900.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root
        self.max_size = max_size
        self.missing_ttl = missing_ttl
        self.malformed_ttl = malformed_ttl
        self.limits = limits or SymLimits()
        self.lock_timeout = lock_timeout
        self._clock = clock
        self._malformed: dict[tuple[str, str], str] = {}
        self._estimated_size: int | None = None  # bytes under root at the last scan plus what we added since
        self._last_scan = 0.0
        self.version_root = root / VERSION_DIR

    def __repr__(self) -> str:
        return f"SymbolCache({str(self.root)!r})"

    def entry_dir(self, debug_file: str, debug_id: str) -> Path:
        """Where the entry for this key lives; ``SymbolNotFound`` for identifiers unusable in a path."""
        name = clean_file_name(debug_file)
        ident = clean_id(debug_id)
        if name is None or ident is None:
            raise SymbolNotFound(f"no usable debug file/id: {debug_file!r} {debug_id!r}")
        return self.version_root / name / ident

    def load(
        self,
        debug_file: str,
        debug_id: str,
        fetch: Callable[[], SymbolData],
        *,
        local: bool = False,
        companion: Companion | None = None,
    ) -> CachedModule:
        """The module's symbols, converting what ``fetch`` returns if the cache has no entry yet.

        Raises ``SymbolNotFound`` (now or recently missing), ``SymbolMalformed`` (now or recently unusable)
        or ``SymbolSourceUnavailable`` (sources could not be asked; nothing cached).

        ``local``: ``fetch`` only looks at local files (``FileSymbolSource``). It is then asked before the lock
        is taken, and a miss is not recorded with a ``.missing`` marker: a few ``stat`` calls cost less than the
        marker, and a file added to the directory is seen at once.

        ``companion``: when a native file lacks unwind information (a dSYM, a split ELF ``.debug`` file, an amd64
        PDB) or debug information (a stripped binary), the other file of the module is fetched with it and the
        entry takes its CFI (or its SymCache) from that one: ``_build_companion``.
        """
        entry = self.entry_dir(debug_file, debug_id)
        key = (entry.parent.name, entry.name)
        if key in self._malformed:
            raise SymbolMalformed(f"{debug_file}/{debug_id}: {self._malformed[key]} (remembered)")
        for _ in range(3):
            module = self._open(entry, debug_file, debug_id)
            if module is not None:
                return module
            self._check_negative(entry, key)
            if local:
                fetch = _prefetched(fetch())  # SymbolNotFound goes to the caller, nothing written
            entry.parent.mkdir(parents=True, exist_ok=True)
            with self._lock(entry):
                # Another process may have converted (or found it missing) while we waited for the lock.
                if (entry / "meta.json").exists():
                    continue
                self._check_negative(entry, key)
                self._convert(entry, key, fetch, companion)
            self._maybe_evict(entry)
        raise SymbolSourceUnavailable(f"{debug_file}/{debug_id}: cache entry kept vanishing")

    # --- reading -------------------------------------------------------------------------------------

    def _open(self, entry: Path, debug_file: str, debug_id: str) -> CachedModule | None:
        try:
            meta = json.loads((entry / "meta.json").read_text("utf-8"))
            symcache = SymCacheFile(entry / "symcache", demangle=meta.get("kind") == "native")
            cfi = CfiIndex(entry / "cfi")
            os.utime(entry / "meta.json")
        except FileNotFoundError:
            return None
        except (SymbolicError, SymbolMalformed, ValueError, OSError) as exc:
            # A damaged entry (disk trouble, an older writer's bug): drop it and convert again.
            LOGGER.warning("discarding damaged symbol cache entry %s: %s", entry, exc)
            self._remove_entry(entry)
            return None
        return CachedModule(debug_file, debug_id, symcache, cfi, meta)

    def _check_negative(self, entry: Path, key: tuple[str, str]) -> None:
        now = self._clock()
        for suffix, ttl, error in (
            (".missing", self.missing_ttl, SymbolNotFound),
            (".malformed", self.malformed_ttl, SymbolMalformed),
        ):
            marker = _read_marker(entry.with_name(entry.name + suffix))
            if marker is not None and now - marker[0] < ttl:
                raise error(f"{key[0]}/{key[1]}: {marker[1]} (cached)")

    # --- writing -------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self, entry: Path) -> Iterator[None]:
        path = entry.with_name(entry.name + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise SymbolSourceUnavailable(f"timed out waiting for {path}") from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _convert(
        self, entry: Path, key: tuple[str, str], fetch: Callable[[], SymbolData], companion: Companion | None = None
    ) -> None:
        try:
            data = fetch()
        except SymbolNotFound as exc:
            self._write_marker(entry.with_name(entry.name + ".missing"), str(exc))
            raise
        except SymbolMalformed as exc:  # e.g. over the size limit while downloading
            self._mark_malformed(entry, key, str(exc))
            raise
        temp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".tmp", dir=entry.parent))
        try:
            source = _as_local_file(data, temp)
            del data
            try:
                with _gc_paused():
                    meta = self._build(source, temp, key[1], companion)
            except SymbolMalformed as exc:
                self._mark_malformed(entry, key, str(exc))
                raise
            if source.parent == temp:
                source.unlink()
            (temp / "meta.json").write_text(json.dumps(meta), "utf-8")
            try:
                temp.rename(entry)
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
                # An entry appeared without our lock (a previous holder died after renaming): keep it.
        except OSError as exc:
            raise SymbolSourceUnavailable(f"cannot write symbol cache entry {entry}: {exc}") from exc
        finally:
            shutil.rmtree(temp, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            entry.with_name(entry.name + ".missing").unlink()

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
            source = _as_local_file(data, other)
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

    def _mark_malformed(self, entry: Path, key: tuple[str, str], reason: str) -> None:
        self._malformed[key] = reason
        self._write_marker(entry.with_name(entry.name + ".malformed"), reason)

    def _write_marker(self, path: Path, text: str) -> None:
        """Write a negative-cache marker atomically (temp file + rename): when it was set, then why."""
        try:
            fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(f"{self._clock()!r}\n{text[:2000]}")
            os.replace(temp, path)
        except OSError as exc:
            LOGGER.warning("cannot write %s: %s", path, exc)

    # --- eviction ------------------------------------------------------------------------------------

    def usage(self) -> tuple[int, list[tuple[float, int, Path]]]:
        """Total bytes under the root and every entry as ``(last_use, bytes, path)``, oldest first.

        Entries of other format versions count as never used, so they go first.
        """
        total = 0
        entries: list[tuple[float, int, Path]] = []
        if not self.root.is_dir():
            return 0, []
        now = self._clock()
        for version in _listdir(self.root):
            current = version == self.version_root
            for name in _listdir(version) if version.is_dir() else []:
                for item in _listdir(name) if name.is_dir() else []:
                    try:
                        if item.is_dir():
                            size = sum(f.stat().st_size for f in _listdir(item))
                            if item.name.startswith("."):
                                # A conversion in progress, or the leftovers of a process that died.
                                if now - item.stat().st_mtime > STALE_TEMP_SECONDS:
                                    shutil.rmtree(item, ignore_errors=True)
                                    continue
                                total += size
                                continue
                            used = (item / "meta.json").stat().st_mtime if current else 0.0
                            entries.append((used, size, item))
                        else:
                            size = item.stat().st_size
                            expired = item.suffix in (".missing", ".malformed") and now - item.stat().st_mtime > max(
                                self.missing_ttl, self.malformed_ttl
                            )
                            if expired or not current:
                                item.unlink()
                                continue
                        total += size
                    except FileNotFoundError:
                        continue
        entries.sort(key=lambda e: e[0])
        return total, entries

    def _maybe_evict(self, entry: Path) -> None:
        """Evict after a conversion, without walking the whole cache every time.

        The walk happens when the estimate (last walk + what this process added) is over the cap, or when the
        last walk is older than ``RESCAN_SECONDS`` (other processes add entries too). A process starts from the
        total the last walk by any process recorded in ``USAGE_FILE``, if that walk is recent enough, so a
        short-lived process (``crashcart stackwalk``) does not walk a big cache for its first conversion.
        """
        try:
            added = sum(f.stat().st_size for f in _listdir(entry))
        except FileNotFoundError:  # already evicted by another process
            added = 0
        now = time.monotonic()
        if self._estimated_size is None:
            recorded = self._read_usage()
            if recorded is not None:
                self._estimated_size, age = recorded
                self._last_scan = now - age
        if self._estimated_size is not None and now - self._last_scan < RESCAN_SECONDS:
            self._estimated_size += added
            if self._estimated_size <= self.max_size:
                return
        self.evict(keep=entry)

    def evict(self, keep: Path | None = None) -> int:
        """Remove least recently used entries until the cache fits ``max_size``; returns bytes freed.

        Safe to run from several processes at once and while others read: an entry is renamed away
        (atomic) before it is deleted, and readers that lose the race convert again.
        """
        total, entries = self.usage()
        freed = 0
        for _, size, path in entries:
            if total - freed <= self.max_size:
                break
            if keep is not None and path == keep:
                continue
            self._remove_entry(path)
            freed += size
        self._estimated_size = total - freed
        self._last_scan = time.monotonic()
        if len(entries) >= USAGE_MIN_ENTRIES:
            self._write_usage(total - freed)
        if freed:
            LOGGER.info("evicted %d bytes from the symbol cache %s", freed, self.root)
        return freed

    def _read_usage(self) -> tuple[int, float] | None:
        """``(bytes, seconds since)`` from the last walk's ``USAGE_FILE``, or ``None`` (absent, unreadable, stale)."""
        marker = _read_marker(self.root / USAGE_FILE)
        if marker is None:
            return None
        age = self._clock() - marker[0]
        try:
            total = int(marker[1])
        except ValueError:
            return None
        return (total, age) if 0 <= age < RESCAN_SECONDS and total >= 0 else None

    def _write_usage(self, total: int) -> None:
        if self.root.is_dir():
            self._write_marker(self.root / USAGE_FILE, str(total))

    def _remove_entry(self, path: Path) -> None:
        trash = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.evict")
        try:
            path.rename(trash)
        except OSError:
            return  # already gone (another process evicted it)
        shutil.rmtree(trash, ignore_errors=True)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
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


def _prefetched(data: SymbolData) -> Callable[[], SymbolData]:
    return lambda: data


def _read_marker(path: Path) -> tuple[float, str] | None:
    """``(set_at, reason)`` of a negative-cache marker, or ``None`` if there is none (or it is unreadable)."""
    try:
        text = path.read_text("utf-8", "replace")
    except OSError:
        return None
    stamp, _, reason = text.partition("\n")
    try:
        return float(stamp), reason[:500]
    except ValueError:
        return None


def _listdir(path: Path) -> list[Path]:
    try:
        return list(path.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _as_local_file(data: bytes | Path, directory: Path) -> Path:
    """A fetched symbol file as a local path: downloaded bytes are written to ``directory/download``; a local
    source's file is used where it is."""
    if isinstance(data, bytes):
        source = directory / "download"
        source.write_bytes(data)
        return source
    return data
