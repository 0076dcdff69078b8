"""The on-disk symbol cache: each symbol file (Breakpad ``.sym`` or native debug file) converted once into
fast-to-load forms, shared by the node's processes. ``SymbolCache.load`` is the one entry point.

Three collaborators, one job each:

* ``cache_layout``: where entries, markers and locks live (the versioned layout), and the negative cache
  (``.missing`` / ``.malformed`` markers with their TTLs);
* ``cache_convert``: a ``.sym`` or native file (and its companion) → ``symcache``, ``cfi``, ``meta.json``;
* ``cache_eviction``: the size cap, least recently used first.

This module puts them together: look for a whole entry, else respect the markers, else take the entry's lock,
fetch, convert into a temp directory and rename it into place (readers see whole entries or nothing), then let
eviction keep the cap. An entry may vanish at any time (another process's eviction): a load that loses that
race converts again.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crashcart.symbols._symbolic import SymbolicError, SymCacheFile
from crashcart.symbols.cache_convert import Companion, Converter
from crashcart.symbols.cache_eviction import CacheEviction, GiB
from crashcart.symbols.cache_layout import MAX_NEGATIVE_ENTRIES, VERSION_DIR, CacheLayout, NegativeCache
from crashcart.symbols.cfi import CfiIndex
from crashcart.symbols.interfaces import SymbolData, SymbolMalformed, SymbolNotFound, SymbolSourceUnavailable
from crashcart.symbols.symfile import SymLimits

LOGGER = logging.getLogger(__name__)

__all__ = ["VERSION_DIR", "CachedModule", "Companion", "SymbolCache"]


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


#: Rounds of open-or-convert before ``load`` gives up on an entry that other processes keep evicting.
LOAD_ATTEMPTS = 8


class SymbolCache:
    """Converts and keeps symbol files under ``root``; see the module docstring."""

    def __init__(
        self,
        root: Path,
        *,
        max_size: int = 4 * GiB,
        missing_ttl: float = 3600.0,
        malformed_ttl: float = 86400.0,
        max_negative_entries: int = MAX_NEGATIVE_ENTRIES,
        limits: SymLimits | None = None,
        lock_timeout: float = 900.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.layout = CacheLayout(root, lock_timeout=lock_timeout)
        self.negative = NegativeCache(
            missing_ttl=missing_ttl, malformed_ttl=malformed_ttl, max_entries=max_negative_entries, clock=clock
        )
        self.converter = Converter(limits)
        self.eviction = CacheEviction(self.layout, self.negative, max_size=max_size, clock=clock)

    def __repr__(self) -> str:
        return f"SymbolCache({str(self.root)!r})"

    @property
    def root(self) -> Path:
        return self.layout.root

    @property
    def version_root(self) -> Path:
        return self.layout.version_root

    @property
    def max_size(self) -> int:
        return self.eviction.max_size

    @max_size.setter
    def max_size(self, value: int) -> None:
        self.eviction.max_size = value

    @property
    def missing_ttl(self) -> float:
        return self.negative.missing_ttl

    @property
    def malformed_ttl(self) -> float:
        return self.negative.malformed_ttl

    def entry_dir(self, debug_file: str, debug_id: str) -> Path:
        """Where the entry for this key lives; ``SymbolNotFound`` for identifiers unusable in a path."""
        return self.layout.entry_dir(debug_file, debug_id)

    def usage(self) -> tuple[int, list[tuple[float, int, Path]]]:
        """Total bytes under the root and every entry as ``(last_use, bytes, path)``, oldest first."""
        return self.eviction.usage()

    def evict(self, keep: Path | None = None) -> int:
        """Remove least recently used entries until the cache fits ``max_size``; returns bytes freed."""
        return self.eviction.evict(keep)

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
        entry takes its CFI (or its SymCache) from that one (``cache_convert``).
        """
        entry = self.layout.entry_dir(debug_file, debug_id)
        # An entry converted by another process may be evicted before we open it (only under a cap far below
        # the working set, where each round is a race); one we convert ourselves is opened under its lock.
        for _ in range(LOAD_ATTEMPTS):
            module = self._open(entry, debug_file, debug_id)
            if module is not None:
                return module
            self.negative.check(entry)
            if local:
                fetch = _prefetched(fetch())  # SymbolNotFound goes to the caller, nothing written
            entry.parent.mkdir(parents=True, exist_ok=True)
            marking = False  # a miss from here on leaves a new marker
            try:
                with self.layout.lock(entry):
                    # Another process may have converted (or found it missing) while we waited for the lock.
                    if (entry / "meta.json").exists():
                        continue
                    self.negative.check(entry)
                    marking = True
                    self._convert(entry, fetch, companion)
                    # Opened at once: an open entry's files stay readable even if eviction renames it away next.
                    module = self._open(entry, debug_file, debug_id)
            except (SymbolNotFound, SymbolMalformed):
                if marking:
                    self.eviction.after_negative()  # outside the lock: it may walk the cache
                raise
            self.eviction.after_conversion(entry)
            if module is not None:
                return module
        raise SymbolSourceUnavailable(f"{debug_file}/{debug_id}: cache entry kept vanishing")

    def _open(self, entry: Path, debug_file: str, debug_id: str) -> CachedModule | None:
        try:
            meta = json.loads((entry / "meta.json").read_text("utf-8"))
            symcache = SymCacheFile(entry / "symcache", demangle=meta.get("kind") == "native")
            cfi = CfiIndex(entry / "cfi")
            os.utime(entry / "meta.json")  # the entry's last use, for eviction
        except FileNotFoundError:
            return None
        except (SymbolicError, SymbolMalformed, ValueError, OSError) as exc:
            # A damaged entry (disk trouble, an older writer's bug): drop it and convert again.
            LOGGER.warning("discarding damaged symbol cache entry %s: %s", entry, exc)
            self.layout.remove_entry(entry)
            return None
        return CachedModule(debug_file, debug_id, symcache, cfi, meta)

    def _convert(self, entry: Path, fetch: Callable[[], SymbolData], companion: Companion | None) -> None:
        try:
            data = fetch()
        except SymbolNotFound as exc:
            self.negative.mark_missing(entry, str(exc))
            raise
        except SymbolMalformed as exc:  # e.g. over the size limit while downloading
            self.negative.mark_malformed(entry, str(exc))
            raise
        temp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".tmp", dir=entry.parent))
        try:
            try:
                meta = self.converter.convert(data, temp, entry.name, companion)
            except SymbolMalformed as exc:
                self.negative.mark_malformed(entry, str(exc))
                raise
            finally:
                del data
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
        self.negative.clear_missing(entry)


def _prefetched(data: SymbolData) -> Callable[[], SymbolData]:
    return lambda: data
