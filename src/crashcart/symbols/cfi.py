"""Unwind records (``STACK CFI`` and ``STACK WIN``) in an indexed binary file the stack walker queries by address,
with the line-record starts the text output needs (symbolic's SymCache lookups do not report them).

The converter (``symfile.scan_sym_file``) collects the records; ``write_cfi_index`` sorts them into flat
arrays and one string blob (version 3 keeps each INIT's deltas as one piece of text, so converting a file does
no per-delta work); ``CfiIndex`` maps the file (``mmap``) and answers with binary searches, so loading
costs nothing in proportion to the number of records.

File layout (native byte order, recorded in the magic, so a file from another byte order is rebuilt)::

    header   <magic 8s> <version u32> <n_init u32> <n_win u32> <n_param u32> <n_line u32> <blob_size u64>
    init     start u64[n] end u64[n] rules_off u64[n] rules_len u64[n] deltas_off u64[n] deltas_len u64[n]
             (sorted by start, not overlapping; the deltas are the INIT's ``STACK CFI`` lines as text, parsed,
             range-checked and sorted by address when a lookup first lands in the INIT: most never are)
    win      start u64[n] end u64[n] rec_off u64[n] rec_len u32[n] type u32[n]   (sorted by start)
    param    addr u64[n] size u32[n]       FUNC/PUBLIC start → parameter size (non-zero only, sorted)
    line     addr u64[n]                   line-record starts (sorted); empty for native debug files
    blob     UTF-8 rule strings / STACK WIN field strings
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import mmap
import operator
import struct
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from crashcart.symbols.interfaces import SymbolMalformed

CFI_FORMAT_VERSION = 3
MAGIC = b"CCCFI-LE" if sys.byteorder == "little" else b"CCCFI-BE"
_HEADER = struct.Struct("=8sIIIIIQ")

WIN_TYPE_FPO = 0
WIN_TYPE_FRAME_DATA = 4
WIN_LOOKBACK = 16
"""STACK WIN ranges may nest; a query looks at this many earlier-starting records for an enclosing one."""


@dataclass(frozen=True)
class CfiRange:
    """The ``STACK CFI INIT`` range covering one address and its deltas up to it, as strings in the file's own
    syntax (the stack walker's ``CfiRules`` is the merged register → expression view, ``merged()``).

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
    """What the converter collected, in file order.

    ``STACK CFI`` records come in one of two forms (a file's records are in one of them; the writer takes both):
    ``init``/``deltas`` (deltas refer to their INIT by index), as the line-by-line scanner and
    ``scan_stack_records`` collect them; or the fast scanner's parallel ``init_*`` lists, where each INIT's deltas
    are the raw text of the ``STACK CFI`` lines that follow it (``b"\\nSTACK CFI <addr> <rules>"`` each, already
    checked), kept as text in the index and parsed only when a lookup lands in that INIT's range.
    """

    init: list[tuple[int, int, str]] = field(default_factory=list)  # start, size, rules
    deltas: list[tuple[int, int, str]] = field(default_factory=list)  # init index, addr, rules
    win: list[tuple[int, int, int, str]] = field(default_factory=list)  # type, start, size, fields
    win_raw: list[tuple[int, int, int, bytes]] = field(default_factory=list)  # the same, UTF-8 (fast scanner)
    parameter_sizes: list[tuple[int, int]] = field(default_factory=list)  # FUNC/PUBLIC address, param size
    line_starts: array[int] = field(default_factory=lambda: array("Q"))  # line-record addresses, file order
    init_start: list[int] = field(default_factory=list)
    init_size: list[int] = field(default_factory=list)
    init_rules: list[bytes] = field(default_factory=list)
    init_deltas: list[bytes] = field(default_factory=list)

    def all_inits(self) -> list[tuple[int, int, str]]:
        """Every ``STACK CFI INIT`` as ``(start, size, rules)``, whichever form holds it (for tests and tools)."""
        raw = [
            (s, n, r.decode("utf-8", "surrogateescape"))
            for s, n, r in zip(self.init_start, self.init_size, self.init_rules, strict=True)
        ]
        return self.init + raw

    def all_win(self) -> list[tuple[int, int, int, str]]:
        """Every ``STACK WIN`` record as ``(type, start, size, fields)``, whichever form holds it."""
        return self.win + [(k, s, n, t.decode("utf-8", "surrogateescape")) for k, s, n, t in self.win_raw]

    def all_deltas(self) -> list[tuple[int, int, str]]:
        """Every ``STACK CFI`` delta as ``(init index, addr, rules)`` (indexes as in ``all_inits``)."""
        out = list(self.deltas)
        for number, block in enumerate(self.init_deltas, start=len(self.init)):
            out += [
                (number, addr, rules) for addr, rules in _parse_delta_block(block.decode("utf-8", "surrogateescape"))
            ]
        return out


_MAX_PARSED_INITS = 4096
"""Parsed delta lists a ``CfiIndex`` keeps (a worker keeps indexes loaded for many dumps)."""
_DELTA_PREFIX = "\nSTACK CFI "
MAX_U64 = 0xFFFFFFFFFFFFFFFF
MAX_U32 = 0xFFFFFFFF


def _parse_delta_block(text: str) -> list[tuple[int, str]]:
    """``"\\nSTACK CFI <addr> <rules>"…`` → ``[(addr, rules), …]`` in text order; unparsable lines are skipped."""
    out: list[tuple[int, str]] = []
    for line in text.split(_DELTA_PREFIX)[1:]:
        addr, _, rules = line.partition(" ")
        try:
            out.append((int(addr, 16), rules))
        except ValueError:
            continue
    return out


def write_cfi_index(records: CfiRecords, path: Path) -> None:
    """Sort ``records`` into the indexed layout and write them to ``path``.

    ``STACK CFI INIT`` ranges are exclusive, as in Breakpad's ``RangeMap``: a range overlapping one that
    starts earlier is dropped. Deltas outside their INIT's range are dropped (when a lookup parses them).
    """
    starts = list(records.init_start)
    sizes = list(records.init_size)
    rules_of = list(records.init_rules)
    deltas_of = list(records.init_deltas)
    if records.init or records.deltas:
        grouped: dict[int, list[bytes]] = {}
        for init_index, addr, text in records.deltas:
            grouped.setdefault(init_index, []).append(
                b"\nSTACK CFI %x %s" % (addr, text.encode("utf-8", "surrogateescape"))
            )
        starts = [s for s, _, _ in records.init] + starts
        sizes = [n for _, n, _ in records.init] + sizes
        rules_of = [r.encode("utf-8", "surrogateescape") for _, _, r in records.init] + rules_of
        deltas_of = [b"".join(grouped.get(i, ())) for i in range(len(records.init))] + deltas_of
    if not all(map(operator.le, starts, itertools.islice(starts, 1, None))):
        order = sorted(range(len(starts)), key=starts.__getitem__)  # stable: file order among equal starts
        starts = [starts[i] for i in order]
        sizes = [sizes[i] for i in order]
        rules_of = [rules_of[i] for i in order]
        deltas_of = [deltas_of[i] for i in order]
    ends = list(map(operator.add, starts, sizes))
    if starts and not (
        starts[0] >= 0
        and min(sizes) > 0
        and max(ends) <= MAX_U64
        and all(map(operator.le, ends, itertools.islice(starts, 1, None)))
    ):
        # Drop empty ranges, ranges outside [0, 2^64) (a hex field may carry a sign) and ranges overlapping an
        # earlier-starting one (already sorted).
        keep: list[int] = []
        last_end = -1
        for index, (start, size, end) in enumerate(zip(starts, sizes, ends, strict=True)):
            if size == 0 or start < max(last_end, 0) or end > MAX_U64:
                continue
            last_end = end
            keep.append(index)
        starts = [starts[i] for i in keep]
        ends = [ends[i] for i in keep]
        rules_of = [rules_of[i] for i in keep]
        deltas_of = [deltas_of[i] for i in keep]
    pieces: list[bytes] = [b""] * (2 * len(starts))
    pieces[0::2] = rules_of
    pieces[1::2] = deltas_of
    lengths = list(map(len, pieces))
    offsets = [0, *itertools.accumulate(lengths)]
    blob = bytearray(b"".join(pieces))
    del pieces
    init_start, init_end = array("Q", starts), array("Q", ends)
    init_off, init_len = array("Q", offsets[0:-1:2]), array("Q", lengths[0::2])
    delta_off, delta_len = array("Q", offsets[1::2]), array("Q", lengths[1::2])

    win = [(k, st, n, t.encode("utf-8", "surrogateescape")) for k, st, n, t in records.win] + records.win_raw
    kinds, win_starts, win_sizes, texts = (
        (list(column) for column in zip(*win, strict=True)) if win else ([], [], [], [])
    )
    keys = list(zip(win_starts, map(operator.neg, win_sizes), strict=True))
    if not all(map(operator.le, keys, itertools.islice(keys, 1, None))):
        order = sorted(range(len(keys)), key=keys.__getitem__)  # by start, larger first; stable
        kinds, win_starts, win_sizes, texts = (
            [column[i] for i in order] for column in (kinds, win_starts, win_sizes, texts)
        )
    win_ends = list(map(operator.add, win_starts, win_sizes))
    if win_ends and (
        max(win_ends) > MAX_U64
        or min(win_starts) < 0
        or min(win_sizes) < 0
        or not 0 <= min(kinds) <= max(kinds) <= MAX_U32
    ):
        # Records that cannot be stored (hex fields may carry a sign: int("-10", 16) parses) are dropped.
        keep = [
            i
            for i, (kind, start, size, end) in enumerate(zip(kinds, win_starts, win_sizes, win_ends, strict=True))
            if start >= 0 and size >= 0 and end <= MAX_U64 and 0 <= kind <= MAX_U32
        ]
        kinds, win_starts, win_ends, texts = (
            [column[i] for i in keep] for column in (kinds, win_starts, win_ends, texts)
        )
    text_lengths = list(map(len, texts))
    win_start, win_end = array("Q", win_starts), array("Q", win_ends)
    win_off = array("Q", itertools.accumulate(text_lengths[:-1], initial=len(blob)) if texts else ())
    win_len, win_type = array("I", text_lengths), array("I", kinds)
    blob += b"".join(texts)

    param_addr, param_size = array("Q"), array("I")
    last_addr = -1
    for addr, size in sorted(records.parameter_sizes):
        if addr != last_addr and 0 <= addr <= MAX_U64 and 0 <= size <= MAX_U32:
            param_addr.append(addr)
            param_size.append(size)
            last_addr = addr

    line_addr = _sorted(records.line_starts)

    with path.open("wb") as out:
        out.write(
            _HEADER.pack(
                MAGIC,
                CFI_FORMAT_VERSION,
                len(init_start),
                len(win_start),
                len(param_addr),
                len(line_addr),
                len(blob),
            )
        )
        for arr in _arrays(
            (init_start, init_end, init_off, init_len, delta_off, delta_len),
            (win_start, win_end, win_off, win_len, win_type),
            (param_addr, param_size),
            (line_addr,),
        ):
            out.write(arr.tobytes())
        out.write(blob)


def _sorted(values: array[int]) -> array[int]:
    """``values`` in increasing order. dump_syms writes line records in address order, so this is usually one
    C-level check (Firefox's ``xul.sym`` has millions of line records). Repeats are kept: a binary search for
    the greatest start at or below an address finds the same value either way."""
    if all(map(operator.le, values, itertools.islice(values, 1, None))):
        return values
    return array("Q", sorted(values))


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
        magic, version, n_init, n_win, n_param, n_line, blob_size = _HEADER.unpack_from(view)
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

        # memoryview.cast does not require alignment, so no padding is written.
        self._init_start = take("Q", n_init)
        self._init_end = take("Q", n_init)
        self._init_off = take("Q", n_init)
        self._init_len = take("Q", n_init)
        self._deltas_off = take("Q", n_init)
        self._deltas_len = take("Q", n_init)
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
        self._deltas: dict[int, tuple[list[int], tuple[tuple[int, str], ...]]] = {}

    @property
    def has_cfi(self) -> bool:
        return len(self._init_start) > 0 or len(self._win_start) > 0

    def _text(self, offset: int, length: int) -> str:
        return bytes(self._blob[offset : offset + length]).decode("utf-8", "surrogateescape")

    def cfi_rules(self, address: int) -> CfiRange | None:
        """The ``STACK CFI`` rules covering ``address`` (module-relative), or ``None``."""
        index = bisect.bisect_right(self._init_start, address) - 1
        if index < 0 or address >= self._init_end[index]:
            return None
        addrs, deltas = self._deltas_of(index)
        deltas = deltas[: bisect.bisect_right(addrs, address)]
        start = self._init_start[index]
        return CfiRange(
            start=start,
            size=self._init_end[index] - start,
            init_rules=self._text(self._init_off[index], self._init_len[index]),
            deltas=deltas,
        )

    def _deltas_of(self, index: int) -> tuple[list[int], tuple[tuple[int, str], ...]]:
        """INIT ``index``'s deltas inside its range, sorted by address (file order among equal addresses)."""
        found = self._deltas.get(index)
        if found is None:
            start, end = self._init_start[index], self._init_end[index]
            parsed = [
                item
                for item in _parse_delta_block(self._text(self._deltas_off[index], self._deltas_len[index]))
                if start <= item[0] < end
            ]
            parsed.sort(key=operator.itemgetter(0))
            found = ([addr for addr, _ in parsed], tuple(parsed))
            if len(self._deltas) >= _MAX_PARSED_INITS:
                self._deltas.clear()
            self._deltas[index] = found
        return found

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
