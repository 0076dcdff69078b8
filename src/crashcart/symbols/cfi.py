"""Unwind records (``STACK CFI`` and ``STACK WIN``) in an indexed binary file the stack walker queries by address,
with the line-record starts the text output needs (symbolic's SymCache lookups do not report them).

The converter (``symfile.scan_sym_file``) collects the records; ``write_cfi_index`` sorts them into flat
arrays and one string blob; ``CfiIndex`` maps the file (``mmap``) and answers with binary searches, so loading
costs nothing in proportion to the number of records.

File layout (native byte order, recorded in the magic, so a file from another byte order is rebuilt)::

    header   <magic 8s> <version u32> <n_init u32> <n_delta u32> <n_win u32> <n_param u32> <n_line u32>
             <blob_size u64>
    init     start u64[n] end u64[n] rules_off u64[n] rules_len u32[n] first_delta u32[n] delta_count u32[n]
    delta    addr u64[n] rules_off u64[n] rules_len u32[n]          (grouped by INIT, sorted by addr)
    win      start u64[n] end u64[n] rec_off u64[n] rec_len u32[n] type u32[n]   (sorted by start)
    param    addr u64[n] size u32[n]       FUNC/PUBLIC start → parameter size (non-zero only, sorted)
    line     addr u64[n]                   line-record starts (sorted, distinct); empty for native debug files
    blob     UTF-8 rule strings / STACK WIN field strings
"""

from __future__ import annotations

import bisect
import contextlib
import mmap
import struct
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from crashcart.symbols.interfaces import SymbolMalformed

CFI_FORMAT_VERSION = 2
MAGIC = b"CCCFI-LE" if sys.byteorder == "little" else b"CCCFI-BE"
_HEADER = struct.Struct("=8sIIIIIIQ")

WIN_TYPE_FPO = 0
WIN_TYPE_FRAME_DATA = 4
WIN_LOOKBACK = 16
"""STACK WIN ranges may nest; a query looks at this many earlier-starting records for an enclosing one."""


@dataclass(frozen=True)
class CfiRules:
    """The ``STACK CFI`` rules that apply at one address, as strings in the file's own syntax.

    ``init_rules`` come from the ``STACK CFI INIT`` record covering ``[start, start + size)``; ``deltas`` are
    the ``STACK CFI`` records of that range with ``addr ≤`` the queried address, in increasing address order.
    """

    start: int
    size: int
    init_rules: str
    deltas: tuple[tuple[int, str], ...] = ()

    def merged(self) -> dict[str, str]:
        """Register → postfix expression after applying the deltas in order (later rules replace earlier)."""
        rules = parse_rule_set(self.init_rules)
        for _, delta in self.deltas:
            rules.update(parse_rule_set(delta))
        return rules


@dataclass(frozen=True)
class WinFrameInfo:
    """One ``STACK WIN`` record (all numbers already decoded from hex)."""

    type: int
    rva: int
    code_size: int
    prolog_size: int
    epilog_size: int
    parameter_size: int
    saved_register_size: int
    local_size: int
    max_stack_size: int
    program_string: str | None
    allocates_base_pointer: bool


def parse_rule_set(text: str) -> dict[str, str]:
    """``".cfa: $rsp 8 + .ra: .cfa -8 + ^"`` → ``{".cfa": "$rsp 8 +", ".ra": ".cfa -8 + ^"}``.

    A token ending in ``:`` starts a register; tokens before the first register are ignored.
    """
    rules: dict[str, str] = {}
    register: str | None = None
    expression: list[str] = []
    for token in text.split():
        if token.endswith(":") and len(token) > 1:
            if register is not None:
                rules[register] = " ".join(expression)
            register, expression = token[:-1], []
        else:
            expression.append(token)
    if register is not None:
        rules[register] = " ".join(expression)
    return rules


def parse_win_record(text: str) -> WinFrameInfo:
    """The fields after ``STACK WIN ``; ``ValueError`` if they are not a valid record."""
    parts = text.split(" ", 10)
    if len(parts) < 11:
        raise ValueError("STACK WIN record has too few fields")
    numbers = [int(p, 16) for p in parts[:10]]
    has_program = numbers[9] != 0
    rest = parts[10]
    if has_program:
        program: str | None = rest
        allocates = False
    else:
        program = None
        allocates = int(rest.split(" ", 1)[0], 16) != 0
    return WinFrameInfo(
        type=numbers[0],
        rva=numbers[1],
        code_size=numbers[2],
        prolog_size=numbers[3],
        epilog_size=numbers[4],
        parameter_size=numbers[5],
        saved_register_size=numbers[6],
        local_size=numbers[7],
        max_stack_size=numbers[8],
        program_string=program,
        allocates_base_pointer=allocates,
    )


@dataclass
class CfiRecords:
    """What the converter collected, in file order (``init`` deltas refer to their INIT by index)."""

    init: list[tuple[int, int, str]] = field(default_factory=list)  # start, size, rules
    deltas: list[tuple[int, int, str]] = field(default_factory=list)  # init index, addr, rules
    win: list[tuple[int, int, int, str]] = field(default_factory=list)  # type, start, size, fields
    parameter_sizes: list[tuple[int, int]] = field(default_factory=list)  # FUNC/PUBLIC address, param size
    line_starts: array[int] = field(default_factory=lambda: array("Q"))  # line-record addresses, file order


def write_cfi_index(records: CfiRecords, path: Path) -> None:
    """Sort ``records`` into the indexed layout and write them to ``path``.

    ``STACK CFI INIT`` ranges are exclusive, as in Breakpad's ``RangeMap``: a range overlapping one that
    starts earlier is dropped. Deltas outside their INIT's range are dropped.
    """
    blob = bytearray()

    def put(text: str) -> tuple[int, int]:
        encoded = text.encode("utf-8", "surrogateescape")
        offset = len(blob)
        blob.extend(encoded)
        return offset, len(encoded)

    deltas_of: dict[int, list[tuple[int, str]]] = {}
    for init_index, addr, rules in records.deltas:
        deltas_of.setdefault(init_index, []).append((addr, rules))

    init_start, init_end, init_off = array("Q"), array("Q"), array("Q")
    init_len, init_first, init_count = array("I"), array("I"), array("I")
    delta_addr, delta_off, delta_len = array("Q"), array("Q"), array("I")
    last_end = -1
    order = sorted(range(len(records.init)), key=lambda i: (records.init[i][0], i))
    for index in order:
        start, size, rules = records.init[index]
        end = start + size
        if size == 0 or start < last_end or end > 0xFFFFFFFFFFFFFFFF:
            continue
        last_end = end
        offset, length = put(rules)
        init_start.append(start)
        init_end.append(end)
        init_off.append(offset)
        init_len.append(length)
        init_first.append(len(delta_addr))
        kept = 0
        for addr, delta in sorted(deltas_of.get(index, ()), key=lambda item: item[0]):
            if start <= addr < end:
                offset, length = put(delta)
                delta_addr.append(addr)
                delta_off.append(offset)
                delta_len.append(length)
                kept += 1
        init_count.append(kept)

    win_start, win_end, win_off = array("Q"), array("Q"), array("Q")
    win_len, win_type = array("I"), array("I")
    for kind, start, size, text in sorted(records.win, key=lambda item: (item[1], -item[2])):
        if start + size > 0xFFFFFFFFFFFFFFFF:
            continue
        offset, length = put(text)
        win_start.append(start)
        win_end.append(start + size)
        win_off.append(offset)
        win_len.append(length)
        win_type.append(kind)

    param_addr, param_size = array("Q"), array("I")
    last_addr = -1
    for addr, size in sorted(records.parameter_sizes):
        if addr != last_addr and addr <= 0xFFFFFFFFFFFFFFFF and size <= 0xFFFFFFFF:
            param_addr.append(addr)
            param_size.append(size)
            last_addr = addr

    line_addr = _sorted_distinct(records.line_starts)

    with path.open("wb") as out:
        out.write(
            _HEADER.pack(
                MAGIC,
                CFI_FORMAT_VERSION,
                len(init_start),
                len(delta_addr),
                len(win_start),
                len(param_addr),
                len(line_addr),
                len(blob),
            )
        )
        for arr in _arrays(
            (init_start, init_end, init_off, init_len, init_first, init_count),
            (delta_addr, delta_off, delta_len),
            (win_start, win_end, win_off, win_len, win_type),
            (param_addr, param_size),
            (line_addr,),
        ):
            out.write(arr.tobytes())
        out.write(blob)


def _sorted_distinct(values: array[int]) -> array[int]:
    """``values`` sorted without repeats. dump_syms writes line records in address order, so the common case
    is one pass that builds no Python list (Firefox's ``xul.sym`` has millions of line records)."""
    out = array("Q")
    previous = -1
    for value in values:
        if value < previous:
            return array("Q", sorted(set(values)))
        if value != previous:
            out.append(value)
            previous = value
    return out


def _arrays(*groups: Iterable[array[int]]) -> Iterable[array[int]]:
    for group in groups:
        yield from group


class CfiIndex:
    """A mapped CFI index file; queries are binary searches over the mapped arrays."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            if size < _HEADER.size:
                raise SymbolMalformed(f"{path}: truncated CFI index")
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(self._map)
        magic, version, n_init, n_delta, n_win, n_param, n_line, blob_size = _HEADER.unpack_from(view)
        if magic != MAGIC or version != CFI_FORMAT_VERSION:
            raise SymbolMalformed(f"{path}: not a CFI index of version {CFI_FORMAT_VERSION}")
        position = _HEADER.size

        def take(code: Literal["Q", "I"], count: int) -> memoryview[int]:
            nonlocal position
            width = 8 if code == "Q" else 4
            end = position + width * count
            if end > size:
                raise SymbolMalformed(f"{path}: truncated CFI index")
            part = view[position:end].cast("B").cast(code)
            position = end
            return part

        # Arrays are laid out Q-arrays first within each group and each group's byte size keeps Q alignment
        # only where needed; memoryview.cast does not require alignment, so no padding is written.
        self._init_start = take("Q", n_init)
        self._init_end = take("Q", n_init)
        self._init_off = take("Q", n_init)
        self._init_len = take("I", n_init)
        self._init_first = take("I", n_init)
        self._init_count = take("I", n_init)
        self._delta_addr = take("Q", n_delta)
        self._delta_off = take("Q", n_delta)
        self._delta_len = take("I", n_delta)
        self._win_start = take("Q", n_win)
        self._win_end = take("Q", n_win)
        self._win_off = take("Q", n_win)
        self._win_len = take("I", n_win)
        self._win_type = take("I", n_win)
        self._param_addr = take("Q", n_param)
        self._param_size = take("I", n_param)
        self._line_addr = take("Q", n_line)
        if position + blob_size > size:
            raise SymbolMalformed(f"{path}: truncated CFI index")
        self._blob = view[position : position + blob_size]

    @property
    def has_cfi(self) -> bool:
        return len(self._init_start) > 0 or len(self._win_start) > 0

    def _text(self, offset: int, length: int) -> str:
        return bytes(self._blob[offset : offset + length]).decode("utf-8", "surrogateescape")

    def cfi_rules(self, address: int) -> CfiRules | None:
        """The ``STACK CFI`` rules covering ``address`` (module-relative), or ``None``."""
        index = bisect.bisect_right(self._init_start, address) - 1
        if index < 0 or address >= self._init_end[index]:
            return None
        first = self._init_first[index]
        count = self._init_count[index]
        stop = bisect.bisect_right(self._delta_addr, address, first, first + count)
        deltas = tuple(
            (self._delta_addr[i], self._text(self._delta_off[i], self._delta_len[i])) for i in range(first, stop)
        )
        start = self._init_start[index]
        return CfiRules(
            start=start,
            size=self._init_end[index] - start,
            init_rules=self._text(self._init_off[index], self._init_len[index]),
            deltas=deltas,
        )

    def win_records(self, address: int) -> list[WinFrameInfo]:
        """``STACK WIN`` records covering ``address``: the innermost of each type, FrameData (4) first.

        Records that fail to parse are skipped (Breakpad skips bad lines too).
        """
        found: dict[int, WinFrameInfo] = {}
        index = bisect.bisect_right(self._win_start, address) - 1
        low = max(-1, index - WIN_LOOKBACK)
        while index > low:
            kind = self._win_type[index]
            if kind not in found and address < self._win_end[index]:
                with contextlib.suppress(ValueError):
                    found[kind] = parse_win_record(self._text(self._win_off[index], self._win_len[index]))
            index -= 1
        return [found[kind] for kind in sorted(found, key=lambda k: (k != WIN_TYPE_FRAME_DATA, k))]

    def parameter_size(self, function_address: int) -> int:
        """The ``param_size`` of the FUNC or PUBLIC starting at ``function_address`` (0 if none or zero).

        The x86 STACK WIN evaluation needs it for the frame's callee (``.cbCalleeParams``).
        """
        index = bisect.bisect_left(self._param_addr, function_address)
        if index < len(self._param_addr) and self._param_addr[index] == function_address:
            return self._param_size[index]
        return 0

    def line_start(self, address: int) -> int | None:
        """The start of the line record covering ``address``: the greatest line-record start ≤ ``address``.

        The caller knows a line record covers ``address`` (the SymCache returned a file for it); line records
        of one function do not overlap, so the nearest start below is that record's. ``None`` when the index
        has no line records (native debug files).
        """
        index = bisect.bisect_right(self._line_addr, address) - 1
        return None if index < 0 else self._line_addr[index]
