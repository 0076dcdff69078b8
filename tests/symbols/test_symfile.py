from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crashcart.symbols import symfile
from crashcart.symbols.cache import SymbolCache
from crashcart.symbols.cfi import CfiIndex, write_cfi_index
from crashcart.symbols.interfaces import SymbolMalformed
from crashcart.symbols.symfile import SymLimits, SymScan, _line_scan, scan_sym_file
from tests.helpers.shared import CORPUS
from tests.symbols.conftest import STORE, TEST_FILE, TEST_ID

HEADER = b"MODULE Linux x86_64 ABCDEF0123456789ABCDEF01234567890 t\n"


def test_scan_collects_identity_and_unwind_records() -> None:
    scan = scan_sym_file(STORE / TEST_FILE / TEST_ID / "test.sym")
    assert (scan.os, scan.arch, scan.debug_id, scan.debug_file) == ("windows", "x86", TEST_ID, TEST_FILE)
    assert (scan.code_id, scan.code_file) == ("5F3A1B2C9000", "test.dll")
    assert [(s, n) for s, n, _ in scan.cfi.all_inits()] == [(0x2000, 0x40), (0x3000, 0x20)]
    assert [(i, a) for i, a, _ in scan.cfi.all_deltas()] == [(0, 0x2001), (0, 0x2003)]
    assert [(k, s) for k, s, _, _ in scan.cfi.all_win()] == [(4, 0x2000), (0, 0x2000), (0, 0x3000)]
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
    assert scan_sym_file(path, SymLimits(max_line_length=100)).cfi.all_inits() == [(0x10, 0x20, ".cfa: $rsp 8 +")]


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


def _same_scan(fast: SymScan, slow: SymScan) -> None:
    assert (fast.os, fast.arch, fast.debug_id, fast.debug_file) == (slow.os, slow.arch, slow.debug_id, slow.debug_file)
    assert (fast.code_id, fast.code_file, fast.records, fast.bad_records) == (
        slow.code_id,
        slow.code_file,
        slow.records,
        slow.bad_records,
    )
    assert fast.cfi.all_inits() == slow.cfi.all_inits()
    assert fast.cfi.all_deltas() == slow.cfi.all_deltas()
    assert fast.cfi.all_win() == slow.cfi.all_win()
    assert sorted(fast.cfi.parameter_sizes) == sorted(slow.cfi.parameter_sizes)
    assert fast.cfi.line_starts == slow.cfi.line_starts


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.one_of(
            _LINES,
            st.sampled_from(
                [
                    b"INFO CODE_ID 5F3A 1B.dll",
                    b"FILE 2 b.c",
                    b"FIXME 1",
                    b"FUNCX 1",
                    b"0x10 4 7 1",
                    b"STACK CFI 13 .cfa: \xc3\xa9",
                    b"STACK CFI 14 .cfa: \xff",
                    b"STACK CFI INIT 30 0 .cfa: $rsp 8 +",
                    b"STACK WIN 0 10 20 0 0 0 0 0 0 0 1",
                    b"STACK WIN 0 10 20 0 0 0 0 0 0 0",
                    b"FUNC 20 10 00 g",
                    b"PUBLIC m 30 8 h",
                    b"",
                ]
            ),
            st.binary(max_size=20),
        ),
        max_size=30,
    ),
    crlf=st.booleans(),
    trailing_newline=st.booleans(),
)
def test_fast_scan_matches_the_line_scan(
    tmp_path: Path, lines: list[bytes], crlf: bool, trailing_newline: bool
) -> None:
    """Whatever the content, the scan (fast path or not) says what the line-by-line scan says."""
    path = tmp_path / f"{uuid.uuid4().hex}.sym"
    data = HEADER + b"\n".join(line.replace(b"\n", b" ") for line in lines) + (b"\n" if trailing_newline else b"")
    path.write_bytes(data.replace(b"\n", b"\r\n") if crlf else data)
    limits = SymLimits(max_line_length=60, max_records=25, max_bad_records=3)
    try:
        slow = _line_scan(path, limits)
    except SymbolMalformed as exc:
        with pytest.raises(SymbolMalformed, match=str(exc)[:20]):
            scan_sym_file(path, limits)
        return
    _same_scan(scan_sym_file(path, limits), slow)


def test_fast_scan_over_the_fixture_and_the_corpus() -> None:
    paths = [STORE / TEST_FILE / TEST_ID / "test.sym"]
    corpus = CORPUS
    if corpus.is_dir():
        paths += sorted(p for p in corpus.glob("*/symbols/*/*/*.sym") if p.stat().st_size < 4 << 20)[:40]
    for path in paths:
        _same_scan(scan_sym_file(path), _line_scan(path, SymLimits()))


def test_indexes_from_both_scans_answer_alike(tmp_path: Path) -> None:
    """The index written from the fast scan's records (raw delta text, bytes) answers every query as the one
    written from the line scan's."""
    corpus = CORPUS
    paths = [STORE / TEST_FILE / TEST_ID / "test.sym"]
    if corpus.is_dir():
        paths += sorted(p for p in corpus.glob("*/symbols/*/*/*.sym") if p.stat().st_size < 2 << 20)[:12]
    for number, path in enumerate(paths):
        fast, slow = scan_sym_file(path), _line_scan(path, SymLimits())
        write_cfi_index(fast.cfi, tmp_path / f"{number}.fast")
        write_cfi_index(slow.cfi, tmp_path / f"{number}.slow")
        one, two = CfiIndex(tmp_path / f"{number}.fast"), CfiIndex(tmp_path / f"{number}.slow")
        probes = {a + d for a, _, _ in slow.cfi.all_inits()[:300] for d in (-1, 0, 1, 7, 64)}
        probes |= {a + d for _, a, _, _ in slow.cfi.all_win()[:300] for d in (0, 3)}
        probes |= {a + d for a, _ in slow.cfi.parameter_sizes[:300] for d in (0, 1)}
        probes |= {a + 1 for a in slow.cfi.line_starts[:300]}
        for address in sorted(probes):
            assert one.cfi_rules(address) == two.cfi_rules(address), (path, hex(address))
            assert one.win_records(address) == two.win_records(address), (path, hex(address))
            assert one.parameter_size(address) == two.parameter_size(address)
            assert one.line_start(address) == two.line_start(address)


@pytest.mark.parametrize("block", [64, 4096])
def test_fast_scan_across_block_boundaries(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """Small blocks: records cut across reads give the same scan (or the line scan's, when an INIT's deltas do
    not fit in one block)."""
    monkeypatch.setattr(symfile, "_BLOCK", block)
    paths = [STORE / TEST_FILE / TEST_ID / "test.sym"]
    corpus = CORPUS
    if corpus.is_dir():
        paths += sorted(p for p in corpus.glob("*/symbols/*/*/*.sym") if p.stat().st_size < 1 << 20)[:25]
    for path in paths:
        _same_scan(scan_sym_file(path), _line_scan(path, SymLimits()))


@pytest.mark.parametrize(
    "record",
    [
        b"STACK WIN 4 -10 20 0 0 0 0 0 0 1 $T0 =",
        b"STACK WIN -4 10 20 0 0 0 0 0 0 1 $T0 =",
        b"STACK WIN 4 10 -20 0 0 0 0 0 0 0 1",
        b"STACK CFI INIT -1 10 .cfa: $rsp 8 +",
        b"STACK CFI INIT -10 10 .cfa: $rsp 8 +",
        b"FUNC -10 20 4 f",
        b"PUBLIC 10 -4 p",
    ],
)
def test_signed_hex_fields_are_dropped_not_fatal(tmp_path: Path, record: bytes) -> None:
    """``int(x, 16)`` accepts a sign; such a record cannot be stored in the index and must not break the
    conversion (it used to raise ``OverflowError``)."""
    data = HEADER + record + b"\nSTACK CFI INIT 20 10 .cfa: $rsp 8 +\n"
    try:
        module = SymbolCache(tmp_path).load("t", "ABCDEF0123456789ABCDEF01234567890", lambda: data)
    except SymbolMalformed:
        return  # symbolic refuses some of them (a FUNC at -0x10): the file is malformed, which is fine too
    assert module.cfi.cfi_rules(0x20) is not None
    assert module.cfi.win_records(0x10) == []
    assert module.cfi.parameter_size(0x10) == 0


@pytest.mark.parametrize(
    ("records", "tail"),
    [
        (b"FUNC 1000 6 0 f\nPUBLIC 1001 0 f\n", 0x1001),  # the PUBLIC after the last FUNC's start (thumb bit)
        (b"PUBLIC 800 0 p\nFUNC 1000 6 0 f\n", None),  # the last FUNC starts above every PUBLIC
        (b"FUNC m 1000 6 0 f\nPUBLIC m 2000 0 q\nPUBLIC 1800 0 r\n", 0x2000),
        (b"FUNC 1000 6 0 f\n", None),
    ],
)
def test_tail_public(tmp_path: Path, records: bytes, tail: int | None) -> None:
    path = tmp_path / "t.sym"
    path.write_bytes(HEADER + records)
    assert scan_sym_file(path).tail_public == tail
    assert _line_scan(path, SymLimits()).tail_public == tail
