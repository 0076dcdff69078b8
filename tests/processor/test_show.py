"""``crashcart crash show``: real dumps processed end to end, then summarised (``render``, ``load``, the command)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from crashcart.crashid import create_crash_id
from crashcart.errors import CrashNotFound
from crashcart.metrics import Metrics
from crashcart.processor.app import build_worker, prepare
from crashcart.processor.show import DEFAULT_FRAMES, CrashNotProcessed, crashing_thread, load, render
from crashcart.processor.worker import Worker
from crashcart.settings import Settings, load_settings
from crashcart.storage import Role, open_storage
from crashcart.storage.fs import FSCrashStorage
from crashcart.storage.interfaces import DumpFile

FIXTURES = Path(__file__).parents[1] / "fixtures"
INLINE_DUMP = FIXTURES / "crashes" / "linux_inline.dmp"
UNSYMBOLICATED_DUMP = FIXTURES / "minidump" / "linux-mini.dmp"
SYMBOLS = FIXTURES / "symbols" / "store"
HOSTILE = "evil\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\rok\u202egnp.exe\x9b31m"


def _store(settings: Settings, dump: Path, **annotations: str) -> str:
    now = dt.datetime.now(dt.UTC)
    crash_id = create_crash_id(now)
    data = dump.read_bytes()
    raw = {"ProductName": "Test", "Version": "1.2.3", "submitted_timestamp": now.isoformat(), **annotations}
    FSCrashStorage(settings.data_dir / "storage").save_raw_crash(
        crash_id, raw, [DumpFile("upload_file_minidump", len(data), hashlib.sha256(data).hexdigest(), data=data)]
    )
    return crash_id


def _process(data_dir: Path, index_url: str, dump: Path, **annotations: str) -> tuple[str, dict[str, Any]]:
    """Store ``dump`` as a crash and run the default ruleset over it in process, as a worker does."""
    settings = load_settings(
        environ={}, data_dir=data_dir, database_url=index_url, symbols_urls=SYMBOLS.resolve().as_uri()
    )
    queue, storage = prepare(settings)
    parts = build_worker(settings, Metrics(None))
    try:
        crash_id = _store(settings, dump, **annotations)
        queue.publish("standard", [crash_id])
        assert Worker(parts.queue, parts.processor).run_once()
        return crash_id, FSCrashStorage(data_dir / "storage").get_processed_crash(crash_id)
    finally:
        parts.close()
        queue.close()
        storage.close()


@pytest.fixture(scope="module")
def inline_crash(tmp_path_factory: pytest.TempPathFactory, index_url: str) -> tuple[Path, str, dict[str, Any]]:
    """Breakpad's ``linux_inline.dmp`` processed with its symbols, a release channel carrying escapes."""
    data_dir = tmp_path_factory.mktemp("show")
    crash_id, processed = _process(data_dir, index_url, INLINE_DUMP, ReleaseChannel=f"beta{HOSTILE}")
    return data_dir, crash_id, processed


def _no_control_characters(text: str) -> None:
    bad = {char for char in text if unicodedata.category(char) == "Cc" and char != "\n"}
    assert not bad, f"control characters reached the terminal: {bad!r}"
    assert "\u202e" not in text


def test_real_crash_summary_frames_inlines_and_notes(inline_crash: tuple[Path, str, dict[str, Any]]) -> None:
    _, crash_id, processed = inline_crash
    text = render(crash_id, processed)
    lines = text.splitlines()
    assert lines[0].split() == ["crash", "id", crash_id]
    summary = {line.split(None, 1)[0]: line.split(None, 1)[1] for line in lines[1:14] if line}
    assert summary["product"] == "Test" and summary["version"] == "1.2.3"
    # When it was processed (the last run), not date_processed (Socorro's meaning: when it was submitted).
    assert summary["processed"] == processed["completed_datetime"] != processed["date_processed"]
    assert summary["signature"] == processed["signature"] == "func"
    assert summary["reason"] == "SIGILL / ILL_ILLOPN"
    assert summary["address"] == processed["address"]
    assert summary["os"] == "Linux" and summary["cpu"] == "amd64"
    header = next(i for i, line in enumerate(lines) if line.startswith("crashing thread"))
    assert lines[header] == "crashing thread 0: 50 frames"
    # the frame's inline frames, innermost first, then the frame itself at the call site
    assert [line.split() for line in lines[header + 1 : header + 5]] == [
        ["0", "linux_inline", "func()", "linux_inline.cpp:27", "[inlined]"],
        ["linux_inline", "bar()", "c.cpp:32", "[inlined]"],
        ["linux_inline", "foo()", "b.cpp:39", "[inlined]"],
        ["linux_inline", "main", "a.cpp:42", "[context]"],
    ]
    frame1 = processed["json_dump"]["crashing_thread"]["frames"][1]
    assert lines[header + 5].split() == ["1", frame1["module"], f"+{frame1['module_offset']}", f"[{frame1['trust']}]"]
    numbered = [line for line in lines if line[:4].strip().isdigit()]
    assert len(numbered) == DEFAULT_FRAMES
    assert "  … 10 more frames" in lines
    assert lines[lines.index("processor notes:") + 1] == "  client_crash_date is unknown"


def test_all_frames_and_a_hint(inline_crash: tuple[Path, str, dict[str, Any]]) -> None:
    _, crash_id, processed = inline_crash
    every = render(crash_id, processed, max_frames=None).splitlines()
    assert [line.split()[0] for line in every if line[:4].strip().isdigit()] == [str(n) for n in range(50)]
    assert not any("more frame" in line for line in every)
    few = render(crash_id, processed, max_frames=2, hint="--all-frames shows them").splitlines()
    assert "  … 48 more frames (--all-frames shows them)" in few


def test_hostile_annotation_from_a_real_crash_is_neutralised(inline_crash: tuple[Path, str, dict[str, Any]]) -> None:
    _, crash_id, processed = inline_crash
    assert "\x1b" in processed["release_channel"]  # the payload survived processing: the renderer must cope
    text = render(crash_id, processed)
    _no_control_characters(text)
    channel = next(line for line in text.splitlines() if line.startswith("channel"))
    assert channel.endswith("betaevil\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J\\rok\\u202egnp.exe\\x9b31m")


def test_real_unsymbolicated_crash_shows_modules_and_offsets(tmp_path: Path, index_url: str) -> None:
    crash_id, processed = _process(tmp_path, index_url, UNSYMBOLICATED_DUMP)
    lines = render(crash_id, processed).splitlines()
    frames = processed["json_dump"]["crashing_thread"]["frames"]
    first = lines.index(f"crashing thread 0: {len(frames)} frames") + 1
    assert lines[first].split() == ["0", "crash", f"+{frames[0]['module_offset']}", "[context]"]


def test_load_tells_unknown_from_unprocessed(inline_crash: tuple[Path, str, dict[str, Any]], tmp_path: Path) -> None:
    data_dir, crash_id, processed = inline_crash
    storage = open_storage(load_settings(environ={}, data_dir=data_dir), Role.WEBAPP)
    try:
        assert load(storage, crash_id) == processed
        unknown = create_crash_id(dt.datetime.now(dt.UTC))
        with pytest.raises(CrashNotFound, match=f"no crash {unknown}"):
            load(storage, unknown)
        settings = load_settings(environ={}, data_dir=data_dir)
        stored_only = _store(settings, UNSYMBOLICATED_DUMP)
        with pytest.raises(CrashNotProcessed, match=f"not processed yet.*crashcart reprocess {stored_only}"):
            load(storage, stored_only)
    finally:
        storage.close()


def test_hostile_values_everywhere_are_escaped() -> None:
    processed = {
        "product": HOSTILE,
        "signature": f"sig{HOSTILE}",
        "reason": 12,
        "address": ["not", "text"],
        "processor_notes": f"first; second{HOSTILE}",
        "json_dump": {
            "crashing_thread": {
                "thread_name": HOSTILE,
                "threads_index": 0,
                "frames": [
                    {
                        "frame": 0,
                        "module": HOSTILE,
                        "function": HOSTILE,
                        "file": HOSTILE,
                        "line": 7,
                        "trust": HOSTILE,
                        "inlines": [{"function": HOSTILE, "file": HOSTILE, "line": "x"}, "junk"],
                    },
                    "not a frame",
                    {"frame": "x", "offset": "0x10"},
                ],
            }
        },
    }
    text = render("de1bb258-cbbf-4589-a673-34f800160918", processed)
    _no_control_characters(text)
    assert "sigevil\\x1b]52" in text
    assert "reason     12" in text
    assert "  second" + "evil\\x1b" in text
    assert "crashing thread 0 (evil\\x1b" in text and ": 2 frames" in text
    assert text.splitlines()[-1].startswith("  secondevil")


def test_a_megabyte_value_is_cut() -> None:
    text = render("de1bb258-cbbf-4589-a673-34f800160918", {"signature": "A" * 1_000_000})
    signature = next(line for line in text.splitlines() if line.startswith("signature"))
    assert signature.endswith("A…") and len(signature) < 1100


@pytest.mark.parametrize(
    "json_dump",
    [
        None,
        "text",
        {"threads": "no"},
        {"crashing_thread": {"frames": "no"}},
        {"crash_info": {"crashing_thread": True}, "threads": [{"frames": []}]},
        {"crash_info": {"crashing_thread": 5}, "threads": [{"frames": []}]},
    ],
)
def test_no_crashing_thread_is_said_not_guessed(json_dump: Any) -> None:
    processed = {"json_dump": json_dump, "crashing_thread": None}
    assert crashing_thread(processed) is None
    assert "crashing thread: unknown" in render("de1bb258-cbbf-4589-a673-34f800160918", processed)


def test_older_documents_name_the_thread_by_index() -> None:
    threads = [{"frames": []}, {"frames": [{"frame": 0, "module": "app", "function": "boom"}]}]
    processed = {"crashing_thread": 1, "json_dump": {"threads": threads}}
    assert crashing_thread(processed) == (1, threads[1])
    assert "   0  app  boom  [?]" in render("de1bb258-cbbf-4589-a673-34f800160918", processed).splitlines()


def _crashcart(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRASHCART_")}
    return subprocess.run(
        [sys.executable, "-m", "crashcart.cli", "crash", "show", *args],
        env={**env, "CRASHCART_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_on_a_real_crash(inline_crash: tuple[Path, str, dict[str, Any]]) -> None:
    data_dir, crash_id, processed = inline_crash
    out = _crashcart(data_dir, f"bp-{crash_id}")
    assert out.returncode == 0, out.stderr
    assert out.stdout == render(crash_id, processed, hint="--all-frames shows them")
    assert "… 10 more frames (--all-frames shows them)" in out.stdout
    _no_control_characters(out.stdout)
    every = _crashcart(data_dir, crash_id, "--all-frames")
    assert every.stdout == render(crash_id, processed, max_frames=None)
    as_json = _crashcart(data_dir, crash_id, "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == processed
    _no_control_characters(as_json.stdout)
    assert as_json.stdout.isascii()
