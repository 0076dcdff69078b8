"""Where the cache keeps entries, and the negative markers: fresh ones stop a lookup, old ones do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from crashcart.symbols.cache_layout import VERSION_DIR, CacheLayout, NegativeCache, read_marker
from crashcart.symbols.interfaces import SymbolMalformed, SymbolNotFound
from tests.symbols.conftest import TEST_FILE, TEST_ID, Clock


def test_entries_live_under_the_version_directory(tmp_path: Path) -> None:
    layout = CacheLayout(tmp_path)
    entry = layout.entry_dir(TEST_FILE, TEST_ID)
    assert entry == tmp_path / VERSION_DIR / TEST_FILE / TEST_ID
    assert layout.sibling(entry, ".lock") == entry.parent / f"{TEST_ID}.lock"
    for bad in (("..", TEST_ID), (TEST_FILE, "../x"), ("", TEST_ID)):
        with pytest.raises(SymbolNotFound):
            layout.entry_dir(*bad)


def test_markers_hold_for_their_ttl(tmp_path: Path) -> None:
    clock = Clock()
    negative = NegativeCache(missing_ttl=10, malformed_ttl=100, clock=clock)
    entry = CacheLayout(tmp_path).entry_dir(TEST_FILE, TEST_ID)
    entry.parent.mkdir(parents=True)
    negative.check(entry)  # nothing known
    negative.mark_missing(entry, "not on any source")
    assert read_marker(entry.with_name(entry.name + ".missing")) == (clock.now, "not on any source")
    with pytest.raises(SymbolNotFound, match="not on any source"):
        negative.check(entry)
    clock.now += 11
    negative.check(entry)  # expired
    negative.mark_missing(entry, "again")
    negative.clear_missing(entry)
    negative.check(entry)


def test_malformed_is_remembered_in_the_process_past_the_ttl(tmp_path: Path) -> None:
    clock = Clock()
    entry = CacheLayout(tmp_path).entry_dir(TEST_FILE, TEST_ID)
    entry.parent.mkdir(parents=True)
    negative = NegativeCache(malformed_ttl=100, clock=clock)
    negative.mark_malformed(entry, "bad record")
    clock.now += 101
    with pytest.raises(SymbolMalformed, match="remembered"):
        negative.check(entry)
    NegativeCache(malformed_ttl=100, clock=clock).check(entry)  # another process: the marker has expired


def test_unreadable_markers_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "x.missing"
    assert read_marker(path) is None
    path.write_text("not a time\nreason")
    assert read_marker(path) is None
