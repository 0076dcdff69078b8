"""Compare our walk of a corpus dump with Breakpad's ``minidump_stackwalk -m`` output (used by test_corpus.py).

Symbol-less: every frame of the crashing thread must have the same (module, module offset) — Breakpad prints
the absolute address for frames outside every module. With symbols (the ``.m`` made with the corpus symbol
directory): a frame Breakpad names a function for must have the same (module, function), others the same
(module, offset); Breakpad's ``inline record`` frames are dropped first (inline frames are the symbolizer's
job, not the unwinder's).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from crashcart.minidump import Minidump
from crashcart.stackwalk import SimpleSymbols, WalkOptions, walk

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

_TRUST_TEXT = {
    "given as instruction pointer in context": "context",
    "call frame info": "cfi",
    "previous frame's frame pointer": "frame_pointer",
    "stack scanning": "scan",
    "call frame info with scanning": "cfi_scan",
    "simulating a return from leaf function": "leaf",
    "inline record": "inline",
}

Key = tuple[str, str]


@dataclass(frozen=True)
class CorpusDump:
    name: str
    dump: Path
    reference_stem: Path  # reference/<name>; add ".m", ".nosym.m", ".txt", ".nosym.txt"
    os: str
    cpu: str
    symbols: Path | None


@dataclass(frozen=True)
class Comparison:
    name: str
    kind: str  # "<os> <cpu>"
    expected: list[Key]
    expected_trust: list[str]
    actual: list[Key]
    actual_trust: list[str]

    @property
    def matched(self) -> int:
        return sum(1 for e, a in zip(self.expected, self.actual, strict=False) if e == a)

    @property
    def first_mismatch(self) -> int | None:
        for i, e in enumerate(self.expected):
            if i >= len(self.actual) or self.actual[i] != e:
                return i
        return None

    def describe(self) -> str:
        line = f"{self.name:62s} {self.kind:18s} {self.matched:4d}/{len(self.expected):<4d} ours={len(self.actual)}"
        i = self.first_mismatch
        if i is not None:
            want = self.expected[i]
            got = self.actual[i] if i < len(self.actual) else None
            line += f"  first difference at frame {i}: breakpad {want} ({self.expected_trust[i : i + 1]}), ours {got}"
        return line


def corpus_dumps() -> list[CorpusDump]:
    out: list[CorpusDump] = []
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            match = re.search(r"reference: reference/(\S+)\.\*", row["notes"])
            if not match:
                continue
            symbols = None if row["symbols_dir"] in {"", "none"} else CORPUS / row["symbols_dir"]
            stem = CORPUS / "reference" / match.group(1)
            out.append(CorpusDump(match.group(1), CORPUS / row["path"], stem, row["os"], row["cpu"], symbols))
    return out


def _reference_frames(machine: Path, text: Path) -> tuple[list[tuple[str, str, int]], list[str]]:
    crashed: str | None = None
    frames: list[tuple[str, str, int]] = []
    for line in machine.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split("|")
        if fields[0] == "Crash" and len(fields) >= 4:
            crashed = fields[3]
        elif crashed and fields[0] == crashed and len(fields) == 7 and fields[1].isdigit():
            frames.append((fields[2], fields[3], int(fields[6], 16)))
    trusts: list[str] = []
    if text.is_file():
        in_crashed = False
        for line in text.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("Thread "):
                in_crashed = line.endswith("(crashed)")
            elif in_crashed and line.strip().startswith("Found by: "):
                trusts.append(_TRUST_TEXT.get(line.strip().removeprefix("Found by: "), "?"))
    if len(trusts) != len(frames):
        trusts = ["?"] * len(frames)
    return frames, trusts


def compare(item: CorpusDump, *, with_symbols: bool) -> Comparison | None:
    """None when Breakpad's output for this mode is missing."""
    suffix = "" if with_symbols else ".nosym"
    machine = item.reference_stem.with_name(item.reference_stem.name + suffix + ".m")
    text = item.reference_stem.with_name(item.reference_stem.name + suffix + ".txt")
    if not machine.is_file() or (with_symbols and item.symbols is None):
        return None
    frames, trusts = _reference_frames(machine, text)
    expected: list[Key] = []
    expected_trust: list[str] = []
    for (module, function, offset), trust in zip(frames, trusts, strict=True):
        if trust == "inline":
            continue
        expected.append((module, function) if with_symbols and function else (module, hex(offset)))
        expected_trust.append(trust)
    supplier = SimpleSymbols([item.symbols]) if with_symbols and item.symbols is not None else None
    actual: list[Key] = []
    actual_trust: list[str] = []
    with Minidump.from_path(item.dump) as dump:
        result = walk(dump, supplier, WalkOptions(crashing_thread_only=True))
        stack = result.crashing_stack
        for i, frame in enumerate(stack.frames if stack is not None else ()):
            module = frame.module_name or ""
            offset = frame.module_offset if frame.module_offset is not None else frame.offset
            want_function = i < len(expected) and with_symbols and not expected[i][1].startswith("0x")
            actual.append((module, frame.function or "") if want_function else (module, hex(offset)))
            actual_trust.append(str(frame.trust))
    return Comparison(item.name, f"{item.os} {item.cpu}", expected, expected_trust, actual, actual_trust)
