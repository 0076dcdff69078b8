"""A minimal Breakpad ``.sym`` reader: a **test-only** ``SymbolLookup`` for the stack walker's unit tests.

It understands only what unwinding needs — ``FUNC`` and ``PUBLIC`` ranges (to validate scanned return
addresses; their parameter sizes), ``STACK CFI INIT`` / ``STACK CFI`` rows and ``STACK WIN`` records — and
looks files up in local directories laid out as Breakpad's ``SimpleSymbolSupplier`` expects
(``<debug_file>/<DEBUG_ID>/<debug_file minus .pdb>.sym``).
No caching beyond memory, no line records, no inline frames: production symbolication is
``crashcart.symbols`` (through ``crashcart.stackwalk.Stackwalker``), which the corpus conformance measures.
This reader lets unwinder tests state a few ``.sym`` lines inline, and serves as a second, independent
reading of the same files in ``test_symbol_lookup``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crashcart.minidump import Module
from crashcart.stackwalk.interfaces import CfiRules, WindowsFrameInfo

#: Largest .sym file read (bytes).
MAX_SYM_SIZE = 1 << 30


@dataclass
class _CfiRange:
    start: int
    size: int
    init: str
    deltas: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class SymFile:
    """The parts of one ``.sym`` file the walker uses."""

    #: (start, size, name, parameter size) sorted by start.
    functions: list[tuple[int, int, str, int]] = field(default_factory=list)
    #: (address, name, parameter size) sorted by address.
    publics: list[tuple[int, str, int]] = field(default_factory=list)
    #: STACK WIN records per type (4 FrameData, 0 FPO): (start, size, info) sorted by start.
    win: dict[int, list[tuple[int, int, WindowsFrameInfo]]] = field(default_factory=dict)
    cfi: list[_CfiRange] = field(default_factory=list)
    cfi_starts: list[int] = field(default_factory=list, repr=False)

    @classmethod
    def parse(cls, lines: Iterable[str]) -> SymFile:
        sym = cls()
        current: _CfiRange | None = None
        for raw in lines:
            line = raw.rstrip("\r\n")
            try:
                if line.startswith("FUNC "):
                    rest = line[5:].removeprefix("m ")
                    address, size, params, *name = rest.split(" ", 3)
                    sym.functions.append((int(address, 16), int(size, 16), name[0] if name else "", int(params, 16)))
                elif line.startswith("PUBLIC "):
                    rest = line[7:].removeprefix("m ")
                    address, params, *name = rest.split(" ", 2)
                    sym.publics.append((int(address, 16), name[0] if name else "", int(params, 16)))
                elif line.startswith("STACK WIN "):
                    sym._add_win(line)
                elif line.startswith("STACK CFI INIT "):
                    parts = line.split(" ", 5)
                    current = _CfiRange(int(parts[3], 16), int(parts[4], 16), parts[5] if len(parts) > 5 else "")
                    sym.cfi.append(current)
                elif line.startswith("STACK CFI "):
                    parts = line.split(" ", 3)
                    delta = int(parts[2], 16)
                    if current is not None and current.start <= delta < current.start + current.size:
                        current.deltas.append((delta, parts[3] if len(parts) > 3 else ""))
            except (ValueError, IndexError):
                continue  # a malformed line loses only itself
        sym.functions.sort()
        sym.publics.sort()
        for records in sym.win.values():
            records.sort(key=lambda r: (r[0], -r[1]))
        sym.cfi.sort(key=lambda r: r.start)
        for r in sym.cfi:
            r.deltas.sort(key=lambda d: d[0])
        sym.cfi_starts = [r.start for r in sym.cfi]
        return sym

    def _add_win(self, line: str) -> None:
        # STACK WIN type rva code_size prologue epilogue params saved_regs locals max_stack has_program rest
        parts = line.split(" ", 12)
        kind = int(parts[2], 16)
        if kind not in {0, 4} or len(parts) < 13:
            return
        start, size = int(parts[3], 16), int(parts[4], 16)
        has_program = parts[11] != "0"
        info = WindowsFrameInfo(
            kind=kind,
            parameter_size=int(parts[7], 16),
            saved_register_size=int(parts[8], 16),
            local_size=int(parts[9], 16),
            program=parts[12].strip() if has_program else "",
            allocates_base_pointer=not has_program and parts[12].strip() not in {"", "0"},
        )
        self.win.setdefault(kind, []).append((start, size, info))

    def _symbol_at(self, address: int) -> tuple[str, int] | None:
        """(name, parameter size) of the FUNC covering ``address``, else of the qualifying nearest PUBLIC."""
        i = bisect.bisect_right(self.functions, (address, 1 << 64)) - 1
        if i >= 0:
            start, size, name, params = self.functions[i]
            if start <= address < start + size:
                return name, params
        # Breakpad: the nearest PUBLIC at or below, if it is above the nearest FUNC's start.
        j = bisect.bisect_right(self.publics, (address, "\uffff")) - 1
        if j >= 0 and (i < 0 or self.publics[j][0] > self.functions[i][0]):
            return self.publics[j][1], self.publics[j][2]
        return None

    def function_at(self, address: int) -> str | None:
        found = self._symbol_at(address)
        return None if found is None else found[0]

    def windows_frame_info(self, address: int) -> WindowsFrameInfo | None:
        for kind in (4, 0):
            records = self.win.get(kind, [])
            i = bisect.bisect_right(records, address, key=lambda r: r[0]) - 1
            # Ranges nest (ContainedRangeMap): the innermost covering record is the latest-starting one.
            for start, size, info in reversed(records[max(i - 63, 0) : i + 1]):
                if start <= address < start + size:
                    return info
        found = self._symbol_at(address)
        if found is None:
            return None
        return WindowsFrameInfo(kind=-1, parameter_size=found[1], complete=False)

    def cfi_rules(self, address: int) -> CfiRules | None:
        i = bisect.bisect_right(self.cfi_starts, address) - 1
        if i < 0:
            return None
        r = self.cfi[i]
        if not r.start <= address < r.start + r.size:
            return None
        rules = CfiRules.parse(r.init)
        for delta_address, text in r.deltas:
            if delta_address > address:
                break
            rules = CfiRules.parse(text, rules.rules)
        return rules


class SimpleSymbols:
    """A ``SymbolLookup`` over local Breakpad-layout directories (and files added by hand, for tests)."""

    def __init__(self, paths: Sequence[str | Path] = ()) -> None:
        self._paths = [Path(p) for p in paths]
        self._loaded: dict[tuple[str, str], SymFile | None] = {}

    @staticmethod
    def _key(module: Module) -> tuple[str, str]:
        return module.debug_filename, module.debug_id.upper()

    def add(self, debug_file: str, debug_id: str, text: str) -> None:
        """Register ``.sym`` text for a module (tests)."""
        self._loaded[debug_file, debug_id.upper()] = SymFile.parse(text.splitlines())

    def _load(self, module: Module) -> SymFile | None:
        key = self._key(module)
        if key in self._loaded:
            return self._loaded[key]
        found: SymFile | None = None
        debug_file, debug_id = key
        if debug_file and debug_id:
            stem = debug_file[:-4] if debug_file.lower().endswith(".pdb") else debug_file
            for root in self._paths:
                path = root / debug_file / debug_id / f"{stem}.sym"
                try:
                    if path.is_file() and path.stat().st_size <= MAX_SYM_SIZE:
                        with path.open(encoding="utf-8", errors="replace") as handle:
                            found = SymFile.parse(handle)
                        break
                except OSError:
                    continue
        self._loaded[key] = found
        return found

    def has_symbols(self, module: Module) -> bool:
        return self._load(module) is not None

    def function_at(self, module: Module, rel_addr: int) -> str | None:
        sym = self._load(module)
        return None if sym is None else sym.function_at(rel_addr)

    def cfi_rules(self, module: Module, rel_addr: int) -> CfiRules | None:
        sym = self._load(module)
        return None if sym is None else sym.cfi_rules(rel_addr)

    def windows_frame_info(self, module: Module, rel_addr: int) -> WindowsFrameInfo | None:
        sym = self._load(module)
        return None if sym is None else sym.windows_frame_info(rel_addr)
