"""``crashcart stackwalk``: the command run as a subprocess, and ``run_stackwalk`` directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crashcart.settings import load_settings
from crashcart.stackwalk.command import StackwalkCommandError, StackwalkRequest, run_stackwalk, symbol_urls

FIXTURES = Path(__file__).parents[1] / "fixtures"
DUMP = FIXTURES / "minidump" / "minidump2.dmp"
STORE = FIXTURES / "symbols" / "store"
CORPUS_SYMBOLS = Path("/work/shared/corpus/google__breakpad/symbols")


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
    assert symbol_urls(request) == f"{tmp_path.resolve().as_uri()} https://symbols.example/"


def test_raw_crash_adds_cert_info(tmp_path: Path) -> None:
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps({"ModuleSignatureInfo": json.dumps({"Microsoft Windows": ["kernel32.dll"]})}))
    settings = load_settings({}, data_dir=tmp_path / "data")
    doc = json.loads(run_stackwalk(StackwalkRequest(DUMP, as_json=True, raw_crash=raw), settings))
    assert doc["modules_contains_cert_info"] is True
    modules = {m["filename"]: m for m in doc["modules"]}
    assert modules["kernel32.dll"]["cert_subject"] == "Microsoft Windows"
    assert modules["ntdll.dll"]["cert_subject"] is None


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]"])
def test_bad_raw_crash_is_an_error(tmp_path: Path, content: bytes) -> None:
    raw = tmp_path / "raw.json"
    raw.write_bytes(content)
    settings = load_settings({}, data_dir=tmp_path / "data")
    with pytest.raises(StackwalkCommandError, match="raw crash"):
        run_stackwalk(StackwalkRequest(DUMP, as_json=True, raw_crash=raw), settings)
