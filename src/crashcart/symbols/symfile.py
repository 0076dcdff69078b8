"""One bounded pass over a Breakpad ``.sym`` file: checks its shape and collects what the SymCache lacks.

``symbolic`` builds the SymCache (functions, lines, inlines, PUBLIC symbols) but its Python API has no way to
query unwind records, and its lookups do not say where the matched line record starts (Breakpad's text output
prints the offset from it: ``[file : line + 0x…]``). So this pass collects ``STACK CFI``/``STACK WIN`` records
and line-record start addresses (for ``cfi.write_cfi_index``) and the ``MODULE``/``INFO CODE_ID`` identity.
It also enforces the bounds every hostile input gets: file size, line length, record count, and a ceiling on
unparsable unwind records. ``scan_stack_records`` reads the same ``STACK`` records from the text symbolic's
``CfiCache`` makes of a native debug file.
"""

from __future__ import annotations

import collections
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from crashcart.symbols.cfi import CfiRecords, parse_win_record
from crashcart.symbols.interfaces import SymbolMalformed

GiB = 1024 * 1024 * 1024


@dataclass(frozen=True)
class SymLimits:
    """Bounds on one ``.sym`` file; going over any of them makes the file ``SymbolMalformed``."""

    max_file_size: int = 8 * GiB
    max_line_length: int = 256 * 1024
    max_records: int = 200_000_000
    max_bad_records: int = 10_000


@dataclass
class SymScan:
    """What one pass found: the module line's fields and the unwind records."""

    os: str = ""
    arch: str = ""
    debug_id: str = ""
    debug_file: str = ""
    code_id: str = ""
    code_file: str = ""
    records: int = 0
    bad_records: int = 0
    cfi: CfiRecords = field(default_factory=CfiRecords)
    #: Highest ``FUNC`` and ``PUBLIC`` start addresses (-1: none); see :attr:`tail_public`.
    highest_func: int = -1
    highest_public: int = -1

    @property
    def tail_public(self) -> int | None:
        """The last ``PUBLIC`` symbol's address when it starts above every ``FUNC``: Breakpad names every address
        from there to the module's end after it (its nearest-``PUBLIC`` lookup has no upper bound), where the
        SymCache ends at the last symbol's range."""
        return self.highest_public if self.highest_public > self.highest_func else None


_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


def scan_sym_file(path: Path, limits: SymLimits = SymLimits()) -> SymScan:
    """Read ``path`` once; ``SymbolMalformed`` if it is not a ``.sym`` file or breaks a bound.

    The usual file (what dump_syms writes: ``\\n`` line endings, every record well formed, each INIT's deltas
    right after it) is read by ``_fast_scan`` with a few compiled regular expressions, in blocks of ``_BLOCK``
    bytes. Anything it cannot vouch for (a malformed or unusual record, ``\\r``, a line over the bound, too many
    records) makes it give up, and the line-by-line ``_line_scan`` reads the file instead: same results, same
    errors, same ``bad_records``.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SymbolMalformed(f"{path}: {exc}") from exc
    if size > limits.max_file_size:
        raise SymbolMalformed(f"symbol file is {size} bytes, over the {limits.max_file_size}-byte limit")
    scan = None
    try:
        with path.open("rb") as handle:
            scan = _fast_scan(handle, limits)
    except OSError:
        scan = None
    return scan if scan is not None else _line_scan(path, limits)


def _line_scan(path: Path, limits: SymLimits) -> SymScan:
    scan = SymScan()
    current_init = -1
    cfi = scan.cfi
    with path.open("rb") as handle:
        first = _read_line(handle, limits)
        if first is None or not first.startswith(b"MODULE "):
            raise SymbolMalformed("not a Breakpad symbol file: the first line is not a MODULE record")
        _parse_module(first, scan)
        while True:
            raw = _read_line(handle, limits)
            if raw is None:
                break
            scan.records += 1
            if scan.records > limits.max_records:
                raise SymbolMalformed(f"symbol file has more than {limits.max_records} records")
            if raw.startswith(b"STACK "):
                try:
                    current_init = _parse_stack(raw, cfi, current_init)
                except (ValueError, IndexError, UnicodeDecodeError):
                    scan.bad_records += 1
            elif raw.startswith((b"FUNC ", b"PUBLIC ")):
                try:
                    _parse_parameter_size(raw, scan)
                except (ValueError, IndexError):
                    scan.bad_records += 1
            elif raw.startswith(b"INFO CODE_ID "):
                _parse_code_id(raw, scan)
            elif raw and raw[0] in _HEX_DIGITS and not raw.startswith(b"FILE "):
                # A line record, <addr> <size> <line> <file id>: keep where it starts.
                try:
                    cfi.line_starts.append(int(raw[: raw.index(b" ")], 16))
                except (ValueError, OverflowError):
                    scan.bad_records += 1
            if scan.bad_records > limits.max_bad_records:
                raise SymbolMalformed(f"symbol file has more than {limits.max_bad_records} unparsable records")
    return scan


def _parse_code_id(raw: bytes, scan: SymScan) -> None:
    fields = raw.decode("utf-8", "replace").split(" ", 3)
    scan.code_id = fields[2] if len(fields) > 2 else ""
    scan.code_file = fields[3] if len(fields) > 3 else ""


# The fast scan. Every pattern starts with the newline that ends the previous line, so the regex engine only
# tries positions where a line starts (a literal-prefix search), and blocks overlap by that one byte.
_HEX = rb"[0-9a-fA-F]+"
_LINE_RECORD = re.compile(rb"\n(" + _HEX + rb") ")
#: Lines starting with a hex digit that are not line records: FILE, FUNC, or a malformed line record.
_NOT_LINE_RECORD = re.compile(rb"\n(?:FILE |" + _HEX + rb"[^0-9a-fA-F ])")
_CFI_INIT = re.compile(
    rb"\nSTACK CFI INIT (" + _HEX + rb") (" + _HEX + rb") ([^\n]*)((?:\nSTACK CFI " + _HEX + rb" [^\n]*)*)"
)
_WIN = re.compile(
    rb"\nSTACK WIN ((" + _HEX + rb") (" + _HEX + rb") (" + _HEX + rb") (?:" + _HEX + rb" ){6}" + _HEX + rb" [^\n]*)"
)
#: A STACK WIN record without a program string must say whether it allocates a base pointer (a number).
_WIN_BAD = re.compile(rb"\nSTACK WIN (?:" + _HEX + rb" ){9}0+ (?!" + _HEX + rb"[ \n])")
_FUNC = re.compile(rb"\nFUNC (?:m )?(" + _HEX + rb") " + _HEX + rb" (" + _HEX + rb")(?=[ \n])")
_PUBLIC = re.compile(rb"\nPUBLIC (?:m )?(" + _HEX + rb") (" + _HEX + rb")(?=[ \n])")
_CODE_ID = re.compile(rb"\nINFO CODE_ID [^\n]*")
_BLOCK = 16 * 1024 * 1024
_R16 = itertools.repeat(16)


def _blocks(first: bytes, handle: BinaryIO, limits: SymLimits) -> Iterator[bytes | None]:
    """The file after its first line in blocks of whole lines, each starting with the newline before its first
    line and ending with a newline, cut before a ``STACK CFI INIT`` line where there is one (so an INIT's deltas
    stay in its block). ``None`` (then stop) for what the fast scan does not take: ``\\r``, a long line."""
    pending = first
    while True:
        more = handle.read(_BLOCK)
        if more:
            pending += more
            cut = pending.rfind(b"\nSTACK CFI INIT ", 1)
            if cut <= 0:
                cut = pending.rfind(b"\n", 1)
            if cut <= 0:
                if len(pending) > limits.max_line_length + 1:
                    yield None
                    return
                continue
            block, pending = pending[: cut + 1], pending[cut:]
        else:
            block = pending if pending.endswith(b"\n") else pending + b"\n"  # the last line may lack one
        if block.find(b"\r") >= 0:
            yield None
            return
        # No line over the bound: the last newline in each window of max_line_length + 1 bytes starts the next.
        position = 1
        while len(block) - position > limits.max_line_length + 1:
            found = block.rfind(b"\n", position, position + limits.max_line_length + 1)
            if found < 0:
                yield None
                return
            position = found + 1
        if len(block) > 1:
            yield block
        if not more:
            return


def _fast_scan(handle: BinaryIO, limits: SymLimits) -> SymScan | None:
    """The scan of a ``.sym`` file (``handle`` at its start), or ``None`` when ``_line_scan`` must decide instead.

    Each check compares counts: every ``STACK`` line must be a well-formed INIT, a delta right after its INIT
    (or another delta) or a STACK WIN record; every ``FUNC``/``PUBLIC`` line must have hex fields; every line
    starting with a hex digit must be a line record, a ``FILE`` or a ``FUNC``.
    """
    data = handle.read(min(_BLOCK, limits.max_line_length + 1))
    first_end = data.find(b"\n")
    if first_end < 0 or not data.startswith(b"MODULE ") or data.find(b"\r", 0, first_end) >= 0:
        return None
    scan = SymScan()
    _parse_module(data[:first_end], scan)
    cfi = scan.cfi
    newlines = stack_lines = public_lines = func_lines = deltas = 0
    funcs: list[tuple[bytes, bytes]] = []
    publics: list[tuple[bytes, bytes]] = []
    unchecked: list[bytes] = []  # STACK text of blocks that are not all ASCII (must be UTF-8)
    code_id = b""
    for block in _blocks(data[first_end:], handle, limits):
        if block is None:
            return None
        length = len(block)
        newlines += block.count(b"\n") - 1
        # dump_syms writes the STACK records last. If every line from the first STACK one on is a STACK record,
        # the other patterns need only look before it, and the STACK ones only after it.
        split = block.find(b"\nSTACK ")
        if split < 0:
            head, tail, block_stack = length, length, 0
        else:
            block_stack = block.count(b"\nSTACK ", split)
            head, tail = (split + 1, split) if block.count(b"\n", split, length - 1) == block_stack else (length, 0)
        stack_lines += block_stack
        public_lines += block.count(b"\nPUBLIC ", 0, head)
        others = collections.Counter(_NOT_LINE_RECORD.findall(block, 0, head))
        if others[b"\nFILE "] + others[b"\nFU"] != sum(others.values()):
            return None  # a malformed line record
        func_lines += others[b"\nFU"]
        try:
            cfi.line_starts.extend(map(int, _LINE_RECORD.findall(block, 0, head), _R16))
        except OverflowError:
            return None
        inits = _CFI_INIT.findall(block, tail) if block_stack else []
        if inits:
            addrs, lengths, rules, blocks = zip(*inits, strict=True)
            cfi.init_start += map(int, addrs, _R16)
            cfi.init_size += map(int, lengths, _R16)
            cfi.init_rules += rules
            cfi.init_deltas += blocks
            deltas += sum(map(bytes.count, blocks, itertools.repeat(b"\n")))
        wins = _WIN.findall(block, tail) if block_stack else []
        if wins:
            if _WIN_BAD.search(block, tail):
                return None
            bodies, kinds, rvas, code_sizes = zip(*wins, strict=True)
            cfi.win_raw += zip(
                map(int, kinds, _R16), map(int, rvas, _R16), map(int, code_sizes, _R16), bodies, strict=True
            )
        if not block.isascii():
            unchecked += (piece for init in inits for piece in init[2:])
            unchecked += (body for body, *_ in wins)
        funcs += _FUNC.findall(block, 0, head)
        publics += _PUBLIC.findall(block, 0, head)
        codes = _CODE_ID.findall(block, 0, head)
        if codes:
            code_id = codes[-1]
    scan.records = newlines
    if scan.records > limits.max_records:
        return None
    if len(funcs) != func_lines or len(publics) != public_lines:
        return None  # a FUNC or PUBLIC record with a field that is not a number (or a line starting "FU")
    if stack_lines != len(cfi.init_start) + deltas + len(cfi.win_raw):
        return None  # a STACK record that is malformed, or a delta away from its INIT
    if unchecked:
        try:
            b"\n".join(unchecked).decode("utf-8")
        except UnicodeDecodeError:
            return None
    scan.highest_func = max((int(addr, 16) for addr, _ in funcs), default=-1)
    scan.highest_public = max((int(addr, 16) for addr, _ in publics), default=-1)
    funcs += publics
    cfi.parameter_sizes = sorted((int(addr, 16), int(param, 16)) for addr, param in funcs if param != b"0")
    if code_id:
        _parse_code_id(code_id[1:], scan)
    return scan


def scan_stack_records(path: Path, limits: SymLimits = SymLimits()) -> CfiRecords:
    """The ``STACK CFI``/``STACK WIN`` records of a text with nothing else (symbolic's ``CfiCache`` output).

    The same bounds as for ``.sym`` files apply; lines that are not ``STACK`` records count as bad records.
    """
    records = CfiRecords()
    current_init = -1
    count = bad = 0
    with path.open("rb") as handle:
        while True:
            raw = _read_line(handle, limits)
            if raw is None:
                break
            count += 1
            if count > limits.max_records:
                raise SymbolMalformed(f"CFI has more than {limits.max_records} records")
            try:
                current_init = _parse_stack(raw, records, current_init)
            except (ValueError, IndexError, UnicodeDecodeError):
                bad += 1
                if bad > limits.max_bad_records:
                    raise SymbolMalformed(f"CFI has more than {limits.max_bad_records} unparsable records") from None
    return records


def _read_line(handle: BinaryIO, limits: SymLimits) -> bytes | None:
    """The next line without its line ending (``\\n``, ``\\r\\n``, ``\\r\\r\\n``), or ``None`` at the end."""
    line = handle.readline(limits.max_line_length + 3)
    if not line:
        return None
    if not line.endswith(b"\n") and len(line) > limits.max_line_length:
        raise SymbolMalformed(f"symbol file has a line longer than {limits.max_line_length} bytes")
    return line.rstrip(b"\r\n")


def _parse_module(line: bytes, scan: SymScan) -> None:
    fields = line.decode("utf-8", "replace").split(" ", 4)
    if len(fields) < 5:
        raise SymbolMalformed("MODULE record has too few fields")
    scan.os, scan.arch, scan.debug_id, scan.debug_file = fields[1], fields[2], fields[3], fields[4]


def _parse_parameter_size(line: bytes, scan: SymScan) -> None:
    """Keep a FUNC's or PUBLIC's parameter size when it is not zero (x86 Windows STACK WIN needs it), and the
    highest FUNC and PUBLIC addresses."""
    fields = line.split(b" ", 5)
    if fields[1] == b"m":
        del fields[1]
    param = fields[3] if fields[0] == b"FUNC" else fields[2]
    address = int(fields[1], 16)
    if fields[0] == b"FUNC":
        scan.highest_func = max(scan.highest_func, address)
    else:
        scan.highest_public = max(scan.highest_public, address)
    if param != b"0":
        scan.cfi.parameter_sizes.append((address, int(param, 16)))


def _parse_stack(line: bytes, cfi: CfiRecords, current_init: int) -> int:
    """Add one ``STACK`` record to ``cfi``; returns the index of the INIT later deltas belong to."""
    text = line.decode("utf-8")
    if text.startswith("STACK CFI INIT "):
        _, _, _, addr, size, rules = text.split(" ", 5)
        cfi.init.append((int(addr, 16), int(size, 16), rules))
        return len(cfi.init) - 1
    if text.startswith("STACK CFI "):
        _, _, addr, rules = text.split(" ", 3)
        if current_init < 0:
            raise ValueError("STACK CFI delta before any STACK CFI INIT")
        cfi.deltas.append((current_init, int(addr, 16), rules))
        return current_init
    if text.startswith("STACK WIN "):
        body = text[len("STACK WIN ") :]
        info = parse_win_record(body)
        cfi.win.append((info.type, info.rva, info.code_size, body))
        return current_init
    raise ValueError("unknown STACK record")
