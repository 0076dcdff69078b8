"""``crashcart stackwalk``: the command run as a subprocess, and ``run_stackwalk`` directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crashcart.stackwalk.command import (
    StackwalkCommandError,
    StackwalkRequest,
    request_config,
    run_stackwalk,
    symbol_urls,
)
from crashcart.stackwalk.stackwalker import WalkerConfig
from crashcart.stackwalk.walker import WalkOptions
from tests.helpers.shared import CORPUS
from tests.stackwalk.crash_dumps import shared_chain_dump

FIXTURES = Path(__file__).parents[1] / "fixtures"
DUMP = FIXTURES / "minidump" / "minidump2.dmp"
STORE = FIXTURES / "symbols" / "store"
CORPUS_SYMBOLS = CORPUS / "google__breakpad" / "symbols"


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRASHCART_")}
    env["CRASHCART_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-m", "crashcart.cli", "stackwalk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_text_output(tmp_path: Path) -> None:
    done = _run(tmp_path, str(DUMP))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Operating system: Windows NT"
    assert "Crash reason:  EXCEPTION_ACCESS_VIOLATION_WRITE" in lines
    assert "Crash address: 0x45" in lines
    assert "Thread 0 (crashed)" in lines
    assert " 0  test_app.exe + 0x429e" in lines
    assert "Loaded modules:" in lines


def test_json_output_with_symbols(tmp_path: Path) -> None:
    if not CORPUS_SYMBOLS.is_dir():
        pytest.skip("corpus symbols not available")
    done = _run(
        tmp_path,
        str(DUMP),
        "--json",
        "--symbols-path",
        str(STORE),
        "--symbols-url",
        CORPUS_SYMBOLS.as_uri(),
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["crash_info"]["type"] == "EXCEPTION_ACCESS_VIOLATION_WRITE"
    assert doc["crash_info"]["address"] == "0x00000045"
    assert doc["crash_info"]["crashing_thread"] == 0
    assert [f["function"] for f in doc["crashing_thread"]["frames"]] == [
        "`anonymous namespace'::CrashFunction",
        "main",
        "__tmainCRTStartup",
        "BaseProcessStart",
    ]
    assert (tmp_path / "cache").is_dir()


def test_garbage_dump_exits_1_with_message(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.dmp"
    garbage.write_bytes(b"\x00not a minidump\xff" * 64)
    done = _run(tmp_path, str(garbage))
    assert done.returncode == 1
    assert done.stdout == ""
    assert "cannot read minidump" in done.stderr
    assert "not_a_minidump" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_dump_exits_1(tmp_path: Path) -> None:
    done = _run(tmp_path, str(tmp_path / "nope.dmp"))
    assert done.returncode == 1
    assert "nope.dmp" in done.stderr
    assert "Traceback" not in done.stderr


def test_symbol_urls_order(tmp_path: Path) -> None:
    request = StackwalkRequest(DUMP, symbols_paths=[tmp_path], symbols_urls=["https://symbols.example/"])
    assert symbol_urls(request) == [tmp_path.resolve().as_uri(), "https://symbols.example/"]


def test_request_replaces_the_deployment_symbols(tmp_path: Path) -> None:
    """The command's sources, cache directory and options; the deployment's cache size, timeouts, S3 client."""
    deployment = WalkerConfig(
        symbol_urls=("https://deployment.example/",),
        symbols_cache_dir=tmp_path / "node",
        symbols_http_timeout=3,
        options=WalkOptions(max_frames=7),
    )
    options = WalkOptions(max_frames=9)
    request = StackwalkRequest(DUMP, symbols_paths=[tmp_path], options=options)
    config = request_config(request, deployment)
    assert config.symbol_urls == [tmp_path.resolve().as_uri()]
    assert (config.symbols_cache_dir, config.symbols_http_timeout, config.options) == (tmp_path / "node", 3, options)
    moved = request_config(StackwalkRequest(DUMP, cache_dir=tmp_path / "mine"), deployment)
    assert (moved.symbol_urls, moved.symbols_cache_dir) == ([], tmp_path / "mine")


def test_unreadable_dump_is_a_command_error(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.dmp"
    garbage.write_bytes(b"not a minidump" * 8)
    with pytest.raises(StackwalkCommandError, match="cannot read minidump"):
        run_stackwalk(StackwalkRequest(garbage), WalkerConfig())
    with pytest.raises(StackwalkCommandError, match=r"cannot read minidump .*No such file"):
        run_stackwalk(StackwalkRequest(tmp_path / "gone.dmp", as_json=True), WalkerConfig())


def test_raw_crash_adds_cert_info(tmp_path: Path) -> None:
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps({"ModuleSignatureInfo": json.dumps({"Microsoft Windows": ["kernel32.dll"]})}))
    settings = WalkerConfig(symbols_cache_dir=tmp_path / "data" / "symbols")
    doc = json.loads(run_stackwalk(StackwalkRequest(DUMP, as_json=True, raw_crash=raw), settings))
    assert doc["modules_contains_cert_info"] is True
    modules = {m["filename"]: m for m in doc["modules"]}
    assert modules["kernel32.dll"]["cert_subject"] == "Microsoft Windows"
    assert modules["ntdll.dll"]["cert_subject"] is None


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]"])
def test_bad_raw_crash_is_an_error(tmp_path: Path, content: bytes) -> None:
    raw = tmp_path / "raw.json"
    raw.write_bytes(content)
    settings = WalkerConfig(symbols_cache_dir=tmp_path / "data" / "symbols")
    with pytest.raises(StackwalkCommandError, match="raw crash"):
        run_stackwalk(StackwalkRequest(DUMP, as_json=True, raw_crash=raw), settings)


#: Corpus dumps whose symbols have INLINE records: (dump, symbols directory, Breakpad reference text).
INLINE_DUMPS = {
    "linux_inline": (
        "google__breakpad/dumps/linux_inline.dmp",
        "google__breakpad/symbols",
        "google__breakpad__linux_inline.txt",
    ),
    "crash-client": (
        "rust-minidump__rust-minidump/dumps/pipeline-inlines-macos-segv.dmp",
        "rust-minidump__rust-minidump/symbols",
        "rust-minidump__rust-minidump__pipeline-inlines-macos-segv.txt",
    ),
    "symbolicator-inlines": (
        "getsentry__symbolicator/dumps/macos.dmp",
        "getsentry__symbolicator/symbols-alt/inlines",
        "getsentry__symbolicator__macos.alt-inlines.txt",
    ),
}


def _inline_case(name: str) -> tuple[Path, Path, Path]:
    dump, symbols, reference = (CORPUS / part for part in INLINE_DUMPS[name])
    for path in (dump, symbols, CORPUS / "reference" / reference.name):
        if not path.exists():
            pytest.skip(f"{path} not available")
    return dump, symbols, CORPUS / "reference" / reference.name


def _crashed_thread(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith("Thread "))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("Thread ") or not lines[i])
    return lines[start:end]


@pytest.mark.corpus
def test_json_has_inline_frames_end_to_end(tmp_path: Path) -> None:
    """``crashcart stackwalk --json`` with real INLINE records: rust-minidump's ``inlines``, innermost first, on
    the real frame, whose file/line are the call site of the outermost inlined call."""
    dump, symbols, _ = _inline_case("linux_inline")
    done = _run(tmp_path, str(dump), "--json", "--symbols-path", str(symbols), "--cache-dir", str(tmp_path / "c"))
    assert done.returncode == 0, done.stderr
    frame = json.loads(done.stdout)["crashing_thread"]["frames"][0]
    assert (frame["module"], frame["function"], frame["file"], frame["line"]) == ("linux_inline", "main", "a.cpp", 42)
    assert frame["inlines"] == [
        {"function": "func()", "file": "linux_inline.cpp", "line": 27},
        {"function": "bar()", "file": "c.cpp", "line": 32},
        {"function": "foo()", "file": "b.cpp", "line": 39},
    ]
    assert frame["missing_symbols"] is False


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(INLINE_DUMPS))
def test_text_inline_frames_match_breakpad(name: str, tmp_path: Path) -> None:
    """The text output's crashed thread with inline frames (numbered, ``Found by: inline record``, ``+ 0x…``)
    is Breakpad's, line for line; and the JSON carries the same inline functions."""
    dump, symbols, reference = _inline_case(name)
    settings = WalkerConfig(symbols_cache_dir=tmp_path / "data" / "symbols")
    request = StackwalkRequest(dump, symbols_paths=[symbols], cache_dir=tmp_path / "cache")
    ours = _crashed_thread(run_stackwalk(request, settings).splitlines())
    theirs = _crashed_thread(reference.read_text().splitlines())
    assert ours == theirs
    inline_lines = sum(line == "    Found by: inline record" for line in theirs)
    assert inline_lines > 0
    doc = json.loads(
        run_stackwalk(StackwalkRequest(dump, (symbols,), as_json=True, cache_dir=tmp_path / "cache"), settings)
    )
    frames = doc["crashing_thread"]["frames"]
    assert sum(len(f["inlines"] or ()) for f in frames) == inline_lines


#: Runs the command in-process and writes its peak RSS (KiB, Linux ``ru_maxrss``) to the file named by argv[1].
_MEASURED = """
import resource, sys
from crashcart.cli import main
rss_file = sys.argv.pop(1)
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    open(rss_file, "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def _run_measured(tmp_path: Path, *args: str, **env_extra: str) -> tuple[subprocess.CompletedProcess[bytes], int]:
    """``crashcart stackwalk`` in a subprocess limited to 2 GiB of address space (a regression must not take the
    machine down): the result and the peak RSS in bytes."""
    import resource

    env = {k: v for k, v in os.environ.items() if not k.startswith("CRASHCART_")}
    env["CRASHCART_DATA_DIR"] = str(tmp_path / "data")
    env.update(env_extra)
    rss_file = tmp_path / "rss"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(rss_file), "stackwalk", *args],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
        preexec_fn=limit,
    )
    rss = int(rss_file.read_text()) * 1024 if rss_file.exists() else 0
    return done, rss


MiB = 1 << 20


def _hostile(tmp_path: Path, crashing: int = 0) -> Path:
    path = tmp_path / "hostile.dmp"
    path.write_bytes(shared_chain_dump(threads=1000, chain_bytes=64 * 1024, crashing=crashing))
    return path


def test_hostile_dump_json_is_bounded(tmp_path: Path) -> None:
    """Issue #9 point 5: 1,000 threads sharing one frame-pointer chain. With the defaults (20,000 frames per
    dump, 10 MiB of output) the output and the memory stay bounded, and the crashing thread (here the last one,
    walked first) is complete."""
    done, rss = _run_measured(tmp_path, str(_hostile(tmp_path, crashing=999)), "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout) <= 10 * MiB
    assert rss < 300 * MiB
    doc = json.loads(done.stdout)
    assert doc["crashing_thread"]["thread_id"] == 1099
    assert doc["crashing_thread"]["frame_count"] == 1024  # complete up to the per-thread limit
    assert sum(len(t["frames"]) for t in doc["threads"]) <= 20_000
    assert doc["stackwalker"]["status"] == "partial"
    truncated = doc["stackwalker"]["truncated"]
    assert truncated["frames"] is True
    assert truncated["threads_not_walked"] > 900
    assert len(doc["stackwalker"]["notes"]) <= 25


def test_hostile_dump_output_size_cap(tmp_path: Path) -> None:
    """A smaller output cap: threads after the crashing one are left out once it is reached, and counted."""
    dump = _hostile(tmp_path, crashing=500)
    done, _ = _run_measured(tmp_path, str(dump), "--json", CRASHCART_STACKWALK_MAX_OUTPUT_SIZE=str(2 * MiB))
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout) <= 2 * MiB
    doc = json.loads(done.stdout)
    crashing = doc["crash_info"]["crashing_thread"]
    assert doc["threads"][crashing]["thread_id"] == 600
    assert doc["crashing_thread"]["frame_count"] == 1024
    truncated = doc["stackwalker"]["truncated"]
    assert truncated["output_size"] is True
    assert truncated["threads_omitted"] == 1000 - len(doc["threads"]) > 0
    assert doc["thread_count"] == len(doc["threads"])
    text, _ = _run_measured(tmp_path, str(dump), CRASHCART_STACKWALK_MAX_OUTPUT_SIZE=str(2 * MiB))
    assert text.returncode == 0, text.stderr[-2000:]
    assert len(text.stdout) <= 2 * MiB
    assert b"Thread 500 (crashed)" in text.stdout
    assert b"threads omitted" in text.stdout


def test_hostile_dump_text_is_bounded(tmp_path: Path) -> None:
    done, rss = _run_measured(tmp_path, str(_hostile(tmp_path)))
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout) <= 10 * MiB
    assert rss < 300 * MiB
    assert done.stdout.count(b"Found by:") <= 20_000
