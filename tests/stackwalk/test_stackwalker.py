"""The one entry point: ``Stackwalker`` walks with the production symbols (``crashcart.symbols`` and its on-disk
cache) and renders JSON or text; unreadable dumps are ``DumpUnreadable`` with the reader's code."""

from __future__ import annotations

from pathlib import Path

import pytest

from crashcart.errors import ConfigError
from crashcart.minidump import Minidump
from crashcart.stackwalk import WALKER_VERSION, NoSymbols, WalkOptions
from crashcart.stackwalk.stackwalker import DumpUnreadable, Stackwalker, WalkerConfig
from tests.helpers.shared import CORPUS
from tests.stackwalk.simple_symbols import SimpleSymbols

FIXTURES = Path(__file__).parents[1] / "fixtures"
DUMP = FIXTURES / "minidump" / "linux-mini.dmp"
INLINE_DUMP = CORPUS / "google__breakpad" / "dumps" / "linux_inline.dmp"
INLINE_SYMBOLS = CORPUS / "google__breakpad" / "symbols"


def test_without_symbols() -> None:
    stackwalker = Stackwalker()
    assert isinstance(stackwalker.symbols, NoSymbols)
    assert stackwalker.provider_lookup is None
    doc = stackwalker.walk_json(DUMP)
    assert doc["status"] == "OK"
    assert doc["stackwalker"]["version"] == stackwalker.version == WALKER_VERSION
    assert doc["crashing_thread"]["frames"][0]["module"] == "crash"
    text = stackwalker.walk_text(DUMP)
    assert text.startswith("Operating system: Linux")
    stackwalker.close()


def test_symbol_sources_need_a_cache_directory() -> None:
    with pytest.raises(ConfigError, match="cache directory"):
        Stackwalker(WalkerConfig(symbol_urls=[FIXTURES.as_uri()]))


def test_empty_symbol_urls_walk_without_symbols(tmp_path: Path) -> None:
    """``CRASHCART_SYMBOLS_URLS`` left empty: no provider, so nothing is written to the cache directory."""
    stackwalker = Stackwalker(WalkerConfig(symbol_urls=[" , "], symbols_cache_dir=tmp_path / "cache"))
    assert stackwalker.provider_lookup is None
    stackwalker.walk_json(DUMP)
    assert not (tmp_path / "cache").exists()


def test_options_are_the_walks(tmp_path: Path) -> None:
    stackwalker = Stackwalker(WalkerConfig(options=WalkOptions(max_frames=2)))
    doc = stackwalker.walk_json(DUMP)
    assert all(len(thread["frames"]) <= 2 for thread in doc["threads"])
    assert doc["stackwalker"]["status"] == "partial"


def test_raw_crash_cert_info() -> None:
    doc = Stackwalker().walk_json(
        FIXTURES / "minidump" / "minidump2.dmp", {"ModuleSignatureInfo": {"MS": ["ntdll.dll"]}}
    )
    assert doc["modules_contains_cert_info"] is True
    assert {m["filename"]: m["cert_subject"] for m in doc["modules"]}["ntdll.dll"] == "MS"
    assert Stackwalker().walk_json(FIXTURES / "minidump" / "minidump2.dmp")["modules_contains_cert_info"] is False


@pytest.mark.parametrize(
    ("content", "reason"), [(b"not a minidump" * 8, "not_a_minidump"), (None, "io_error")], ids=["garbage", "missing"]
)
def test_unreadable_dump(tmp_path: Path, content: bytes | None, reason: str) -> None:
    path = tmp_path / "bad.dmp"
    if content is not None:
        path.write_bytes(content)
    for render in (Stackwalker().walk_json, Stackwalker().walk_text):
        with pytest.raises(DumpUnreadable) as caught:
            render(path)
        assert caught.value.reason == reason
        assert caught.value.code == "minidump_unreadable"


def test_another_lookup_is_walked_with_but_not_symbolized() -> None:
    simple = SimpleSymbols()
    stackwalker = Stackwalker(symbols=simple)
    with Minidump.from_path(DUMP) as dump:
        result, asked = stackwalker.walk(dump)
    assert result.status == "ok"
    assert asked  # the modules the walk asked about
    assert stackwalker.provider_lookup is None


@pytest.mark.corpus
@pytest.mark.skipif(not INLINE_DUMP.is_file(), reason=f"corpus not found at {CORPUS}")
def test_production_symbols_through_the_cache(tmp_path: Path) -> None:
    """A ``file://`` source: the first walker converts into the cache; a second one (another process) reads the
    converted entry and gives the same document."""
    config = WalkerConfig(symbol_urls=[INLINE_SYMBOLS.as_uri()], symbols_cache_dir=tmp_path / "cache")
    first = Stackwalker(config)
    doc = first.walk_json(INLINE_DUMP)
    first.close()
    frame = doc["crashing_thread"]["frames"][0]
    assert (frame["function"], frame["file"], frame["line"]) == ("main", "a.cpp", 42)
    assert len(frame["inlines"]) == 3
    entries = list((tmp_path / "cache").rglob("meta.json"))
    assert entries
    stamps = [entry.stat().st_mtime_ns for entry in entries]
    again = Stackwalker(config)
    assert again.walk_json(INLINE_DUMP) == doc
    assert [entry.stat().st_mtime_ns for entry in entries] >= stamps  # read again (last use), not rebuilt
    assert len(list((tmp_path / "cache").rglob("meta.json"))) == len(entries)
    again.close()
