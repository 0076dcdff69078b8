from __future__ import annotations

from pathlib import Path

from crashcart.stackwalk import SymbolLookup
from tests.stackwalk.helpers import module
from tests.stackwalk.simple_symbols import SimpleSymbols, SymFile

SYM = """MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 app
FILE 0 app.c
FUNC 1000 20 0 first
1000 10 3 0
FUNC m 1100 10 0 second one
PUBLIC 1200 0 a_public
PUBLIC m 1050 0 shadowed
STACK CFI INIT 1000 20 .cfa: $rsp 8 + .ra: .cfa -8 + ^
STACK CFI 1001 .cfa: $rsp 16 + $rbp: .cfa -16 + ^
STACK CFI 1004 .cfa: $rbp 16 +
STACK CFI bogus line
FUNC zz
"""


def test_function_lookup() -> None:
    sym = SymFile.parse(SYM.splitlines())
    assert sym.function_at(0x1000) == "first"
    assert sym.function_at(0x101F) == "first"
    assert sym.function_at(0x1020) is None  # past the end of first, and no PUBLIC at or below it
    assert sym.function_at(0x1105) == "second one"
    assert sym.function_at(0x1250) == "a_public"
    assert sym.function_at(0x0FFF) is None


def test_public_below_nearest_func_is_ignored() -> None:
    sym = SymFile.parse(SYM.splitlines())
    # 0x1060: nearest FUNC start 0x1000 (not covering), nearest PUBLIC 0x1050 > 0x1000 → the PUBLIC.
    assert sym.function_at(0x1060) == "shadowed"


def test_cfi_rows_accumulate() -> None:
    sym = SymFile.parse(SYM.splitlines())
    assert sym.cfi_rules(0x0FFF) is None
    assert sym.cfi_rules(0x1020) is None
    rules = sym.cfi_rules(0x1000)
    assert rules is not None
    assert rules.rules == {".cfa": "$rsp 8 +", ".ra": ".cfa -8 + ^"}
    rules = sym.cfi_rules(0x1003)
    assert rules is not None
    assert rules.rules == {".cfa": "$rsp 16 +", ".ra": ".cfa -8 + ^", "$rbp": ".cfa -16 + ^"}
    rules = sym.cfi_rules(0x101F)
    assert rules is not None
    assert rules.rules[".cfa"] == "$rbp 16 +"


def test_reads_breakpad_layout(tmp_path: Path) -> None:
    folder = tmp_path / "app" / "0123456789ABCDEF0123456789ABCDEF0"
    folder.mkdir(parents=True)
    (folder / "app.sym").write_text(SYM)
    lookup = SimpleSymbols([tmp_path / "missing", tmp_path])
    assert isinstance(lookup, SymbolLookup)
    app = module("app", 0x400000, 0x10000)
    other = module("other", 0x500000, 0x1000)
    assert lookup.has_symbols(app)
    assert not lookup.has_symbols(other)
    assert lookup.function_at(app, 0x1000) == "first"
    assert lookup.cfi_rules(app, 0x1000) is not None
    assert lookup.cfi_rules(other, 0x1000) is None


def test_pdb_names_drop_the_extension(tmp_path: Path) -> None:
    folder = tmp_path / "app.pdb" / "0123456789ABCDEF0123456789ABCDEF0"
    folder.mkdir(parents=True)
    (folder / "app.sym").write_text(SYM)
    assert SimpleSymbols([tmp_path]).has_symbols(module("app.pdb", 0x400000, 0x10000))


def test_add_by_hand() -> None:
    lookup = SimpleSymbols()
    lookup.add("app", "0123456789abcdef0123456789abcdef0", SYM)
    assert lookup.function_at(module("app", 0, 0x10000), 0x1100) == "second one"
