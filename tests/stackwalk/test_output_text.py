"""``build_text``: Breakpad-like text, compared with Breakpad's own output for the fixture dumps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crashcart.minidump import Minidump
from crashcart.settings import load_settings
from crashcart.stackwalk import NoSymbols, WalkOptions, walk
from crashcart.stackwalk.output_text import build_text
from crashcart.stackwalk.supplier import ProviderSupplier, RecordingSupplier
from crashcart.symbols import build_symbol_provider

FIXTURES = Path(__file__).parents[1] / "fixtures" / "minidump"
DUMPS = sorted(p.stem for p in FIXTURES.glob("*.dmp"))
CORPUS = Path("/work/shared/corpus")
#: fixture → corpus reference id (``/work/shared/corpus/reference/<id>.{nosym.txt,txt}``) and its symbols.
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
#: Breakpad's ``+ 0x…`` after a source line: the provider does not report where a line record starts.
LINE_OFFSET = re.compile(r" \+ 0x[0-9a-f]+\]$")


def _text(name: str, supplier: ProviderSupplier | None = None) -> str:
    recording = RecordingSupplier(supplier if supplier is not None else NoSymbols())
    with Minidump.from_path(FIXTURES / f"{name}.dmp") as dump:
        result = walk(dump, recording, WalkOptions())
        if supplier is None:
            return build_text(dump, result, asked=recording.asked)
        return build_text(dump, result, supplier.symbolize, supplier.status, asked=recording.asked)


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
    frames = [LINE_OFFSET.sub("]", line) for line in lines[start:modules] if FRAME_LINE.match(line)]
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
    settings = load_settings({}, symbols_urls=symbols.as_uri(), symbols_cache_dir=tmp_path)
    supplier = ProviderSupplier(build_symbol_provider(settings))
    ours = _sections(_text(name, supplier).splitlines())
    theirs = _sections(_reference(name, "txt"))
    assert ours == theirs


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
