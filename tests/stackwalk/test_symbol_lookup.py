"""``ProviderLookup``: the walker's SymbolLookup over crashcart.symbols, checked against SimpleSymbols."""

from __future__ import annotations

from pathlib import Path

import pytest

from crashcart.stackwalk import SymbolLookup
from crashcart.stackwalk.symbol_lookup import ProviderLookup
from crashcart.symbols import build_symbol_provider
from tests.stackwalk.helpers import module
from tests.stackwalk.simple_symbols import SimpleSymbols

STORE = Path(__file__).parents[1] / "fixtures" / "symbols" / "store"
TEST_ID = "ABCDEF0123456789ABCDEF01234567891"


@pytest.fixture
def lookup(tmp_path: Path) -> ProviderLookup:
    return ProviderLookup(build_symbol_provider(STORE.as_uri(), tmp_path / "cache"))


def test_conforms_to_protocol(lookup: ProviderLookup) -> None:
    assert isinstance(lookup, SymbolLookup)


def test_has_symbols_and_status(lookup: ProviderLookup) -> None:
    found = module("test.pdb", 0x10000000, 0x10000, TEST_ID)
    missing = module("nothere.pdb", 0x20000000, 0x1000)
    assert lookup.has_symbols(found)
    assert lookup.status(found) == "ok"
    assert not lookup.has_symbols(missing)
    assert lookup.status(missing) == "symbol_not_found"
    assert lookup.function_at(missing, 0x10) is None
    assert lookup.cfi_rules(missing, 0x10) is None
    assert lookup.windows_frame_info(missing, 0x10) is None


@pytest.mark.parametrize("rel_addr", [0x0, 0x1000, 0x1800, 0x2000, 0x2001, 0x2003, 0x2020, 0x2100, 0x3010, 0x4000])
def test_agrees_with_simple_symbols(lookup: ProviderLookup, rel_addr: int) -> None:
    mod = module("test.pdb", 0x10000000, 0x10000, TEST_ID)
    simple = SimpleSymbols([STORE])
    assert lookup.function_at(mod, rel_addr) == simple.function_at(mod, rel_addr)
    assert lookup.cfi_rules(mod, rel_addr) == simple.cfi_rules(mod, rel_addr)
    ours, theirs = lookup.windows_frame_info(mod, rel_addr), simple.windows_frame_info(mod, rel_addr)
    if theirs is None or ours is None:
        assert ours == theirs
    else:
        assert (ours.kind if ours.complete else -1) == (theirs.kind if theirs.complete else -1)
        assert ours.parameter_size == theirs.parameter_size
        assert ours.program == theirs.program
        assert ours.allocates_base_pointer == theirs.allocates_base_pointer
        assert ours.complete == theirs.complete


def test_symbolize_gives_file_line_and_offset(lookup: ProviderLookup) -> None:
    mod = module("test.pdb", 0x10000000, 0x10000, TEST_ID)
    info = lookup.symbolize(mod, 0x2014)
    assert info is not None
    assert (info.function, info.function_offset, info.line) == ("first_function", 0x14, 12)
    assert info.file is not None
    assert info.file.endswith("util.h")
    assert lookup.symbolize(mod, -1) is None


def test_inline_frames(lookup: ProviderLookup) -> None:
    sym = next((STORE / "linux_inline").glob("*/linux_inline.sym"))
    inline_line = next(line for line in sym.read_text().splitlines() if line.startswith("INLINE "))
    address = int(inline_line.split()[5], 16)
    mod = module("linux_inline", 0x400000, 0x100000, "BBA6FA10B8AAB33D00000000000000000")
    info = lookup.symbolize(mod, address)
    assert info is not None
    assert info.inlines
