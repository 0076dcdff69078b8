from __future__ import annotations

import crashcart.symbols


def test_exported_members() -> None:
    exported = {name for name in dir(crashcart.symbols) if not name.startswith("_")}
    assert set(crashcart.symbols.__all__) <= exported
    assert {"SymbolProvider", "SymbolCache", "SymbolSource", "build_symbol_provider", "sym_path"} <= set(
        crashcart.symbols.__all__
    )
