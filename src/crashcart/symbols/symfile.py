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


_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


def scan_sym_file(path: Path, limits: SymLimits = SymLimits()) -> SymScan:
    """Read ``path`` once; ``SymbolMalformed`` if it is not a ``.sym`` file or breaks a bound."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SymbolMalformed(f"{path}: {exc}") from exc
    if size > limits.max_file_size:
        raise SymbolMalformed(f"symbol file is {size} bytes, over the {limits.max_file_size}-byte limit")
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
                    _parse_parameter_size(raw, cfi)
                except (ValueError, IndexError):
                    scan.bad_records += 1
            elif raw.startswith(b"INFO CODE_ID "):
                fields = raw.decode("utf-8", "replace").split(" ", 3)
                scan.code_id = fields[2] if len(fields) > 2 else ""
                scan.code_file = fields[3] if len(fields) > 3 else ""
            elif raw and raw[0] in _HEX_DIGITS and not raw.startswith(b"FILE "):
                # A line record, <addr> <size> <line> <file id>: keep where it starts.
                try:
                    cfi.line_starts.append(int(raw[: raw.index(b" ")], 16))
                except (ValueError, OverflowError):
                    scan.bad_records += 1
            if scan.bad_records > limits.max_bad_records:
                raise SymbolMalformed(f"symbol file has more than {limits.max_bad_records} unparsable records")
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


def _parse_parameter_size(line: bytes, cfi: CfiRecords) -> None:
    """Keep a FUNC's or PUBLIC's parameter size when it is not zero (x86 Windows STACK WIN needs it)."""
    fields = line.split(b" ", 5)
    if fields[1] == b"m":
        del fields[1]
    param = fields[3] if fields[0] == b"FUNC" else fields[2]
    if param != b"0":
        cfi.parameter_sizes.append((int(fields[1], 16), int(param, 16)))


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
