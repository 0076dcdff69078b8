from __future__ import annotations

from pathlib import Path

import pytest

from crashcart.symbols.cfi import (
    CfiIndex,
    CfiRange,
    CfiRecords,
    parse_rule_set,
    parse_win_record,
    write_cfi_index,
)
from crashcart.symbols.interfaces import SymbolMalformed


def _index(tmp_path: Path, records: CfiRecords) -> CfiIndex:
    write_cfi_index(records, tmp_path / "cfi")
    return CfiIndex(tmp_path / "cfi")


def test_rules_and_deltas_up_to_the_address(tmp_path: Path) -> None:
    records = CfiRecords(
        init=[(0x100, 0x20, ".cfa: $rsp 8 + .ra: .cfa -8 + ^"), (0x10, 0x8, ".cfa: $rsp 8 +")],
        deltas=[(0, 0x108, ".cfa: $rsp 24 +"), (0, 0x104, ".cfa: $rsp 16 +"), (0, 0x200, ".cfa: out of range")],
    )
    index = _index(tmp_path, records)
    assert index.cfi_rules(0x100) == CfiRange(0x100, 0x20, ".cfa: $rsp 8 + .ra: .cfa -8 + ^", ())
    at = index.cfi_rules(0x106)
    assert at is not None
    assert at.deltas == ((0x104, ".cfa: $rsp 16 +"),)
    last = index.cfi_rules(0x11F)
    assert last is not None
    assert [addr for addr, _ in last.deltas] == [0x104, 0x108]
    assert last.merged() == {".cfa": "$rsp 24 +", ".ra": ".cfa -8 + ^"}
    assert index.cfi_rules(0x120) is None
    assert index.cfi_rules(0xF) is None
    assert index.cfi_rules(0x17) is not None


def test_overlapping_init_ranges_keep_the_first(tmp_path: Path) -> None:
    index = _index(tmp_path, CfiRecords(init=[(0x100, 0x20, "a: 1"), (0x110, 0x20, "b: 2"), (0x100, 0, "c: 3")]))
    assert [index.cfi_rules(a).init_rules for a in (0x100, 0x11F)] == ["a: 1", "a: 1"]  # type: ignore[union-attr]
    assert index.cfi_rules(0x125) is None


def test_empty_index(tmp_path: Path) -> None:
    index = _index(tmp_path, CfiRecords())
    assert not index.has_cfi
    assert index.cfi_rules(0) is None
    assert index.win_records(0) == []


def test_win_records_innermost_and_frame_data_first(tmp_path: Path) -> None:
    fpo = "0 1000 100 0 0 4 0 8 0 0 1"
    nested_fpo = "0 1010 10 0 0 0 0 0 0 0 0"
    frame_data = "4 1000 100 3 0 8 0 4 0 1 $T0 $ebp = $eip $T0 4 + ^ ="
    index = _index(
        tmp_path,
        CfiRecords(win=[(0, 0x1000, 0x100, fpo), (0, 0x1010, 0x10, nested_fpo), (4, 0x1000, 0x100, frame_data)]),
    )
    found = index.win_records(0x1012)
    assert [(w.type, w.rva) for w in found] == [(4, 0x1000), (0, 0x1010)]
    assert found[0].program_string == "$T0 $ebp = $eip $T0 4 + ^ ="
    assert [(w.type, w.rva, w.allocates_base_pointer) for w in index.win_records(0x1030)] == [
        (4, 0x1000, False),
        (0, 0x1000, True),
    ]
    assert index.win_records(0x1100) == []


def test_parse_win_record() -> None:
    info = parse_win_record("0 2000 40 3 0 8 0 4 0 0 1")
    assert (info.parameter_size, info.local_size, info.program_string, info.allocates_base_pointer) == (
        8,
        4,
        None,
        True,
    )
    with pytest.raises(ValueError, match="too few"):
        parse_win_record("4 2000 40")


def test_parse_rule_set() -> None:
    assert parse_rule_set("junk .cfa: sp 16 + x29: .cfa -16 + ^ .ra: x30") == {
        ".cfa": "sp 16 +",
        "x29": ".cfa -16 + ^",
        ".ra": "x30",
    }


def test_truncated_or_foreign_index_is_malformed(tmp_path: Path) -> None:
    write_cfi_index(CfiRecords(init=[(1, 2, "a: 1")]), tmp_path / "cfi")
    data = (tmp_path / "cfi").read_bytes()
    (tmp_path / "short").write_bytes(data[:-8])
    (tmp_path / "foreign").write_bytes(b"X" * 64)
    (tmp_path / "tiny").write_bytes(b"X")
    for name in ("short", "foreign", "tiny"):
        with pytest.raises(SymbolMalformed):
            CfiIndex(tmp_path / name)


@pytest.mark.parametrize("starts", [[0x10, 0x18, 0x18, 0x30], [0x30, 0x10, 0x18, 0x18]])
def test_line_start_is_the_nearest_record_start_below(tmp_path: Path, starts: list[int]) -> None:
    """Line-record starts in file order (sorted as dump_syms writes them, or not), repeats dropped."""
    from array import array

    index = _index(tmp_path, CfiRecords(line_starts=array("Q", starts)))
    assert index.line_start(0x0F) is None
    assert index.line_start(0x10) == 0x10
    assert index.line_start(0x17) == 0x10
    assert index.line_start(0x2F) == 0x18
    assert index.line_start(0x1000) == 0x30
    assert _index(tmp_path, CfiRecords()).line_start(0x10) is None
