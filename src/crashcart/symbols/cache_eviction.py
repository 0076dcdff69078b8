"""Keeping the symbol cache under its size cap: least recently used entries go first.

After each conversion the cache asks :meth:`CacheEviction.after_conversion`, which walks the tree only when its
running estimate is over the cap or stale (a walk of a big cache costs seconds); a janitor may call
:meth:`CacheEviction.evict` on its own schedule. Safe to run from several processes at once and while others
read: an entry is renamed away (atomic) before it is deleted, and readers that lose the race convert again.
Entries of other format versions count as never used, so they go first; expired negative markers, the oldest
markers beyond ``NegativeCache.max_entries``, lock files nobody holds, ``<debug_file>/`` directories left empty
and stale temp files are removed on the way (``cache_layout`` says why that is safe for concurrent processes).
A miss does not convert anything, so :meth:`CacheEviction.after_negative` keeps the marker count as
:meth:`~CacheEviction.after_conversion` keeps the size.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from crashcart.symbols.cache_layout import (
    LOCK,
    NEGATIVE_SUFFIXES,
    CacheLayout,
    NegativeCache,
    read_marker,
    write_marker,
)

LOGGER = logging.getLogger(__name__)

GiB = 1024 * 1024 * 1024
STALE_TEMP_SECONDS = 3600.0
RESCAN_SECONDS = 300.0
#: Under the root (outside the version directories): when the last walk of the cache was and the total it found.
USAGE_FILE = ".usage"
#: Below this many entries a walk costs less than writing ``USAGE_FILE``, which is then left as it is.
USAGE_MIN_ENTRIES = 200


class CacheEviction:
    """The size cap of one cache root (``max_size`` bytes), with this process's running estimate of its size."""

    def __init__(
        self,
        layout: CacheLayout,
        negative: NegativeCache,
        *,
        max_size: int = 4 * GiB,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.layout = layout
        self.negative = negative
        self.max_size = max_size
        self._clock = clock
        self._estimated_size: int | None = None  # bytes under root at the last scan plus what we added since
        self._last_scan = 0.0
        #: Negative markers at the last walk (after trimming) plus the ones this process wrote since.
        self._negative_count: int | None = None

    def usage(self) -> tuple[int, list[tuple[float, int, Path]]]:
        """Total bytes under the root and every entry as ``(last_use, bytes, path)``, oldest first.

        On the way: removes expired markers, the oldest markers beyond ``max_entries``, free lock files,
        stale temp directories and files, and the ``<debug_file>/`` directories that are left empty."""
        root, version_root = self.layout.root, self.layout.version_root
        total = 0
        entries: list[tuple[float, int, Path]] = []
        negatives: list[tuple[float, int, Path]] = []
        if not root.is_dir():
            return 0, []
        now = self._clock()
        for version in _listdir(root):
            current = version == version_root
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
                        elif item.suffix == LOCK and not item.name.startswith("."):
                            if not self.layout.remove_free_lock(item):
                                total += item.stat().st_size
                            continue
                        else:
                            stat = item.stat()
                            size = stat.st_size
                            if not current or self.negative.expired(item, now):
                                item.unlink()
                                continue
                            if item.name.startswith("."):  # a marker's temp file, from a process that died
                                if now - stat.st_mtime > STALE_TEMP_SECONDS:
                                    item.unlink()
                                    continue
                            elif item.suffix in NEGATIVE_SUFFIXES:
                                negatives.append((stat.st_mtime, size, item))
                        total += size
                    except FileNotFoundError:
                        continue
                _remove_if_empty(name)
        total -= self._trim_negatives(negatives)
        entries.sort(key=lambda e: e[0])
        return total, entries

    def _trim_negatives(self, negatives: list[tuple[float, int, Path]]) -> int:
        """Remove the oldest markers beyond ``max_entries`` (with their free lock and emptied directory);
        returns the bytes freed and records the count left."""
        excess = len(negatives) - self.negative.max_entries
        freed = 0
        if excess > 0:
            negatives.sort(key=lambda n: n[0])
            for _, size, marker in negatives[:excess]:
                with contextlib.suppress(FileNotFoundError):
                    marker.unlink()
                    freed += size
                entry = marker.with_suffix("")
                if not any(CacheLayout.sibling(entry, s).exists() for s in NEGATIVE_SUFFIXES):
                    self.layout.remove_free_lock(CacheLayout.sibling(entry, LOCK))
                _remove_if_empty(marker.parent)
            LOGGER.info("removed the %d oldest negative markers from the symbol cache %s", excess, self.layout.root)
        self._negative_count = min(len(negatives), self.negative.max_entries)
        return freed

    def after_negative(self) -> None:
        """A miss was recorded (a ``.missing`` or ``.malformed`` marker): walk when the count may be over
        ``max_entries`` (this process's estimate, from the last walk by any process) or is stale."""
        now = time.monotonic()
        if self._negative_count is None:
            recorded = self._read_usage_file()
            if recorded is not None and recorded[1] is not None:
                self._estimated_size, self._negative_count, age = recorded
                self._last_scan = now - age
        if self._negative_count is not None and now - self._last_scan < RESCAN_SECONDS:
            self._negative_count += 1
            if self._negative_count <= self.negative.max_entries:
                return
        self.evict()

    def after_conversion(self, entry: Path) -> None:
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
            recorded = self.read_usage()
            if recorded is not None:
                self._estimated_size, age = recorded
                self._last_scan = now - age
        if self._estimated_size is not None and now - self._last_scan < RESCAN_SECONDS:
            self._estimated_size += added
            if self._estimated_size <= self.max_size:
                return
        self.evict(keep=entry)

    def evict(self, keep: Path | None = None) -> int:
        """Remove least recently used entries (never ``keep``) until the cache fits ``max_size``; returns bytes
        freed."""
        total, entries = self.usage()
        freed = 0
        for _, size, path in entries:
            if total - freed <= self.max_size:
                break
            if keep is not None and path == keep:
                continue
            self.layout.remove_entry(path)
            freed += size
        self._estimated_size = total - freed
        self._last_scan = time.monotonic()
        if len(entries) + (self._negative_count or 0) >= USAGE_MIN_ENTRIES:
            self.write_usage(total - freed)
        if freed:
            LOGGER.info("evicted %d bytes from the symbol cache %s", freed, self.layout.root)
        return freed

    def read_usage(self) -> tuple[int, float] | None:
        """``(bytes, seconds since)`` from the last walk's ``USAGE_FILE``, or ``None`` (absent, unreadable, stale)."""
        recorded = self._read_usage_file()
        return None if recorded is None else (recorded[0], recorded[2])

    def _read_usage_file(self) -> tuple[int, int | None, float] | None:
        """``(bytes, negative markers or None, seconds since)`` from ``USAGE_FILE`` (older writers recorded only
        the bytes)."""
        marker = read_marker(self.layout.root / USAGE_FILE)
        if marker is None:
            return None
        age = self._clock() - marker[0]
        fields = marker[1].split()
        try:
            total = int(fields[0])
            negatives = int(fields[1]) if len(fields) > 1 else None
        except (ValueError, IndexError):
            return None
        if not (0 <= age < RESCAN_SECONDS and total >= 0) or (negatives is not None and negatives < 0):
            return None
        return total, negatives, age

    def write_usage(self, total: int) -> None:
        """Record a walk's total (and the negative markers it left) for other processes (``USAGE_FILE``)."""
        if self.layout.root.is_dir():
            negatives = "" if self._negative_count is None else f" {self._negative_count}"
            write_marker(self.layout.root / USAGE_FILE, f"{total}{negatives}", self._clock())


def _remove_if_empty(directory: Path) -> None:
    """``rmdir``: fails, harmlessly, unless the directory is empty (and nobody just put a file in it)."""
    with contextlib.suppress(OSError):
        os.rmdir(directory)


def _listdir(path: Path) -> list[Path]:
    try:
        return list(path.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
