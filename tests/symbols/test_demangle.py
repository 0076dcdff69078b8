"""``_symbolic.demangle``: Itanium C++ (and legacy Rust) names as Breakpad prints them; hostile names are left
as they are, quickly."""

from __future__ import annotations

import time

import pytest

from crashcart.symbols._symbolic import MAX_MANGLED_LENGTH, demangle


@pytest.mark.parametrize(
    ("mangled", "expected"),
    [
        ("_ZN15google_breakpad18MinidumpFileWriter4OpenEPKc", "google_breakpad::MinidumpFileWriter::Open(char const*)"),
        (
            "__ZN15google_breakpad18MinidumpFileWriter4OpenEPKc",
            "google_breakpad::MinidumpFileWriter::Open(char const*)",
        ),
        ("_ZNKSt6vectorIiSaIiEE4sizeEv", "std::vector<int, std::allocator<int> >::size() const"),
        ("_ZN4core3fmt5write17h0123456789abcdefE", "core::fmt::write"),  # legacy Rust: hash dropped
        ("main", "main"),
        ("_RNvCs1234_7mycrate3foo", "_RNvCs1234_7mycrate3foo"),  # Rust v0: left mangled
        ("_Zxx", "_Zxx"),  # not a valid name
        ("", ""),
    ],
)
def test_demangle(mangled: str, expected: str) -> None:
    assert demangle(mangled) == expected


@pytest.mark.parametrize(
    "hostile",
    [
        "_Z1f" + "P" * 4000 + "v",  # deep nesting: the demangler's recursion limit
        "_Z" + "A1_" * 1300 + "i",
        "_ZN1a" + "IS_" * 1300,
        "_Z1f" + "P" * (MAX_MANGLED_LENGTH + 10) + "v",  # over the length bound: not even tried
    ],
)
def test_hostile_names_are_left_mangled_quickly(hostile: str) -> None:
    start = time.monotonic()
    assert demangle(hostile) == hostile
    assert time.monotonic() - start < 1.0
