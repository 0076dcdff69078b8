"""The symbol cache's size cap: least recently used entries first, other format versions before them, expired
markers and stale temp directories on the way; a walk only when the running estimate says so."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest

from crashcart.symbols.cache import SymbolCache
from crashcart.symbols.cache_eviction import STALE_TEMP_SECONDS, USAGE_FILE, CacheEviction
from crashcart.symbols.cache_layout import CacheLayout, NegativeCache
from crashcart.symbols.interfaces import SymbolNotFound, SymbolSourceUnavailable
from tests.symbols.conftest import TEST_FILE, TEST_ID, TEST_SYM, Clock, Fetcher


def test_lru_eviction_by_size(tmp_path: Path) -> None:
    clock = Clock()
    probe = SymbolCache(tmp_path / "probe")
    probe.load(TEST_FILE, TEST_ID, Fetcher(TEST_SYM))
    entry_size, _ = probe.usage()
    cache = SymbolCache(tmp_path / "cache", max_size=int(entry_size * 2.5), clock=clock)
    ids = [f"{i:033X}" for i in range(1, 5)]
    for index, debug_id in enumerate(ids[:3]):
        cache.load(TEST_FILE, debug_id, Fetcher(TEST_SYM))
        entry = cache.entry_dir(TEST_FILE, debug_id) / "meta.json"
        os.utime(entry, (1000 + index, 1000 + index))
    # the third conversion pushed the cache over its cap: the least recently used (the first) went
    assert not cache.entry_dir(TEST_FILE, ids[0]).exists()
    # using the second makes the third the oldest
    cache.load(TEST_FILE, ids[1], Fetcher(TEST_SYM))
    cache.load(TEST_FILE, ids[3], Fetcher(TEST_SYM))
    assert [cache.entry_dir(TEST_FILE, i).exists() for i in ids] == [False, True, False, True]
    total, _ = cache.usage()
    assert total <= cache.max_size


def test_old_format_versions_are_evicted_first(tmp_path: Path) -> None:
    old = tmp_path / "v0-sc1" / TEST_FILE / TEST_ID
    old.mkdir(parents=True)
    (old / "symcache").write_bytes(b"x" * 5000)
    cache = SymbolCache(tmp_path, max_size=10**9)
    cache.load(TEST_FILE, TEST_ID, Fetcher(TEST_SYM))
    cache.max_size = 1
    cache.evict()
    assert not old.exists()


def test_a_recent_walk_recorded_by_another_process_replaces_the_first_walk(tmp_path: Path) -> None:
    clock = Clock()
    first = SymbolCache(tmp_path, clock=clock)
    first.load(TEST_FILE, TEST_ID, Fetcher(TEST_SYM))
    total, _ = first.usage()
    first.eviction.write_usage(total)  # what a walk over USAGE_MIN_ENTRIES entries leaves behind
    walks: list[int] = []

    class CountingEviction(CacheEviction):
        def usage(self) -> tuple[int, list[tuple[float, int, Path]]]:
            walks.append(1)
            return super().usage()

    def Counting(root: Path, **options: Any) -> SymbolCache:  # noqa: N802 (reads as the class it builds)
        cache = SymbolCache(root, **options)
        cache.eviction = CountingEviction(cache.layout, cache.negative, max_size=cache.max_size, clock=clock)
        return cache

    second = Counting(tmp_path, clock=clock)
    second.load(TEST_FILE, f"{2:033X}", Fetcher(TEST_SYM))
    assert walks == []  # started from the recorded total; still under the cap
    clock.now += 10_000  # the record is stale now: a new process walks
    third = Counting(tmp_path, clock=clock)
    third.load(TEST_FILE, f"{3:033X}", Fetcher(TEST_SYM))
    assert walks == [1]
    over = Counting(tmp_path, clock=clock, max_size=1)  # over the cap: the estimate never stops a needed walk
    over.eviction.write_usage(total)
    over.load(TEST_FILE, f"{4:033X}", Fetcher(TEST_SYM))
    assert walks == [1, 1]


def test_expired_markers_and_stale_temp_directories_go(tmp_path: Path) -> None:
    clock = Clock()
    layout = CacheLayout(tmp_path)
    negative = NegativeCache(missing_ttl=10, malformed_ttl=20, clock=clock)
    eviction = CacheEviction(layout, negative, max_size=10**9, clock=clock)
    entry = layout.entry_dir(TEST_FILE, TEST_ID)
    entry.parent.mkdir(parents=True)
    negative.mark_missing(entry, "gone")
    fresh = layout.entry_dir(TEST_FILE, f"{2:033X}")
    negative.mark_malformed(fresh, "bad")
    temp = entry.parent / f".{TEST_ID}.abc.tmp"
    temp.mkdir()
    old = clock.now - STALE_TEMP_SECONDS - 1
    os.utime(temp, (old, old))
    marker = layout.sibling(entry, ".missing")
    os.utime(marker, (clock.now - 21, clock.now - 21))
    total, entries = eviction.usage()
    assert entries == []
    assert not marker.exists() and not temp.exists()
    assert layout.sibling(fresh, ".malformed").exists()
    assert total == layout.sibling(fresh, ".malformed").stat().st_size


def test_the_recorded_usage_is_read_back_only_while_recent(tmp_path: Path) -> None:
    clock = Clock()
    tmp_path.mkdir(exist_ok=True)
    eviction = CacheEviction(CacheLayout(tmp_path), NegativeCache(clock=clock), clock=clock)
    assert eviction.read_usage() is None
    eviction.write_usage(1234)
    assert (tmp_path / USAGE_FILE).is_file()
    clock.now += 5
    assert eviction.read_usage() == (1234, 5)
    clock.now += 10_000
    assert eviction.read_usage() is None


#: Module names a hostile dump may carry: long, odd characters, names that look like paths or markers.
HOSTILE_NAMES = [
    "x" * 250,
    "évil ☃ module.dll",
    "name with spaces and 'quotes\".pdb",
    "..hidden",
    "a.lock",
    "b.missing",
    "ünïcödé" * 20,
]


def _miss(cache: SymbolCache, name: str, debug_id: str) -> None:
    with pytest.raises(SymbolNotFound):
        cache.load(name, debug_id, Fetcher(SymbolNotFound("no source has it")))


def test_misses_leave_no_locks_or_directories_after_eviction(tmp_path: Path) -> None:
    """Issue #9 point 8: every miss made a ``<name>/`` directory, a ``.lock`` and a ``.missing`` marker; eviction
    removed the marker once expired but kept the lock and the directory, so hostile names grew the tree for
    ever."""
    clock = Clock()
    cache = SymbolCache(tmp_path, missing_ttl=10, malformed_ttl=10, clock=clock)
    for index, name in enumerate(HOSTILE_NAMES * 3):
        _miss(cache, f"{index}{name}"[:250], f"{index:033X}")
    clock.now = time.time() + 3600  # markers' mtimes are real
    cache.evict()
    left = list(cache.version_root.rglob("*"))
    assert left == []


def _markers(cache: SymbolCache) -> list[Path]:
    return [p for p in cache.version_root.rglob("*.missing") if p.is_file()]


def test_negative_entries_are_bounded_oldest_first(tmp_path: Path) -> None:
    """However many distinct misses, at most ``max_negative_entries`` markers stay; the oldest go first."""
    clock = Clock()
    cache = SymbolCache(tmp_path, max_negative_entries=20, clock=clock)
    names = [f"{i}-{HOSTILE_NAMES[i % len(HOSTILE_NAMES)]}"[:250] for i in range(120)]
    for index, name in enumerate(names):
        clock.now += 1
        _miss(cache, name, TEST_ID)
        marker = CacheLayout.sibling(cache.entry_dir(name, TEST_ID), ".missing")
        if marker.exists():
            os.utime(marker, (clock.now, clock.now))
        assert len(_markers(cache)) <= 20, index
    kept = {p.parent.name for p in _markers(cache)}
    assert kept and kept <= set(names[-20:])  # the most recent misses are still remembered
    # a remembered miss is still answered from its marker
    recent = Fetcher(SymbolNotFound("no"))
    with pytest.raises(SymbolNotFound, match="cached"):
        cache.load(names[-1], TEST_ID, recent)
    assert recent.calls == 0
    # and locks and directories went with the markers evicted
    assert len([p for p in cache.version_root.rglob("*.lock") if p.is_file()]) <= 20
    assert len(list(cache.version_root.iterdir())) <= 20


def test_a_held_lock_is_not_removed_and_a_removed_lock_is_not_trusted(tmp_path: Path) -> None:
    """Eviction removes only lock files nobody holds; a process whose lock file was replaced after it opened it
    takes the new one, so two processes never convert one entry at once."""
    cache = SymbolCache(tmp_path)
    entry = cache.entry_dir("held.pdb", TEST_ID)
    entry.parent.mkdir(parents=True)
    lock_path = CacheLayout.sibling(entry, ".lock")
    with cache.layout.lock(entry):
        cache.eviction.usage()
        assert lock_path.exists()  # held: kept
        other = SymbolCache(tmp_path, lock_timeout=0.2)
        with pytest.raises(SymbolSourceUnavailable), other.layout.lock(entry):
            pass
    cache.eviction.usage()
    assert not lock_path.exists()  # free: removed
    assert not entry.parent.exists()  # and its directory, now empty
    with cache.layout.lock(entry):  # the directory is made again
        assert lock_path.exists()


def _loader(root: str, worker: int, rounds: int) -> None:
    """One process: loads a real entry and misses distinct hostile names, over and over."""
    cache = SymbolCache(Path(root), max_negative_entries=5)
    for index in range(rounds):
        module = cache.load(TEST_FILE, TEST_ID, Fetcher(TEST_SYM))
        assert module.debug_id == TEST_ID
        _miss(cache, f"{worker}-{index}-{HOSTILE_NAMES[index % len(HOSTILE_NAMES)]}"[:250], TEST_ID)


def _evictor(root: str, rounds: int) -> None:
    """One process: evicts everything it can (size cap 1 byte), over and over."""
    cache = SymbolCache(Path(root), max_size=1, max_negative_entries=5)
    for _ in range(rounds):
        cache.evict()


def test_concurrent_loads_misses_and_eviction(tmp_path: Path) -> None:
    """Loaders and an evictor in separate processes on one cache: locks and directories vanish under the
    loaders, which neither fail nor read a half entry; afterwards the markers are within the bound."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_loader, args=(str(tmp_path), w, 40)) for w in range(2)]
    processes.append(context.Process(target=_evictor, args=(str(tmp_path), 200)))
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    cache = SymbolCache(tmp_path, max_negative_entries=5)
    cache.evict()
    assert len(_markers(cache)) <= 5
    assert [p for p in cache.version_root.rglob("*.lock") if p.is_file()] == []
