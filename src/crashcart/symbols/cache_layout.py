"""Where the symbol cache keeps things, and the negative-cache markers (missing and malformed files) with their TTLs.

Layout under the cache root (``CRASHCART_SYMBOLS_CACHE_DIR``)::

    v<CACHE_FORMAT_VERSION>.<CFI_FORMAT_VERSION>-sc<SymCache version>-cf<CfiCache version>/
        <debug_file>/<DEBUG_ID>/          one entry, created by renaming a finished temp directory
            symcache                      symbolic SymCache: functions, lines, inlines, PUBLIC symbols
            cfi                           ``cfi.CfiIndex`` file: STACK CFI / STACK WIN by address, line starts
            meta.json                     identity (MODULE / INFO CODE_ID, or the native object's), ``kind``
                                          (``breakpad`` or ``native``), the native ``companion`` file (if
                                          any), ``tail_public``; its mtime is the entry's last use
        <debug_file>/<DEBUG_ID>.missing   no source had the file (valid for ``missing_ttl`` from the time in it)
        <debug_file>/<DEBUG_ID>.malformed the file could not be converted (for ``malformed_ttl``)
        <debug_file>/<DEBUG_ID>.lock      ``flock``-ed while one process converts; others wait, then reuse
    .usage                                when the last eviction walk ran, the bytes and the negative markers
                                          it found (``cache_eviction``)

The format version is part of the path, so a new release never reads an old layout; old directories are never
touched again and eviction removes them first. Entries may vanish at any time (eviction by another process).

Lock files and ``<debug_file>/`` directories may vanish too: a miss for a module nobody has leaves a directory, a
lock and a marker, and a hostile dump can name any number of such modules (issue #9), so eviction removes
expired markers (and the oldest beyond ``NegativeCache.max_entries``), every lock file nobody holds, and the
directories left empty. That is safe because of two rules here: whoever takes a lock checks, once it holds the
``flock``, that the path still names the file it locked (else it locks again: the file it had was removed), and
eviction removes a lock file only while holding its ``flock``. Whoever makes a file in a directory that eviction
just removed makes the directory again.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from crashcart.symbols._symbolic import CFICACHE_LATEST_VERSION, SYMCACHE_LATEST_VERSION
from crashcart.symbols.cfi import CFI_FORMAT_VERSION
from crashcart.symbols.interfaces import SymbolMalformed, SymbolNotFound, SymbolSourceUnavailable
from crashcart.symbols.paths import clean_file_name, clean_id

LOGGER = logging.getLogger(__name__)

# 3: native entries may combine two files (``companion`` in meta.json); 4: ``tail_public`` in .sym entries' meta
CACHE_FORMAT_VERSION = 4
#: symbolic's CfiCache text is indexed for native files, so its version is part of the layout too.
VERSION_DIR = f"v{CACHE_FORMAT_VERSION}.{CFI_FORMAT_VERSION}-sc{SYMCACHE_LATEST_VERSION}-cf{CFICACHE_LATEST_VERSION}"

MISSING = ".missing"
MALFORMED = ".malformed"
NEGATIVE_SUFFIXES = (MISSING, MALFORMED)
LOCK = ".lock"
#: Negative markers kept by default, however many distinct modules were missing (``NegativeCache.max_entries``).
MAX_NEGATIVE_ENTRIES = 50_000


class CacheLayout:
    """Paths of one cache root, the conversion lock, and removal of an entry that may vanish meanwhile."""

    def __init__(self, root: Path, *, lock_timeout: float = 900.0) -> None:
        self.root = root
        self.version_root = root / VERSION_DIR
        self.lock_timeout = lock_timeout

    def entry_dir(self, debug_file: str, debug_id: str) -> Path:
        """Where the entry for this key lives; ``SymbolNotFound`` for identifiers unusable in a path."""
        name = clean_file_name(debug_file)
        ident = clean_id(debug_id)
        if name is None or ident is None:
            raise SymbolNotFound(f"no usable debug file/id: {debug_file!r} {debug_id!r}")
        return self.version_root / name / ident

    @staticmethod
    def sibling(entry: Path, suffix: str) -> Path:
        """``<DEBUG_ID><suffix>`` next to the entry (its markers and lock)."""
        return entry.with_name(entry.name + suffix)

    @contextlib.contextmanager
    def lock(self, entry: Path) -> Iterator[None]:
        """Hold the entry's ``flock`` (one converting process at a time); ``SymbolSourceUnavailable`` after
        ``lock_timeout`` seconds.

        The lock file may be removed by eviction while we wait or just after we opened it; a lock on a file no
        longer at ``path`` excludes nobody, so then we open ``path`` again (see the module docstring).
        """
        path = self.sibling(entry, LOCK)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            fd = _open_creating_dir(path)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise SymbolSourceUnavailable(f"timed out waiting for {path}") from None
                        time.sleep(0.05)
                if _same_file(fd, path):
                    yield
                    return
            finally:
                os.close(fd)  # closing releases the lock

    @staticmethod
    def remove_free_lock(path: Path) -> bool:
        """Remove a lock file nobody holds (taking its ``flock`` first, so nobody can take it meanwhile);
        False when it is held (or was replaced)."""
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            return False
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            if not _same_file(fd, path):
                return False
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return True
        finally:
            os.close(fd)

    @staticmethod
    def remove_entry(path: Path) -> None:
        """Rename away (atomic, so readers see the whole entry or nothing), then delete."""
        trash = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.evict")
        try:
            path.rename(trash)
        except OSError:
            return  # already gone (another process evicted it)
        shutil.rmtree(trash, ignore_errors=True)


class NegativeCache:
    """The ``.missing`` and ``.malformed`` markers: no source had the file (for ``missing_ttl`` seconds), or it
    could not be converted (for ``malformed_ttl``, on disk for every process; in this process until restart).

    At most ``max_entries`` markers are kept on disk (eviction removes the oldest beyond it) and remembered in
    the process, so distinct misses cost bounded space whatever a dump names."""

    def __init__(
        self,
        *,
        missing_ttl: float = 3600.0,
        malformed_ttl: float = 86400.0,
        max_entries: int = MAX_NEGATIVE_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.missing_ttl = missing_ttl
        self.malformed_ttl = malformed_ttl
        self.max_entries = max_entries
        self.clock = clock
        self._malformed: dict[tuple[str, str], str] = {}

    @staticmethod
    def key(entry: Path) -> tuple[str, str]:
        return (entry.parent.name, entry.name)

    def check(self, entry: Path) -> None:
        """Raise ``SymbolNotFound``/``SymbolMalformed`` while a marker for ``entry`` is fresh (or the file was
        found malformed by this process)."""
        key = self.key(entry)
        if key in self._malformed:
            raise SymbolMalformed(f"{key[0]}/{key[1]}: {self._malformed[key]} (remembered)")
        now = self.clock()
        for suffix, ttl, error in (
            (MISSING, self.missing_ttl, SymbolNotFound),
            (MALFORMED, self.malformed_ttl, SymbolMalformed),
        ):
            marker = read_marker(CacheLayout.sibling(entry, suffix))
            if marker is not None and now - marker[0] < ttl:
                raise error(f"{key[0]}/{key[1]}: {marker[1]} (cached)")

    def mark_missing(self, entry: Path, reason: str) -> None:
        write_marker(CacheLayout.sibling(entry, MISSING), reason, self.clock())

    def mark_malformed(self, entry: Path, reason: str) -> None:
        if len(self._malformed) >= self.max_entries:
            self._malformed.pop(next(iter(self._malformed)))  # the oldest
        self._malformed[self.key(entry)] = reason
        write_marker(CacheLayout.sibling(entry, MALFORMED), reason, self.clock())

    def clear_missing(self, entry: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            CacheLayout.sibling(entry, MISSING).unlink()

    def expired(self, path: Path, now: float) -> bool:
        """Whether ``path`` is a marker older than both TTLs (the eviction walk removes it)."""
        try:
            return path.suffix in NEGATIVE_SUFFIXES and now - path.stat().st_mtime > max(
                self.missing_ttl, self.malformed_ttl
            )
        except FileNotFoundError:
            return False


def _open_creating_dir(path: Path) -> int:
    """``open(path, O_CREAT)``, making its directory again if eviction removed it meanwhile."""
    for _ in range(10):
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def write_marker(path: Path, text: str, now: float) -> None:
    """Write a marker atomically (temp file + rename): when it was set, then why. Failures are logged only."""
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(f"{now!r}\n{text[:2000]}")
        os.replace(temp, path)
    except OSError as exc:
        LOGGER.warning("cannot write %s: %s", path, exc)


def read_marker(path: Path) -> tuple[float, str] | None:
    """``(set_at, reason)`` of a marker, or ``None`` if there is none (or it is unreadable)."""
    try:
        text = path.read_text("utf-8", "replace")
    except OSError:
        return None
    stamp, _, reason = text.partition("\n")
    try:
        return float(stamp), reason[:500]
    except ValueError:
        return None
