from __future__ import annotations

from pathlib import Path

import pytest

from crashcart.symbols import build_symbol_provider
from crashcart.symbols.cache import SymbolCache
from crashcart.symbols.fs import FileSymbolSource
from crashcart.symbols.provider import InlineFrame, SymbolInfo, SymbolProvider
from tests.symbols.conftest import INLINE_MODULE, TEST_MODULE, Module


@pytest.fixture
def provider(store: Path, tmp_path: Path) -> SymbolProvider:
    return SymbolProvider(FileSymbolSource(store), SymbolCache(tmp_path / "cache"))


def test_function_file_line(provider: SymbolProvider) -> None:
    assert provider.lookup(TEST_MODULE, 0x2015) == SymbolInfo(
        function="first_function",
        function_address=0x2000,
        function_offset=0x15,
        file=r"c:\src\util.h",
        line=12,
        line_address=0x2010,  # the line record "2010 30 12 7" covers 0x2015
    )


def test_public_fallback_is_bounded_by_the_next_func(provider: SymbolProvider) -> None:
    info = provider.lookup(TEST_MODULE, 0x1800)
    assert info is not None
    assert (info.function, info.function_offset, info.file, info.line) == ("_public_before", 0x800, None, None)
    # after first_function ends, the PUBLIC before it does not extend over the gap (Breakpad semantics)
    assert provider.lookup(TEST_MODULE, 0x2050) is None
    after = provider.lookup(TEST_MODULE, 0x2500)
    assert after is not None
    assert (after.function, after.function_offset) == ("_public_after", 0x400)
    assert provider.lookup(TEST_MODULE, 0x10) is None


def test_inline_frames_innermost_first(provider: SymbolProvider) -> None:
    info = provider.lookup(INLINE_MODULE, 0x15B90)
    assert info is not None
    assert (info.function, info.function_offset, info.file, info.line) == ("main", 0x60, "a.cpp", 42)
    assert info.line_address == 0x15B8D  # line record "15b8d 4 9 0"; Breakpad prints "+ 0x3" from it
    assert info.inlines == (
        InlineFrame("func()", "linux_inline.cpp", 9),
        InlineFrame("bar()", "c.cpp", 32),
        InlineFrame("foo()", "b.cpp", 39),
    )
    # a line record with line 0 (compiler-generated code) stays 0, as Breakpad prints it
    zero = provider.lookup(INLINE_MODULE, 0x15B6B)
    assert zero is not None
    assert zero.inlines == (InlineFrame("foo()", "linux_inline.cpp", 0),)
    outside = provider.lookup(INLINE_MODULE, 0x15B30)
    assert outside is not None
    assert (outside.function, outside.function_offset, outside.line, outside.inlines) == ("main", 0, 41, ())


def test_cfi_rules_for_the_walker(provider: SymbolProvider) -> None:
    rules = provider.cfi_rules(TEST_MODULE, 0x2002)
    assert rules is not None
    assert rules.init_rules == ".cfa: $esp 4 + .ra: .cfa 4 - ^"
    assert rules.deltas == ((0x2001, ".cfa: $esp 8 + $ebp: .cfa 8 - ^"),)
    assert provider.cfi_rules(TEST_MODULE, 0x2040) is None
    wins = provider.win_records(TEST_MODULE, 0x2010)
    assert [w.type for w in wins] == [4, 0]
    assert provider.has_cfi(TEST_MODULE)
    assert provider.parameter_size(TEST_MODULE, 0x2000) == 8
    assert provider.parameter_size(TEST_MODULE, 0x1000) == 4
    assert provider.parameter_size(TEST_MODULE, 0x3000) == 0
    assert provider.parameter_size(Module("nothing.pdb", "AB1"), 0x3000) == 0


def test_missing_module_has_no_symbols_and_says_why(provider: SymbolProvider) -> None:
    module = Module("nothing.pdb", "0123456789ABCDEF0123456789ABCDEF0")
    assert provider.lookup(module, 0x1000) is None
    assert provider.cfi_rules(module, 0x1000) is None
    assert provider.win_records(module, 0x1000) == []
    assert not provider.has_symbols(module)
    assert provider.status(module) == "symbol_not_found"
    assert provider.status(TEST_MODULE) == "not_loaded"
    assert provider.has_symbols(TEST_MODULE)
    assert provider.status(TEST_MODULE) == "ok"


def test_in_process_lru_keeps_the_most_recent(store: Path, tmp_path: Path) -> None:
    provider = SymbolProvider(FileSymbolSource(store), SymbolCache(tmp_path / "cache"), max_loaded=1)
    first = provider.module_symbols(TEST_MODULE)
    assert first is provider.module_symbols(TEST_MODULE)
    provider.module_symbols(INLINE_MODULE)
    assert provider.status(TEST_MODULE) == "not_loaded"
    assert provider.module_symbols(TEST_MODULE) is not first


def test_missing_is_remembered_in_process(store: Path, tmp_path: Path) -> None:
    now = [0.0]
    provider = SymbolProvider(
        FileSymbolSource(store), SymbolCache(tmp_path / "cache", missing_ttl=0), missing_ttl=10, clock=lambda: now[0]
    )
    module = Module("late.pdb", "AB1")
    assert not provider.has_symbols(module)
    target = store / "late.pdb" / "AB1"
    target.mkdir(parents=True)
    (target / "late.sym").write_bytes((store / "test.pdb/ABCDEF0123456789ABCDEF01234567891/test.sym").read_bytes())
    assert not provider.has_symbols(module)  # still remembered as missing
    now[0] = 11.0
    assert provider.has_symbols(module)


def test_build_from_values(store: Path, tmp_path: Path) -> None:
    provider = build_symbol_provider(
        f"{tmp_path.as_uri()}, {store.as_uri()}", tmp_path / "symbols", cache_max_size=1234, missing_ttl=5
    )
    try:
        info = provider.lookup(TEST_MODULE, 0x3004)
        assert info is not None
        assert info.function == "second_function"
        assert provider.cache.root == tmp_path / "symbols"
        assert (provider.cache.max_size, provider.cache.missing_ttl, provider.missing_ttl) == (1234, 5, 5)
        assert provider.source.is_local
    finally:
        provider.close()


TAIL_ID = "0123456789ABCDEF0123456789ABCDEF0"


def test_last_public_covers_the_rest_of_the_module(tmp_path: Path) -> None:
    """Breakpad's nearest-PUBLIC lookup has no upper bound: past the last FUNC, a PUBLIC starting above it names
    every later address (a scanned return address there is then "in a function"); the SymCache alone ends at
    the last range."""
    entry = tmp_path / "store" / "tail.so" / TAIL_ID
    entry.mkdir(parents=True)
    (entry / "tail.so.sym").write_bytes(
        b"MODULE Linux arm " + TAIL_ID.encode() + b" tail.so\n"
        b"FILE 0 a.c\nFUNC 1000 6 0 last_func\n1000 6 7 0\nPUBLIC 1001 0 last_func\n"
    )
    provider = SymbolProvider(FileSymbolSource(tmp_path / "store"), SymbolCache(tmp_path / "cache"))
    module = Module("tail.so", TAIL_ID)
    inside = provider.lookup(module, 0x1002)
    assert inside is not None and inside.function == "last_func"
    far = provider.lookup(module, 0x43B12)
    assert far is not None
    assert (far.function, far.function_address, far.function_offset, far.file) == ("last_func", 0x1001, 0x42B11, None)
    assert provider.lookup(module, 0x800) is None


def test_remembered_failures_are_bounded(store: Path, tmp_path: Path) -> None:
    """Issue #9 point 8: each distinct missing module was remembered in the process for ``missing_ttl``; a
    stream of dumps naming new modules grew that memory without bound. Now the oldest are forgotten first."""
    provider = SymbolProvider(FileSymbolSource(store), SymbolCache(tmp_path / "cache", max_negative_entries=10))
    for index in range(50):
        assert provider.module_symbols(Module(f"unknown-{index}.pdb", TEST_MODULE.debug_id)) is None
    assert len(provider._failed) == 10
    assert ("unknown-49.pdb", TEST_MODULE.debug_id) in provider._failed
    assert ("unknown-0.pdb", TEST_MODULE.debug_id) not in provider._failed
