from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crashcart.symbols.cache import SymbolCache
from crashcart.symbols.interfaces import SymbolMalformed
from crashcart.symbols.symfile import SymLimits, scan_sym_file
from tests.symbols.conftest import STORE, TEST_FILE, TEST_ID

HEADER = b"MODULE Linux x86_64 ABCDEF0123456789ABCDEF01234567890 t\n"


def test_scan_collects_identity_and_unwind_records() -> None:
    scan = scan_sym_file(STORE / TEST_FILE / TEST_ID / "test.sym")
    assert (scan.os, scan.arch, scan.debug_id, scan.debug_file) == ("windows", "x86", TEST_ID, TEST_FILE)
    assert (scan.code_id, scan.code_file) == ("5F3A1B2C9000", "test.dll")
    assert [(s, n) for s, n, _ in scan.cfi.init] == [(0x2000, 0x40), (0x3000, 0x20)]
    assert [(i, a) for i, a, _ in scan.cfi.deltas] == [(0, 0x2001), (0, 0x2003)]
    assert [(k, s) for k, s, _, _ in scan.cfi.win] == [(4, 0x2000), (0, 0x2000), (0, 0x3000)]
    assert scan.cfi.parameter_sizes == [(0x1000, 4), (0x2000, 8)]
    assert scan.bad_records == 0


def test_crlf_and_bad_stack_records_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "x.sym"
    path.write_bytes(
        HEADER.replace(b"\n", b"\r\n")
        + b"STACK CFI 10 .cfa: $rsp 8 +\r\n"  # delta before any INIT
        + b"STACK CFI INIT zz 10 .cfa: x\r\n"
        + b"STACK WIN 4 10\r\n"
        + b"FUNC m zz 10 4 f\r\n"
        + b"STACK CFI INIT 10 20 .cfa: $rsp 8 + .ra: .cfa -8 + ^\r\r\n"
    )
    scan = scan_sym_file(path)
    assert scan.bad_records == 4
    assert scan.cfi.init == [(0x10, 0x20, ".cfa: $rsp 8 + .ra: .cfa -8 + ^")]


@pytest.mark.parametrize(
    ("content", "limits", "message"),
    [
        (b"", SymLimits(), "not a Breakpad symbol file"),
        (b"\x7fELF\x02\x01\x01", SymLimits(), "not a Breakpad symbol file"),
        (b"MODULE Linux\n", SymLimits(), "too few fields"),
        (HEADER + b"FUNC 1 2 0 " + b"x" * 5000 + b"\n", SymLimits(max_line_length=1000), "longer than"),
        (HEADER + b"PUBLIC 1 0 a\n" * 11, SymLimits(max_records=10), "more than 10 records"),
        (HEADER + b"STACK CFI INIT q\n" * 3, SymLimits(max_bad_records=2), "unparsable"),
        (HEADER + b"PUBLIC 1 0 a\n" * 100, SymLimits(max_file_size=100), "over the 100-byte limit"),
    ],
)
def test_bounds_and_shape(tmp_path: Path, content: bytes, limits: SymLimits, message: str) -> None:
    path = tmp_path / "x.sym"
    path.write_bytes(content)
    with pytest.raises(SymbolMalformed, match=message):
        scan_sym_file(path, limits)


def test_line_without_newline_at_the_end_of_file(tmp_path: Path) -> None:
    path = tmp_path / "x.sym"
    path.write_bytes(HEADER + b"STACK CFI INIT 10 20 .cfa: $rsp 8 +")
    assert scan_sym_file(path, SymLimits(max_line_length=100)).cfi.init == [(0x10, 0x20, ".cfa: $rsp 8 +")]


_LINES = st.sampled_from(
    [
        b"FUNC 10 20 0 f",
        b"FUNC m 10 20 4 f",
        b"10 4 7 1",
        b"PUBLIC 8 0 p",
        b"FILE 1 a.c",
        b"INLINE 0 1 1 0 10 4",
        b"INLINE_ORIGIN 0 g",
        b"STACK CFI INIT 10 20 .cfa: $rsp 8 +",
        b"STACK CFI 12 .cfa: $rsp 16 +",
        b"STACK WIN 4 10 20 0 0 0 0 0 0 1 $T0 =",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(_LINES, st.binary(max_size=40)), max_size=30))
def test_any_content_converts_or_is_malformed(tmp_path: Path, lines: list[bytes]) -> None:
    cache = SymbolCache(tmp_path / uuid.uuid4().hex)
    data = HEADER + b"\n".join(line.replace(b"\n", b" ") for line in lines)
    try:
        module = cache.load("t", "ABCDEF0123456789ABCDEF01234567890", lambda: data)
    except SymbolMalformed:
        return
    module.symcache.lookup(0x12)
    module.cfi.cfi_rules(0x12)
    module.cfi.win_records(0x12)
