"""Compare our reading and walk of corpus dumps with Breakpad's ``minidump_stackwalk -m`` output.

Used by ``test_corpus.py`` (assertions) and ``conformance_report.py`` (the committed report). Pure comparison
code: it reads the dump, our walk and the reference files, and returns plain data.

Conventions normalised (how Breakpad prints frames, against how rust-minidump's JSON records them):

* Frames are compared by position, after dropping Breakpad's ``inline record`` frames (inline frames are the
  symbolizer's business, not the unwinder's; every real frame is still compared).
* Without symbols a frame is ``(module, module offset)``; Breakpad prints the absolute address, with an empty
  module, for a frame outside every module, and so do we.
* With symbols a frame Breakpad names a function for is ``(module, function, offset)`` where offset is what
  Breakpad prints: ``address - line base`` when a line record covers the address, else ``address - function
  base`` (``address`` = return address on x86/amd64, instruction elsewhere). Frames Breakpad prints without a
  function are ``(module, module offset)``.
* Our side is the production path: the walk, the function names and the line and function bases all come
  through ``crashcart.stackwalk.stackwalker.Stackwalker`` with ``crashcart.symbols`` (``file://`` sources over
  the corpus symbol directories, converted into an on-disk symbol cache, one cache per symbol set since the
  alternative sets reuse debug ids) — what ``crashcart stackwalk`` and the processor run.
* Offsets are the raw return address on x86/amd64 in both outputs (``Frame.offset`` is Breakpad's value).
* Thread numbering is Breakpad's (the dump-writing thread skipped) on both sides.

Frames are classed by Breakpad's trust: *strong* (context, CFI, frame pointer) must all agree (the issue's
criterion); *scan* (stack scanning, CFI with scanning, leaf simulation) is reported separately.
"""

from __future__ import annotations

import csv
import hashlib
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from devtools.shared import CORPUS

from crashcart.minidump import Minidump, MinidumpError
from crashcart.stackwalk import WalkOptions
from crashcart.stackwalk.frame import Frame, WalkResult
from crashcart.stackwalk.output_json import Symbolizer
from crashcart.stackwalk.stackwalker import Stackwalker, WalkerConfig
from devtools import breakpad_reference

#: Breakpad's own limits (``Stackwalker::max_frames_`` 2^20, no per-dump frame budget or output cap): the
#: comparison measures unwinding, not our deliberate production caps (1,024 frames per thread, whose effect the
#: report states separately; 20,000 per dump; 10 MiB of output).
BREAKPAD_OPTIONS = WalkOptions(max_frames=1 << 20, max_total_frames=1 << 30, max_seconds=600.0, max_output_size=1 << 40)

_TRUST_TEXT = {
    "given as instruction pointer in context": "context",
    "call frame info": "cfi",
    "previous frame's frame pointer": "frame_pointer",
    "stack scanning": "scan",
    "call frame info with scanning": "cfi_scan",
    "simulating a return from leaf function": "leaf",
    "inline record": "inline",
}
#: Breakpad trusts whose frames must all agree (context, CFI, frame pointer).
STRONG = frozenset({"context", "cfi", "frame_pointer"})

Key = tuple[str, ...]


@dataclass(frozen=True)
class CorpusDump:
    name: str
    dump: Path
    reference_stem: Path  # reference/<name>; add ".m", ".nosym.m", ".txt", ".nosym.txt"
    os: str
    cpu: str
    symbols: Path | None

    def reference(self, *, with_symbols: bool, suffix: str, variant: str | None = None) -> Path:
        """``<stem>[.nosym|.alt-<variant>]<suffix>`` (suffix ``.m``, ``.txt`` or ``.m.stderr``)."""
        mode = f".alt-{variant}" if variant else "" if with_symbols else ".nosym"
        return self.reference_stem.with_name(self.reference_stem.name + mode + suffix)

    def symbol_dirs(self, variant: str | None = None) -> list[Path]:
        """The symbol path Breakpad was given: ``symbols-alt/<variant>`` first, then the dump's symbols."""
        if self.symbols is None:
            return []
        return ([self.symbols.parent / "symbols-alt" / variant] if variant else []) + [self.symbols]

    def variants(self) -> list[str]:
        """Alternative symbol sets with a Breakpad reference (``<stem>.alt-<variant>.m``)."""
        prefix = self.reference_stem.name + ".alt-"
        found = self.reference_stem.parent.glob(prefix + "*.m")
        return sorted(p.name[len(prefix) : -2] for p in found if self.symbols is not None)


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


# --- Breakpad's side ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefFrame:
    """One ``-m`` frame line with its trust and printed registers from the text output."""

    module: str
    function: str
    file: str
    line: str
    offset: int
    trust: str
    registers: Mapping[str, int] = field(default_factory=dict, compare=False)


@dataclass
class ReferenceWalk:
    header: breakpad_reference.Reference
    #: Breakpad thread index → frames, inline frames included.
    threads: dict[int, list[RefFrame]] = field(default_factory=dict)


_REGISTER = re.compile(r"(\w+) = 0x([0-9a-f]+)")


def _text_frames(text: Path) -> dict[int, list[tuple[str, dict[str, int]]]]:
    """Per thread, each frame's (trust, printed registers) from Breakpad's text output."""
    out: dict[int, list[tuple[str, dict[str, int]]]] = {}
    current: list[tuple[str, dict[str, int]]] | None = None
    registers: dict[str, int] = {}
    if not text.is_file():
        return out
    for line in text.read_text(encoding="utf-8", errors="replace").splitlines():
        match = re.match(r"Thread (\d+)", line)
        if match:
            current, registers = out.setdefault(int(match.group(1)), []), {}
        elif line.startswith("Loaded modules:"):
            current = None
        elif current is not None and line.strip().startswith("Found by: "):
            current.append((_TRUST_TEXT.get(line.strip().removeprefix("Found by: "), "?"), registers))
            registers = {}
        elif current is not None and line.startswith("    "):
            registers.update((name, int(value, 16)) for name, value in _REGISTER.findall(line))
    return out


def read_reference(machine: Path, text: Path) -> ReferenceWalk:
    """Breakpad's ``-m`` output plus each frame's trust and registers from the matching text output."""
    content = machine.read_text(encoding="utf-8", errors="replace")
    ref = ReferenceWalk(breakpad_reference.parse(content))
    raw: dict[int, list[tuple[str, str, str, str, int]]] = {}
    for line in content.splitlines():
        fields = line.split("|")
        if len(fields) == 7 and fields[0].isdigit() and fields[1].isdigit():
            raw.setdefault(int(fields[0]), []).append((*fields[2:6], int(fields[6], 16)))  # type: ignore[arg-type]
    text_frames = _text_frames(text)
    for thread, frames in raw.items():
        found = text_frames.get(thread, [])
        if len(found) != len(frames):
            found = [("?", {})] * len(frames)
        ref.threads[thread] = [RefFrame(*f, trust=t, registers=r) for f, (t, r) in zip(frames, found, strict=True)]
    return ref


#: Registers Breakpad's text output prints for an x86 frame only when *all* are valid (the context frame).
_X86_ALL_ONLY = frozenset({"eax", "ecx", "edx", "efl"})


def registers_agree(expected: RefFrame, actual: Frame) -> bool:
    """A caller frame's recovered registers as Breakpad prints them: every printed register has our value, and
    we know no register Breakpad does not print (x86 eax/ecx/edx, printed only for all-valid frames, aside)."""
    ours = dict(actual.registers)
    if any(ours.get(name) != value for name, value in expected.registers.items()):
        return False
    return all(name in expected.registers or name in _X86_ALL_ONLY for name in ours)


# --- our side: the production entry point ----------------------------------------------------------------


_CACHES: list[tempfile.TemporaryDirectory[str]] = []


@cache
def _cache_root() -> Path:
    """One symbol cache root per process, removed at exit: every run converts the corpus symbols afresh, as a
    new node would (the conversion is part of what is measured)."""
    holder = tempfile.TemporaryDirectory(prefix="crashcart-conformance-")
    _CACHES.append(holder)
    return Path(holder.name)


@cache
def stackwalker(dirs: tuple[Path, ...], options: WalkOptions = BREAKPAD_OPTIONS) -> Stackwalker:
    """The walker for one symbol path (``file://`` sources in order; none: without symbols), kept for the
    process so its caches stay warm across dumps, as in a processor worker."""
    if not dirs:
        return Stackwalker(WalkerConfig(options=options))
    key = hashlib.sha256("\n".join(str(d) for d in dirs).encode()).hexdigest()[:16]
    config = WalkerConfig(
        symbol_urls=[d.resolve().as_uri() for d in dirs], symbols_cache_dir=_cache_root() / key, options=options
    )
    return Stackwalker(config)


def printed_offset(frame: Frame, symbolize: Symbolizer) -> int | None:
    """Breakpad's printed offset for a frame with a function: from the line record's start when one covers the
    lookup address, else from the function's (or PUBLIC symbol's) start; ``None`` without symbols there."""
    module = frame.module
    if module is None:
        return None
    info = symbolize(module, frame.instruction - module.base_address)
    if info is None:
        return None
    base = info.line_address if info.line_address is not None else info.function_address
    return frame.offset - module.base_address - base


# --- keys -------------------------------------------------------------------------------------------------------


def reference_key(frame: RefFrame, *, with_symbols: bool) -> Key:
    if with_symbols and frame.function:
        return (frame.module, frame.function, hex(frame.offset))
    return (frame.module, hex(frame.offset))


def our_key(frame: Frame, *, want_function: bool, symbolize: Symbolizer | None) -> Key:
    module = frame.module
    name = frame.module_name or ""
    offset = frame.module_offset if frame.module_offset is not None else frame.offset
    if want_function and module is not None and frame.function and symbolize is not None:
        printed = printed_offset(frame, symbolize)
        return (name, frame.function, hex(printed) if printed is not None else "?")
    return (name, hex(offset))


# --- the comparison ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameRow:
    """One compared frame position (Breakpad's inline frames dropped)."""

    index: int
    expected: Key | None
    trust: str | None  # Breakpad's; None for a frame only we found
    actual: Key | None
    actual_trust: str | None
    #: Caller frames only (frame 0 is the context): None when not compared.
    registers_agree: bool | None = None

    @property
    def agrees(self) -> bool:
        return self.expected is not None and self.expected == self.actual

    @property
    def strong(self) -> bool:
        return self.trust in STRONG


@dataclass(frozen=True)
class ThreadComparison:
    thread: int
    rows: tuple[FrameRow, ...]

    def count(self, *, strong: bool) -> tuple[int, int]:
        """(agreeing, Breakpad's frames) over the strong or the scan frames."""
        mine = [r for r in self.rows if r.expected is not None and r.strong == strong]
        return sum(1 for r in mine if r.agrees), len(mine)

    def count_details(self) -> tuple[int, int, int, int]:
        """(same trust, frames both have, same caller registers, caller frames compared)."""
        both = [r for r in self.rows if r.expected is not None and r.actual is not None]
        compared = [r for r in both if r.registers_agree is not None]
        return (
            sum(1 for r in both if r.trust == r.actual_trust),
            len(both),
            sum(1 for r in compared if r.registers_agree),
            len(compared),
        )

    @property
    def expected_frames(self) -> int:
        return sum(1 for r in self.rows if r.expected is not None)

    @property
    def actual_frames(self) -> int:
        return sum(1 for r in self.rows if r.actual is not None)

    @property
    def identical(self) -> bool:
        return all(r.agrees for r in self.rows)

    @property
    def first_difference(self) -> FrameRow | None:
        return next((r for r in self.rows if not r.agrees), None)


@dataclass(frozen=True)
class HeaderCheck:
    """Crash reason, address, crashing thread and module list against Breakpad's ``-m``."""

    reason: tuple[str | None, str | None]  # (ours, Breakpad's)
    address: tuple[int | None, int | None]
    thread: tuple[int | None, int | None]
    modules: tuple[int, int, int]  # (our Module lines equal to Breakpad's, ours, Breakpad's)

    @property
    def reason_ok(self) -> bool:
        return self.reason[0] == self.reason[1]

    @property
    def address_ok(self) -> bool:
        return self.address[0] == self.address[1]

    @property
    def thread_ok(self) -> bool:
        return self.thread[0] == self.thread[1]

    @property
    def modules_ok(self) -> bool:
        return self.modules[0] == self.modules[1] == self.modules[2]


@dataclass(frozen=True)
class DumpComparison:
    name: str
    os: str
    cpu: str
    with_symbols: bool
    variant: str | None
    header: HeaderCheck
    threads: tuple[ThreadComparison, ...]
    result: WalkResult = field(repr=False, compare=False)

    @property
    def kind(self) -> str:
        return f"{self.os} {self.cpu}"

    @property
    def mode(self) -> str:
        """``nosym``, ``sym`` or ``alt-<variant>``."""
        return f"alt-{self.variant}" if self.variant else "sym" if self.with_symbols else "nosym"

    def count(self, *, strong: bool) -> tuple[int, int]:
        pairs = [t.count(strong=strong) for t in self.threads]
        return sum(p[0] for p in pairs), sum(p[1] for p in pairs)

    @property
    def extra_frames(self) -> int:
        """Frames we found beyond Breakpad's last frame (never counted as agreement)."""
        return sum(1 for t in self.threads for r in t.rows if r.expected is None)

    @property
    def disagreeing_threads(self) -> list[ThreadComparison]:
        return [t for t in self.threads if not t.identical]


def _header(dump: Minidump, reference: breakpad_reference.Reference) -> HeaderCheck:
    ours = breakpad_reference.ours(dump)
    same = sum(1 for a, b in zip(ours.modules, reference.modules, strict=False) if a == b)
    return HeaderCheck(
        (ours.crash_reason, reference.crash_reason),
        (ours.crash_address, reference.crash_address),
        (ours.crashing_thread, reference.crashing_thread),
        (same, len(ours.modules), len(reference.modules)),
    )


def _thread_rows(
    expected: Sequence[RefFrame], actual: Sequence[Frame], *, with_symbols: bool, symbolize: Symbolizer | None
) -> tuple[FrameRow, ...]:
    real = [f for f in expected if f.trust != "inline"]
    rows = []
    for i in range(max(len(real), len(actual))):
        want = real[i] if i < len(real) else None
        got = actual[i] if i < len(actual) else None
        want_function = want is not None and with_symbols and bool(want.function)
        registers = None if i == 0 or want is None or got is None else registers_agree(want, got)
        rows.append(
            FrameRow(
                i,
                None if want is None else reference_key(want, with_symbols=with_symbols),
                None if want is None else want.trust,
                None if got is None else our_key(got, want_function=want_function, symbolize=symbolize),
                None if got is None else str(got.trust),
                registers,
            )
        )
    return tuple(rows)


def compare_dump(
    item: CorpusDump, *, with_symbols: bool, variant: str | None = None, options: WalkOptions = BREAKPAD_OPTIONS
) -> DumpComparison | None:
    """Every thread of one dump against Breakpad's output; None when there is no reference for this mode
    (Breakpad could not process the dump, or no symbols exist for it). ``variant`` selects an alternative
    symbol set (``symbols-alt/<variant>`` ahead of the dump's symbols)."""
    with_symbols = with_symbols or variant is not None
    machine = item.reference(with_symbols=with_symbols, suffix=".m", variant=variant)
    text = item.reference(with_symbols=with_symbols, suffix=".txt", variant=variant)
    if not machine.is_file() or (with_symbols and item.symbols is None) or machine.stat().st_size == 0:
        return None  # an empty output: Breakpad could not process the dump (exit status 1)
    reference = read_reference(machine, text)
    dirs = item.symbol_dirs(variant) if with_symbols else []
    walker = stackwalker(tuple(dirs), options)
    symbolize = walker.provider_lookup.symbolize if walker.provider_lookup is not None else None
    with Minidump.from_path(item.dump) as dump:
        header = _header(dump, reference.header)
        result, _ = walker.walk(dump)
    ours = {stack.index: stack.frames for stack in result.threads}
    threads = []
    for thread in sorted(set(ours) | set(reference.threads)):
        rows = _thread_rows(
            reference.threads.get(thread, []), ours.get(thread, ()), with_symbols=with_symbols, symbolize=symbolize
        )
        if rows:
            threads.append(ThreadComparison(thread, rows))
    return DumpComparison(item.name, item.os, item.cpu, with_symbols, variant, header, tuple(threads), result)


def unprocessable(item: CorpusDump) -> tuple[bool, str]:
    """For a dump Breakpad has no output for: (whether we also refuse to walk it, what we say)."""
    try:
        with Minidump.from_path(item.dump) as dump:
            result, _ = stackwalker(()).walk(dump)
    except MinidumpError as exc:
        return True, f"refused: {exc}"
    return result.status == "failed", f"walk {result.status}: {', '.join(result.notes)}"


# --- the crashing-thread view kept for the original floors ------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """The crashing thread only (the original point-4 conformance test)."""

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


def crashing_thread(full: DumpComparison) -> Comparison:
    """The crashing thread's rows of a full comparison, in the original shape."""
    crashed = full.header.thread[1]
    rows: tuple[FrameRow, ...] = ()
    for thread in full.threads:
        if thread.thread == crashed:
            rows = thread.rows
    expected = [r for r in rows if r.expected is not None]
    actual = [r for r in rows if r.actual is not None]
    return Comparison(
        full.name,
        full.kind,
        [r.expected for r in expected if r.expected is not None],
        [r.trust or "?" for r in expected],
        [r.actual for r in actual if r.actual is not None],
        [r.actual_trust or "?" for r in actual],
    )


# --- totals ------------------------------------------------------------------------------------------------------


def _ratio(pairs: Iterable[tuple[int, int]]) -> list[int]:
    matched = total = 0
    for m, t in pairs:
        matched, total = matched + m, total + t
    return [matched, total]


def totals(results: Sequence[DumpComparison]) -> dict[str, object]:
    """Agreement over a set of dump comparisons (one mode), overall and per ``<os> <cpu>``: the numbers the
    committed report states and ``test_corpus`` recomputes. Pairs are ``[agreeing, Breakpad's]``."""
    by_kind: dict[str, list[DumpComparison]] = {}
    for c in results:
        by_kind.setdefault(c.kind, []).append(c)
    return {
        "dumps": len(results),
        "crash_reason": _ratio((int(c.header.reason_ok), 1) for c in results),
        "crash_address": _ratio((int(c.header.address_ok), 1) for c in results),
        "crashing_thread": _ratio((int(c.header.thread_ok), 1) for c in results),
        "modules": _ratio((int(c.header.modules_ok), 1) for c in results),
        "module_lines": _ratio((c.header.modules[0], c.header.modules[2]) for c in results),
        "strong_frames": _ratio(c.count(strong=True) for c in results),
        "scan_frames": _ratio(c.count(strong=False) for c in results),
        "extra_frames": sum(c.extra_frames for c in results),
        "trust": _ratio(t.count_details()[0:2] for c in results for t in c.threads),
        "caller_registers": _ratio(t.count_details()[2:4] for c in results for t in c.threads),
        "threads_identical": _ratio((sum(t.identical for t in c.threads), len(c.threads)) for c in results),
        "by_kind": {
            kind: {
                "dumps": len(group),
                "strong_frames": _ratio(c.count(strong=True) for c in group),
                "scan_frames": _ratio(c.count(strong=False) for c in group),
            }
            for kind, group in sorted(by_kind.items())
        },
    }


def run_mode(mode: str) -> list[DumpComparison]:
    """Every corpus dump in one mode: ``nosym``, ``sym`` or ``alt`` (every alternative symbol set)."""
    out: list[DumpComparison] = []
    for item in corpus_dumps():
        if mode == "alt":
            found = [compare_dump(item, with_symbols=True, variant=v) for v in item.variants()]
        else:
            found = [compare_dump(item, with_symbols=mode == "sym")]
        out += [c for c in found if c is not None]
    return out
