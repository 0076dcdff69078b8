"""InProcessWalker: fixture dumps to rust-minidump JSON with one provider kept across crashes; bad dumps give
a status, never an exception."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from crashcart.processor.walker import InProcessWalker, Walker, failure_document
from crashcart.settings import load_settings
from crashcart.stackwalk import WALKER_VERSION, WalkOptions
from crashcart.symbols import build_symbol_provider

FIXTURES = Path(__file__).parents[1] / "fixtures"
DUMPS = FIXTURES / "minidump"
SYMBOLS = FIXTURES / "symbols" / "store"


@pytest.fixture
def walker(tmp_path: Path) -> Iterator[InProcessWalker]:
    settings = load_settings({}, symbols_urls=SYMBOLS.resolve().as_uri(), symbols_cache_dir=tmp_path, data_dir=tmp_path)
    walker = InProcessWalker(build_symbol_provider(settings), WalkOptions(max_seconds=30.0))
    yield walker
    walker.close()


def test_is_a_walker(walker: InProcessWalker) -> None:
    typed: Walker = walker
    assert callable(typed)


def test_linux_dump(walker: InProcessWalker) -> None:
    doc = walker(DUMPS / "linux-mini.dmp", {})
    assert doc["status"] == "OK"
    assert doc["stackwalker"]["version"] == WALKER_VERSION
    assert doc["crash_info"]["type"] == "SIGSEGV /0x00000000"
    assert doc["crash_info"]["crashing_thread"] == 0
    assert doc["system_info"]["os"] == "Linux"
    assert doc["lsb_release"]["description"] == "Ubuntu 16.04.3 LTS"
    assert doc["crashing_thread"]["frames"][0]["module"] == "crash"


def test_windows_dump_with_raw_crash_cert_info(walker: InProcessWalker) -> None:
    raw = {"ModuleSignatureInfo": json.dumps({"Microsoft Windows": ["ntdll.dll"]})}
    doc = walker(DUMPS / "minidump2.dmp", raw)
    modules = {m["filename"]: m for m in doc["modules"]}
    assert modules["ntdll.dll"]["cert_subject"] == "Microsoft Windows"
    assert doc["modules_contains_cert_info"] is True
    assert doc["crash_info"]["type"] == "EXCEPTION_ACCESS_VIOLATION_WRITE"


def test_provider_is_kept_across_crashes(walker: InProcessWalker) -> None:
    provider = walker.supplier.provider
    first = walker(DUMPS / "thread_name_list.dmp", {})
    second = walker(DUMPS / "thread_name_list.dmp", {})
    assert walker.supplier.provider is provider
    assert first == second
    assert first["crash_info"]["crashing_thread"] == 5


def test_not_a_minidump(walker: InProcessWalker, tmp_path: Path) -> None:
    path = tmp_path / "garbage.dmp"
    path.write_bytes(b"not a minidump at all" * 4)
    doc = walker(path, {})
    assert doc == failure_document("not_a_minidump")
    assert doc["status"] == "ERROR_NOT_A_MINIDUMP"
    assert doc["stackwalker"] == {"version": WALKER_VERSION, "status": "failed", "notes": ["not_a_minidump"]}


def test_missing_file(walker: InProcessWalker, tmp_path: Path) -> None:
    assert walker(tmp_path / "gone.dmp", {})["status"] == "ERROR_IO_ERROR"


def test_truncated_dump(walker: InProcessWalker, tmp_path: Path) -> None:
    path = tmp_path / "cut.dmp"
    path.write_bytes((DUMPS / "linux-mini.dmp").read_bytes()[:200])
    doc = walker(path, {})
    assert isinstance(doc, dict)
    assert doc["status"].startswith("ERROR")  # a dump cut short: no walkable thread, never an exception
