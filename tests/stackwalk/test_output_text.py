"""``build_text``: Breakpad-like text, compared with Breakpad's own output for the fixture dumps."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from crashcart.minidump import Minidump
from crashcart.stackwalk import NoSymbols, WalkOptions, walk
from crashcart.stackwalk.output_text import build_text
from crashcart.stackwalk.symbol_lookup import ProviderLookup, RecordingLookup
from crashcart.symbols import build_symbol_provider
from tests.helpers.shared import CORPUS
from tests.stackwalk.crash_dumps import shared_chain_dump

FIXTURES = Path(__file__).parents[1] / "fixtures" / "minidump"
DUMPS = sorted(p.stem for p in FIXTURES.glob("*.dmp"))
#: fixture → corpus reference id (``../shared/corpus/reference/<id>.{nosym.txt,txt}``) and its symbols.
REFERENCES = {
    "linux-mini": ("rust-minidump__rust-minidump__linux-mini", "rust-minidump__rust-minidump"),
    "minidump2": ("google__breakpad__minidump2", "google__breakpad"),
    "pipeline-inlines-macos-segv": (
        "rust-minidump__rust-minidump__pipeline-inlines-macos-segv",
        "rust-minidump__rust-minidump",
    ),
    "thread_name_list": ("google__breakpad__thread_name_list", "google__breakpad"),
    "tiny-exe-fastfail": ("google__breakpad__tiny-exe-fastfail", "google__breakpad"),
}
FRAME_LINE = re.compile(r"^ ?\d+  \S")


def _text(name: str, lookup: ProviderLookup | None = None) -> str:
    recording = RecordingLookup(lookup if lookup is not None else NoSymbols())
    with Minidump.from_path(FIXTURES / f"{name}.dmp") as dump:
        result = walk(dump, recording, WalkOptions())
        if lookup is None:
            return build_text(dump, result, asked=recording.asked)
        return build_text(dump, result, lookup.symbolize, lookup.status, asked=recording.asked)


def _reference(name: str, suffix: str) -> list[str]:
    path = CORPUS / "reference" / f"{REFERENCES[name][0]}.{suffix}"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    return path.read_text().splitlines()


def _sections(lines: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(header up to the crashed thread line, frame lines, loaded-module lines)."""
    start = next(i for i, line in enumerate(lines) if line.startswith("Thread "))
    modules = lines.index("Loaded modules:")
    header = [line for line in lines[: start + 1] if line.strip()]
    frames = [line for line in lines[start:modules] if FRAME_LINE.match(line)]
    return header, frames, [line for line in lines[modules + 1 :] if line.strip()]


@pytest.mark.parametrize("name", DUMPS)
def test_crash_reason_and_thread_match_breakpad_m(name: str) -> None:
    """Crash reason, address and crashed thread against the fixture's ``-m`` reference."""
    crash = next(
        line for line in (FIXTURES / f"{name}.breakpad.m").read_text().splitlines() if line.startswith("Crash|")
    )
    _, reason, address, thread = crash.split("|")[:4]
    lines = _text(name).splitlines()
    assert f"Crash reason:  {reason}" in lines
    assert f"Crash address: 0x{int(address, 16):x}" in lines
    assert f"Thread {thread} (crashed)" in lines


@pytest.mark.parametrize("name", DUMPS)
def test_matches_breakpad_text_without_symbols(name: str) -> None:
    ours = _sections(_text(name).splitlines())
    theirs = _sections(_reference(name, "nosym.txt"))
    assert ours == theirs


@pytest.mark.parametrize("name", ["minidump2", "pipeline-inlines-macos-segv"])
def test_matches_breakpad_text_with_symbols(name: str, tmp_path: Path) -> None:
    symbols = CORPUS / REFERENCES[name][1] / "symbols"
    if not symbols.is_dir():
        pytest.skip(f"{symbols} not available")
    lookup = ProviderLookup(build_symbol_provider(symbols.as_uri(), tmp_path))
    ours = _sections(_text(name, lookup).splitlines())
    theirs = _sections(_reference(name, "txt"))
    assert ours == theirs


def _corpus_dumps_with_symbols() -> list[Any]:
    """``(reference id, dump, symbols dir)`` for every corpus dump with symbols, from ``MANIFEST.tsv``."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=f"{manifest} not available"))]
    params: list[Any] = []
    for row in manifest.read_text().splitlines()[1:]:
        fields = row.split("\t")
        if len(fields) < 7 or fields[6] == "none":
            continue
        dump = CORPUS / fields[0]
        ident = f"{fields[0].split('/', 1)[0]}__{dump.name.removesuffix('.dmp')}"
        marks = []
        if ident in WALKER_DIFFERENCES:
            marks.append(pytest.mark.xfail(reason=WALKER_DIFFERENCES[ident], strict=True))
        params.append(pytest.param(ident, dump, CORPUS / fields[6], id=ident, marks=marks))
    return params


#: Crashed threads whose text differs from Breakpad's for reasons in the walker, not in the output.
WALKER_DIFFERENCES: dict[str, str] = {}


def _crashed_thread(lines: list[str]) -> list[str]:
    """The crashed thread's lines: frames, registers, "Found by" (up to the next thread or the modules)."""
    start = next(i for i, line in enumerate(lines) if line.startswith("Thread "))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("Thread ") or not lines[i])
    return lines[start:end]


@pytest.mark.corpus
@pytest.mark.parametrize(("ident", "dump_path", "symbols"), _corpus_dumps_with_symbols())
def test_crashed_thread_matches_breakpad_text_with_corpus_symbols(
    ident: str, dump_path: Path, symbols: Path, tmp_path: Path
) -> None:
    """Every line of the crashed thread as Breakpad prints it with the corpus symbols: function names, source
    lines with their ``+ 0x…`` from the line record, inline frames, registers (x86 ``efl`` on frame 0)."""
    reference = CORPUS / "reference" / f"{ident}.txt"
    if not reference.is_file():
        pytest.skip(f"{reference} not available")
    lookup = ProviderLookup(build_symbol_provider(symbols.as_uri(), tmp_path))
    recording = RecordingLookup(lookup)
    with Minidump.from_path(dump_path) as dump:
        result = walk(dump, recording, WalkOptions())
        ours = build_text(dump, result, lookup.symbolize, lookup.status, asked=recording.asked)
    assert _crashed_thread(ours.splitlines()) == _crashed_thread(reference.read_text().splitlines())


def _symbolized(name: str, repo: str, tmp_path: Path) -> list[str]:
    symbols = CORPUS / repo / "symbols"
    if not symbols.is_dir():
        pytest.skip(f"{symbols} not available")
    return _text(name, ProviderLookup(build_symbol_provider(symbols.as_uri(), tmp_path))).splitlines()


def test_line_offsets_and_x86_eflags(tmp_path: Path) -> None:
    """minidump2 (x86): ``+ 0x…`` is from the line record's start to the printed address (the return address
    for callers), and frame 0 ends its registers with ``efl`` as Breakpad does."""
    lines = _symbolized("minidump2", "google__breakpad", tmp_path)
    assert " 0  test_app.exe!`anonymous namespace'::CrashFunction [test_app.cc : 58 + 0x3]" in lines
    assert " 1  test_app.exe!main [test_app.cc : 65 + 0x5]" in lines
    assert " 2  test_app.exe!__tmainCRTStartup [crt0.c : 327 + 0x12]" in lines
    assert " 3  kernel32.dll!BaseProcessStart + 0x23" in lines  # PUBLIC only: no source line, no line offset
    frame0 = lines.index(" 0  test_app.exe!`anonymous namespace'::CrashFunction [test_app.cc : 58 + 0x3]")
    assert lines[frame0 + 3] == "    edx = 0x0042bc58   efl = 0x00010246"
    # caller frames do not list efl (the walker does not recover it)
    frame1 = lines.index(" 1  test_app.exe!main [test_app.cc : 65 + 0x5]")
    assert "efl" not in lines[frame1 + 1]


def test_inline_frames_offset_from_the_lookup_address(tmp_path: Path) -> None:
    """An amd64 caller with inlines: the inline frames' ``+ 0x…`` is from the lookup address (return address
    - 1), the real frame's from the return address, so they differ by one, as in Breakpad."""
    lines = _symbolized("pipeline-inlines-macos-segv", "rust-minidump__rust-minidump", tmp_path)
    start = lines.index(" 2  crash-client!crash_client::real_main::{closure#1} [main.rs : 88 + 0x4]")
    assert lines[start + 1 : start + 3] == [" ", "    Found by: inline record"]
    assert lines[start + 3] == " 3  crash-client!crash_client::real_main [main.rs : 132 + 0x4]"
    assert lines[start + 6] == " 4  crash-client!crash_client::main [main.rs : 142 + 0x5]"
    assert lines[start + 7].startswith("    rbx = ")
    assert lines[0 : lines.index("Thread 0 (crashed)")]  # header present
    assert " 0  crash-client!core::ptr::write_volatile::<u8> [mod.rs : 1574 + 0x0]" in lines


def test_inline_frames_are_numbered_and_marked() -> None:
    symbols = CORPUS / "rust-minidump__rust-minidump" / "symbols"
    if not symbols.is_dir():
        pytest.skip(f"{symbols} not available")
    # Done through the comparison above; here only the shape of one inline frame.
    lines = _reference("pipeline-inlines-macos-segv", "txt")
    i = lines.index("    Found by: inline record")
    assert lines[i - 1] == " "


def test_no_symbols_frame_shapes() -> None:
    text = _text("linux-mini")
    assert " 0  crash + 0x1d72" in text.splitlines()
    assert "    Found by: given as instruction pointer in context" in text
    assert "Loaded modules:" in text


def test_output_cap_bounds_threads_and_modules() -> None:
    """``max_size`` bounds the text as the JSON: the crashed thread stays; other threads, then the lines of
    modules no printed frame is in, go while it is over; a line counts each."""
    dump = Minidump.from_bytes(shared_chain_dump(threads=20, chain_bytes=512, crashing=2, modules=3000))
    result = walk(dump, NoSymbols(), WalkOptions())
    whole = build_text(dump, result)
    cap = 64 * 1024
    assert len(whole) > 4 * cap
    text = build_text(dump, result, max_size=cap)
    assert len(text) <= cap
    assert "Thread 2 (crashed)" in text
    assert "threads omitted: output size limit reached)" in text
    assert "modules omitted: output size limit reached)" in text
    assert "app  ???  (main)  (WARNING: No symbols" in text
