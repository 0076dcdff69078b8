"""The symbol cache's size cap: least recently used entries first, other format versions before them, expired
markers and stale temp directories on the way; a walk only when the running estimate says so."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crashcart.symbols.cache import SymbolCache
from crashcart.symbols.cache_eviction import STALE_TEMP_SECONDS, USAGE_FILE, CacheEviction
from crashcart.symbols.cache_layout import CacheLayout, NegativeCache
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
