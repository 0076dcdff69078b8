"""Every SymbolLookup implementation answers the same questions the same way for a module it does not know."""

from __future__ import annotations

import pytest

import crashcart.stackwalk
from crashcart.stackwalk import CfiRules, NoSymbols, SymbolLookup
from tests.stackwalk.helpers import module
from tests.stackwalk.simple_symbols import SimpleSymbols

UNKNOWN = module("unknown", 0x1000, 0x1000)


@pytest.mark.parametrize("lookup", [NoSymbols(), SimpleSymbols(), SimpleSymbols(["/nonexistent"])])
def test_lookup_conformance(lookup: SymbolLookup) -> None:
    assert isinstance(lookup, SymbolLookup)
    assert lookup.has_symbols(UNKNOWN) is False
    assert lookup.function_at(UNKNOWN, 0) is None
    assert lookup.cfi_rules(UNKNOWN, 0) is None
    assert lookup.windows_frame_info(UNKNOWN, 0) is None


def test_cfi_rules_parse_without_rules() -> None:
    assert CfiRules.parse("").rules == {}
    assert CfiRules.parse(".cfa:").rules == {".cfa": ""}


def test_public_api() -> None:
    assert set(crashcart.stackwalk.__all__) == {
        "WALKER_VERSION",
        "CfiRules",
        "Frame",
        "NoSymbols",
        "SymbolLookup",
        "ThreadStack",
        "Trust",
        "WalkOptions",
        "WalkResult",
        "WindowsFrameInfo",
        "caller_registers",
        "evaluate",
        "run_program",
        "walk",
        "walk_stack",
    }
    for name in crashcart.stackwalk.__all__:
        assert hasattr(crashcart.stackwalk, name)
