"""Write ``docs/conformance/stackwalk.md``: the walker against Breakpad over the whole corpus (issue #3 point 6).

Run ``.venv/bin/python -m devtools.conformance_report`` (or ``make conformance``). The comparison itself is
``corpus_compare``; this module renders it, explains every disagreement and shows the evidence (stack words,
symbols, Breakpad's own log). ``test_corpus.py`` re-renders the report and fails when the committed file is
stale, so the numbers in it are always the ones the code produces.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from devtools.corpus_compare import (
    CORPUS,
    CorpusDump,
    DumpComparison,
    corpus_dumps,
    run_mode,
    stackwalker,
    totals,
    unprocessable,
)
from devtools.shared import REPO

from crashcart.minidump import BreakpadInfo, Minidump, ModuleList, Thread, ThreadList
from crashcart.stackwalk import WalkOptions
from crashcart.stackwalk.frame import ThreadStack
from crashcart.stackwalk.interfaces import SymbolLookup

ROOT = REPO
REPORT = ROOT / "docs" / "conformance" / "stackwalk.md"
COMMAND = ".venv/bin/python -m devtools.conformance_report"
MODES = ("nosym", "sym", "alt")
MODE_TITLES = {"nosym": "without symbols", "sym": "with symbols", "alt": "alternative symbol sets"}
TARGET = 0.99
PRODUCTION_MAX_FRAMES = WalkOptions().max_frames
_JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.DOTALL)
_DATE_LINE = re.compile(r"^Generated on (\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Explanation:
    """Who is right about a disagreement, and why (evidence is computed from the dump when rendering)."""

    right: str  # "crashcart", "Breakpad" or "undecided"
    why: str


#: Every known disagreement, by dump (all its threads). test_corpus asserts each disagreement has one.
KNOWN: dict[str, Explanation] = {
    "google__breakpad__tiny-exe-with-cet-xsave-x86": Explanation(
        "crashcart",
        "The thread contexts are 1,147-byte x86 contexts with an XSAVE/CET extension. The Breakpad build that "
        "made the references (mid-2023) accepts only the 716-byte x86 context, so it reads no context and "
        "walks no thread (its log below). Breakpad fixed this upstream in `7fb75899` (2024-01-03, *Allow "
        "breakpad to read extended x86 contexts*) and its unit test `TestXStateX86ContextMinidump` processes "
        "this very dump (`src/processor/testdata/tiny-exe-with-cet-xsave-x86.dmp`, 3 threads). We read the "
        "leading x86 context and walk every thread; frame 0 is each thread's `eip` in `ntdll.dll` and the "
        "callers follow the ebp chain (`kernel32.dll`, then `ntdll.dll` thread start), as Breakpad's x86 "
        "walker does without symbols.",
    ),
}


@dataclass
class Report:
    date: str
    results: dict[str, list[DumpComparison]]
    #: Dumps Breakpad could not process: (name, whether we refuse to walk them too, what we say).
    unprocessable: list[tuple[str, bool, str]] = field(default_factory=list)

    def totals(self) -> dict[str, dict[str, object]]:
        return {mode: totals(self.results[mode]) for mode in MODES}


def build(date: str | None = None) -> Report:
    """Walk every corpus dump in every mode (about 10 s on one core)."""
    results = {mode: run_mode(mode) for mode in MODES}
    compared = {c.name for c in results["nosym"]}
    refused = [(d.name, *unprocessable(d)) for d in corpus_dumps() if d.name not in compared]
    return Report(date or dt.datetime.now(dt.UTC).date().isoformat(), results, refused)


# --- rendering -----------------------------------------------------------------------------------------------------


def _pct(pair: object) -> str:
    assert isinstance(pair, list)
    matched, total = pair
    if not total:
        return "–"
    return f"{matched:,} / {total:,} ({100 * matched / total:.2f} %)"


def _cell(pair: tuple[int, int]) -> str:
    matched, total = pair
    if not total:
        return "–"
    return f"{matched}/{total}" if matched == total else f"**{matched}/{total}**"


def _met(report: Report) -> bool:
    for mode in MODES:
        t = report.totals()[mode]
        strong = t["strong_frames"]
        assert isinstance(strong, list)
        if strong[1] and strong[0] < TARGET * strong[1]:
            return False
        for key in ("crash_reason", "crash_address", "crashing_thread", "modules"):
            pair = t[key]
            assert isinstance(pair, list)
            if pair[0] != pair[1]:
                return False
    return True


def _cap_effect(report: Report) -> tuple[int, int]:
    """(frames, threads) Breakpad found beyond the production per-thread frame cap, without symbols."""
    frames = threads = 0
    for c in report.results["nosym"]:
        for t in c.threads:
            over = t.expected_frames - PRODUCTION_MAX_FRAMES
            if over > 0:
                frames, threads = frames + over, threads + 1
    return frames, threads


def _totals_section(report: Report) -> list[str]:
    t = report.totals()
    rows = [
        ("dumps compared", "dumps", lambda v: f"{v}"),
        ("crash reason", "crash_reason", _pct),
        ("crash address", "crash_address", _pct),
        ("crashing thread", "crashing_thread", _pct),
        ("module list identical (dumps)", "modules", _pct),
        ("`Module` lines", "module_lines", _pct),
        ("**frames found by context, CFI or frame pointer** (target ≥ 99 %)", "strong_frames", _pct),
        ("frames found by scanning (stack scan, CFI with scanning)", "scan_frames", _pct),
        ("frames only we produce (beyond Breakpad's last frame)", "extra_frames", lambda v: f"{v}"),
        ('same trust ("Found by") on frames both have', "trust", _pct),
        ("caller frames with the registers Breakpad prints (not a criterion)", "caller_registers", _pct),
        ("threads identical", "threads_identical", _pct),
    ]
    out = [
        "## Totals",
        "",
        "| criterion | " + " | ".join(MODE_TITLES[m] for m in MODES) + " |",
        "|---|" + "---|" * len(MODES),
    ]
    for title, key, fmt in rows:
        out.append(f"| {title} | " + " | ".join(fmt(t[m][key]) for m in MODES) + " |")
    out += _trust_note(report)
    cap_frames, cap_threads = _cap_effect(report)
    out += [
        "",
        f"**Issue #3 target** (≥ 99 % of context/CFI/frame-pointer frames over all threads, with and without "
        f"symbols; crash reason, address, crashing thread and modules 100 %): "
        f"**{'met' if _met(report) else 'NOT met'}**.",
        "",
        f"The walks use Breakpad's own frame limit (2^20 per thread). With the production default "
        f"(`WalkOptions.max_frames` = {PRODUCTION_MAX_FRAMES:,}) {cap_frames:,} frames of {cap_threads} thread(s) "
        "would not be produced (recursion; the walk result then says `frame_limit`).",
        "",
    ]
    return out


def _trust_note(report: Report) -> list[str]:
    """Which trusts differ (Breakpad's → ours), over all modes."""
    pairs: dict[tuple[str, str], int] = {}
    for mode in MODES:
        for c in report.results[mode]:
            for t in c.threads:
                for r in t.rows:
                    if r.trust is not None and r.actual_trust is not None and r.trust != r.actual_trust:
                        key = (r.trust, r.actual_trust)
                        pairs[key] = pairs.get(key, 0) + 1
    if not pairs:
        return []
    listed = ", ".join(f"{n:,} × Breakpad `{a}` / ours `{b}`" for (a, b), n in sorted(pairs.items()))
    why = (
        ' Breakpad\'s `leaf` ("simulating a return from leaf function", frame 1 of a Windows amd64 context '
        "frame without CFI) is a step we take too, with the same caller and registers, but `Trust` has no such "
        "value (rust-minidump's JSON has none; it finds that frame by scanning), so we say `scan`."
        if set(pairs) == {("leaf", "scan")}
        else ""
    )
    return ["", f"Trust differences (all modes): {listed}.{why}"]


def _kind_section(report: Report) -> list[str]:
    t = report.totals()
    kinds = sorted({k for m in MODES for k in t[m]["by_kind"]})  # type: ignore[attr-defined]
    out = [
        "## By OS and CPU",
        "",
        "Frames agreeing / Breakpad's frames, all threads. *strong* = found by context, CFI or frame pointer.",
        "",
        "| OS CPU | dumps | strong, no symbols | scan, no symbols | dumps with symbols | strong, symbols "
        "| scan, symbols |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in kinds:
        cells = [kind]
        for mode in ("nosym", "sym"):
            entry = t[mode]["by_kind"].get(kind)  # type: ignore[attr-defined]
            if entry is None:
                cells += ["–"] * 3
                continue
            cells += [str(entry["dumps"]), _pct(entry["strong_frames"]), _pct(entry["scan_frames"])]
        out.append("| " + " | ".join(cells) + " |")
    return [*out, ""]


def _header_cell(c: DumpComparison) -> str:
    h = c.header
    ok = [h.reason_ok, h.address_ok, h.thread_ok, h.modules_ok]
    return "✓" if all(ok) else "**" + "".join("✓" if v else "✗" for v in ok) + "**"


def _dump_section(report: Report) -> list[str]:
    sym = {c.name: c for c in report.results["sym"]}
    out = [
        "## Per dump",
        "",
        "*header* = crash reason, address, crashing thread and every `Module` line (✓ all agree). Frame cells "
        "are agreeing / Breakpad's frames over all threads (bold when they differ); *extra* = frames only we "
        "produce; *threads* = threads with any difference; – = no such frames (or no symbols for the dump).",
        "",
        "| dump | OS CPU | header | strong, no sym | scan, no sym | strong, sym | scan, sym | extra | threads |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in report.results["nosym"]:
        s = sym.get(c.name)
        differing = [t.thread for t in c.disagreeing_threads] + ([t.thread for t in s.disagreeing_threads] if s else [])
        cells = [
            f"`{c.name}`",
            c.kind,
            _header_cell(c) if s is None or _header_cell(s) == "✓" else _header_cell(s),
            _cell(c.count(strong=True)),
            _cell(c.count(strong=False)),
            _cell(s.count(strong=True)) if s else "–",
            _cell(s.count(strong=False)) if s else "–",
            str(c.extra_frames + (s.extra_frames if s else 0)),
            ", ".join(str(t) for t in sorted(set(differing))) or "–",
        ]
        out.append("| " + " | ".join(cells) + " |")
    out += [
        "",
        "Alternative symbol sets (`symbols-alt/<variant>` ahead of the dump's symbols, as Breakpad was run):",
        "",
        "| dump | variant | header | strong | scan | extra |",
        "|---|---|---|---|---|---|",
    ]
    for c in report.results["alt"]:
        out.append(
            f"| `{c.name}` | {c.variant} | {_header_cell(c)} | {_cell(c.count(strong=True))} | "
            f"{_cell(c.count(strong=False))} | {c.extra_frames} |"
        )
    out += ["", "Dumps Breakpad could not process (no reference output; not counted above):", ""]
    for name, same, said in report.unprocessable:
        verdict = "we refuse it too" if same else "**we walk it**"
        out.append(f"* `{name}`: {verdict} ({said})")
    return [*out, ""]


def _frame_text(key: tuple[str, ...] | None, trust: str | None) -> str:
    if key is None:
        return "—"
    return "`" + " ".join(k for k in key if k) + f"` ({trust})"


def _stderr_lines(item: CorpusDump, mode: str, thread_id: int) -> list[str]:
    """Breakpad's ERROR lines about one thread, from its log of the run (timestamps and paths dropped)."""
    path = item.reference(with_symbols=mode != "nosym", suffix=".m.stderr")
    if mode == "nosym" or not path.is_file():
        path = item.reference(with_symbols=True, suffix=".m.stderr")
    if not path.is_file():
        return []
    out: list[str] = []
    inside = False
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        text = re.sub(r"^\S+ \S+ ", "", line)
        if "Looking at thread" in text:
            inside = text.endswith(f"id 0x{thread_id:x}")
        elif inside and "ERROR" in text:
            out.append(re.sub(r"\S*corpus/", "", text))
    return out


def _disagreement(item: CorpusDump, c: DumpComparison) -> list[str]:
    """One dump's disagreeing threads in one mode: the verdict once, then each thread's frames and log."""
    known = KNOWN.get(c.name)
    out = [f"### `{c.name}` ({MODE_TITLES.get(c.mode, c.mode)})", ""]
    if known is None:
        out += ["**Right: not yet explained.**", ""]
    else:
        out += [f"**Right: {known.right}.** {known.why}", ""]
    for thread in c.disagreeing_threads:
        stack = c.result.thread(thread.thread)
        out += [
            f"Thread {thread.thread}: Breakpad {thread.expected_frames} frames, ours {thread.actual_frames}.",
            "",
            "| # | Breakpad | ours |",
            "|---|---|---|",
        ]
        rows = [r for r in thread.rows if not r.agrees]
        for r in rows[:12]:
            out.append(f"| {r.index} | {_frame_text(r.expected, r.trust)} | {_frame_text(r.actual, r.actual_trust)} |")
        if len(rows) > 12:
            out.append(f"| … | {len(rows) - 12} more | |")
        log = [] if stack is None else _stderr_lines(item, c.mode, stack.thread_id)
        if stack is not None and log:
            out += [
                "",
                f"Breakpad's log for thread {thread.thread} (id 0x{stack.thread_id:x}):",
                "",
                "```",
                *log,
                "```",
            ]
        out.append("")
    return out


def _disagreements_section(report: Report) -> list[str]:
    items = {d.name: d for d in corpus_dumps()}
    out = ["## Disagreements", ""]
    found = False
    for mode in MODES:
        for c in report.results[mode]:
            if c.disagreeing_threads:
                found = True
                out += _disagreement(items[c.name], c)
            h = c.header
            if not (h.reason_ok and h.address_ok and h.thread_ok and h.modules_ok):
                found = True
                out += [f"### `{c.name}` ({MODE_TITLES[mode]}): header", "", f"Ours vs Breakpad's: {h}", ""]
    if not found:
        out += ["None.", ""]
    return out


# --- evidence for Breakpad behaviours we reproduce ---------------------------------------------------------------


def _describe_word(value: int, modules: ModuleList | None, symbols: SymbolLookup) -> str:
    module = None if modules is None else modules.module_at(value - 1)
    if module is None:
        return ""
    function = symbols.function_at(module, value - 1 - module.base_address)
    where = f"{module.filename} + 0x{value - module.base_address:x}"
    return where + (f" ({function})" if function else "")


def _stack_words(
    dump: Minidump, stack_index: int, start: int, end: int, symbols: SymbolLookup
) -> tuple[list[str], int]:
    """Annotated stack words ``[start, end)`` of a thread (Breakpad numbering); the second item is its id."""
    result_threads = [t for t in dump_threads(dump) if t[0] == stack_index]
    if not result_threads:
        return [], 0
    _, thread = result_threads[0]
    memory = dump.thread_stack(thread)
    modules = dump.get_stream(ModuleList)
    lines = []
    for address in range(start, end, 4):
        word = None if memory is None else memory.read_u32(address)
        text = "unreadable" if word is None else f"0x{word:08x}  {_describe_word(word, modules, symbols)}"
        lines.append(f"0x{address:08x}: {text}".rstrip())
    return lines, thread.thread_id


def dump_threads(dump: Minidump) -> Iterable[tuple[int, Thread]]:
    """(Breakpad index, thread) pairs: the dump-writing thread is skipped, as in the walker."""
    threads = dump.get_stream(ThreadList)
    info = dump.get_stream(BreakpadInfo)
    skip = None if info is None else info.dump_thread_id
    index = 0
    for thread in threads.threads if threads is not None else ():
        if skip is not None and thread.thread_id == skip:
            continue
        yield index, thread
        index += 1


def _frames_line(stack: ThreadStack | None, first: int, last: int) -> list[str]:
    if stack is None:
        return []
    out = []
    for i, f in enumerate(stack.frames[first : last + 1], first):
        where = f"{f.module_name} + 0x{f.module_offset:x}" if f.module_offset is not None else f"0x{f.offset:x}"
        name = f" ({f.function})" if f.function else ""
        sp = f.registers.get("esp", f.registers.get("sp", 0))
        out.append(f"{i}: {where}{name}, sp 0x{sp:x}, {f.trust}")
    return out


def _reproduced_section(report: Report) -> list[str]:
    items = {d.name: d for d in corpus_dumps()}
    out = [
        "## Breakpad behaviours reproduced on purpose",
        "",
        "Breakpad is the reference, so where its rule is questionable we still follow it (and say so here). "
        "Both were disagreements before this report existed; both now agree.",
        "",
    ]
    x86 = items.get("mozilla-services__minidump-stackwalk__windows-x86")
    sym = {c.name: c for c in report.results["sym"]}
    if x86 is not None and x86.name in sym and x86.symbols is not None:
        stack = sym[x86.name].result.thread(54)
        symbols = stackwalker((x86.symbols,)).symbols
        with Minidump.from_path(x86.dump) as dump:
            words, _ = (
                _stack_words(dump, 54, stack.frames[5].registers["esp"], stack.frames[6].registers["esp"], symbols)
                if stack is not None and len(stack.frames) > 6
                else ([], 0)
            )
        out += [
            "### `.cbCalleeParams` is frame 0's parameter size (windows-x86 thread 54, with symbols)",
            "",
            "**Right: crashcart's former output; Breakpad's is reproduced.** `StackwalkerX86::"
            "GetCallerByWindowsFrameInfo` looks for the callee's parameter size in a loop from the callee down to "
            "frame 0 without a `break`, so the value used is that of the lowest frame with STACK WIN/FUNC info "
            "(here frame 0, `win32u.dll!NtUserMsgWaitForMultipleObjectsEx`, 20 bytes), not the callee's "
            "(`_RunDelegateThread`, 0 bytes). Frame 5 (`_DelegateThreadProc`) has a `.raSearch` program, "
            "`STACK WIN 4 26b70 8a 2 0 0 c 0 0 1 $T0 .raSearch = $eip $T0 ^ = …`: 12 bytes of saved registers, "
            "no locals. The return address is therefore at esp + 12 (`0x63c86c0d`, `s_ThreadProc`), but Breakpad "
            "starts at esp + 32 and its three-word look-ahead takes the next code address, `_RtlUserThreadStart`, "
            "dropping two real frames (`CManagerImpl::s_ThreadProc` and `kernel32!BaseThreadInitThunk`, whose "
            "ebp chain `0x1d77fab0 → 0x1d77fac0 → 0x1d77fb1c` is intact in the words below). The rule matters only "
            "when frame 0's and the real callee's parameter sizes differ and a program uses `.raSearch`.",
            "",
            "Stack of thread 54 from frame 5's esp to frame 6's (ours = Breakpad's):",
            "",
            "```",
            *words,
            "```",
            "",
            "Frames 4–6 as both walkers now report them:",
            "",
            "```",
            *_frames_line(stack, 4, 6),
            "```",
            "",
        ]
    arm = items.get("mozilla-services__minidump-stackwalk__android-arm")
    nosym = {c.name: c for c in report.results["nosym"]}
    if arm is not None and arm.name in nosym:
        stack = nosym[arm.name].result.thread(76)
        lines: list[str] = []
        with Minidump.from_path(arm.dump) as dump:
            modules = dump.get_stream(ModuleList)
            if stack is not None and modules is not None and stack.frames:
                sp = stack.frames[-1].registers["sp"]
                memory = [t for i, t in dump_threads(dump) if i == 76]
                region = dump.thread_stack(memory[0]) if memory else None
                for address in range(sp, sp + 41 * 4, 4):
                    word = None if region is None else region.read_u32(address)
                    if word is None:
                        break
                    owners = [m for m in modules.modules if m.base_address <= word - 1 < m.end_address]
                    if owners and modules.module_at(word - 1) is None:
                        inner = [
                            m
                            for m in modules.modules
                            if owners[0].base_address < m.base_address < owners[0].end_address
                        ]
                        lines.append(
                            f"0x{address:08x}: 0x{word:08x}  inside {owners[0].filename} "
                            f"0x{owners[0].base_address:x}-0x{owners[0].end_address:x}, which Breakpad cuts at "
                            f"0x{inner[0].base_address:x} ({inner[0].filename} "
                            f"0x{inner[0].base_address:x}-0x{inner[0].end_address:x})"
                            if inner
                            else f"0x{address:08x}: 0x{word:08x}  inside {owners[0].filename}"
                        )
        out += [
            "### Overlapping modules on Linux/Android: the lower one is truncated (android-arm thread 76)",
            "",
            "**Right: undecidable; Breakpad's rule is reproduced.** Breakpad's module map for Linux and Android "
            "dumps uses `MergeRangeStrategy::kTruncateLower` (`MinidumpModuleList`, copied into "
            "`BasicCodeModules`): where module ranges overlap, the lower module ends at the higher one's base "
            "and does not resume above it. Android's maps put small mappings such as `ashmem` inside a library's "
            "reserved range, so the rest of `libicuuc.so` belongs to no module and a scanned return address "
            "there is rejected. The last frame of thread 76 is a scan; the word the scan used to take is below. "
            "Breakpad ends the thread after 21 frames; before the fix we took this word and scanned 5 more "
            "frames. Both are scanned guesses at the bottom of the stack, so neither is provably right.",
            "",
            "From the last frame's sp (40 words), words inside a module's own range that the truncated map "
            "assigns to no module:",
            "",
            "```",
            *lines,
            "```",
            "",
            "Modelled in `ModuleList.from_modules(truncate_lower=True)` (chosen for Linux and Android by the "
            "platform id).",
            "",
        ]
    return out


def render(report: Report) -> str:
    t = report.totals()
    lines = [
        "# Stack walker conformance with Breakpad",
        "",
        f"Generated on {report.date} by `{COMMAND}` (`make conformance`) from the corpus in "
        "`../shared/corpus` (Breakpad `minidump_stackwalk` mid-2023 references). Do not edit: "
        "`tests/stackwalk/test_corpus.py` fails when this file differs from a fresh run.",
        "",
        "**What is compared**, for every dump Breakpad processed, without symbols (`<id>.nosym.m`), with the "
        "corpus symbols (`<id>.m`), and with each alternative symbol set "
        "(`<id>.alt-<variant>.m`): the crash reason, crash address and crashing thread, every `Module|` line, "
        "and every frame of **every thread**, by position. A frame is (module, module offset) — or (module, "
        "function, offset from the line record or function start, as Breakpad prints it) when Breakpad names "
        "a function. Normalised as Breakpad prints frames: Breakpad's `inline record` frames are dropped (we "
        "produce no inline frames; every real frame is still compared), thread numbering skips the "
        "dump-writing thread on both sides, x86/amd64 offsets are return addresses on both sides. Frames "
        "Breakpad found by context, CFI or frame pointer (*strong*) are the issue's criterion; scanned frames "
        "are reported separately. Code: `devtools/corpus_compare.py`.",
        "",
        "**Our side is the production path**: every walk goes through `crashcart.stackwalk.stackwalker."
        "Stackwalker`, the entry point `crashcart stackwalk` and the processor use; with symbols, through "
        "`crashcart.symbols` (`file://` sources over the corpus symbol directories, each file converted into "
        "a fresh on-disk symbol cache, one per symbol set), which also gives the function names and the "
        "line and function bases of the printed offsets.",
        "",
        *_totals_section(report),
        *_kind_section(report),
        *_dump_section(report),
        *_disagreements_section(report),
        *_reproduced_section(report),
        "## Totals (machine-readable)",
        "",
        "```json",
        "{",
        ",\n".join(f' "{mode}": {json.dumps(t[mode], sort_keys=True)}' for mode in MODES),
        "}",
        "```",
        "",
    ]
    return "\n".join(lines)


def committed_totals(text: str) -> dict[str, object] | None:
    """The machine-readable totals of a rendered report."""
    match = _JSON_BLOCK.search(text)
    return None if match is None else json.loads(match.group(1))  # type: ignore[no-any-return]


def committed_date(text: str) -> str | None:
    match = _DATE_LINE.search(text)
    return None if match is None else match.group(1)


def main(argv: Sequence[str] = ()) -> int:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 1
    report = build()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(render(report), encoding="utf-8")
    t = report.totals()
    for mode in MODES:
        print(f"{MODE_TITLES[mode]:24s} strong {_pct(t[mode]['strong_frames'])}  scan {_pct(t[mode]['scan_frames'])}")
    print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
