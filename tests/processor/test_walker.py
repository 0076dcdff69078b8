"""InProcessWalker: fixture dumps to rust-minidump JSON with one provider kept across crashes; bad dumps give
a status, never an exception."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from crashcart.processor.walker import InProcessWalker, Walker, failure_document, walker_config
from crashcart.s3client import S3ClientConfig
from crashcart.settings import load_settings
from crashcart.stackwalk import WALKER_VERSION
from crashcart.stackwalk.stackwalker import Stackwalker

FIXTURES = Path(__file__).parents[1] / "fixtures"
DUMPS = FIXTURES / "minidump"
SYMBOLS = FIXTURES / "symbols" / "store"


@pytest.fixture
def walker(tmp_path: Path) -> Iterator[InProcessWalker]:
    settings = load_settings(
        {},
        symbols_urls=SYMBOLS.resolve().as_uri(),
        symbols_cache_dir=tmp_path,
        data_dir=tmp_path,
        stackwalk_max_seconds=30,
    )
    walker = InProcessWalker(Stackwalker(walker_config(settings)))
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
    lookup = walker.stackwalker.provider_lookup
    assert lookup is not None
    provider = lookup.provider
    first = walker(DUMPS / "thread_name_list.dmp", {})
    second = walker(DUMPS / "thread_name_list.dmp", {})
    assert walker.stackwalker.provider_lookup is lookup
    assert lookup.provider is provider
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


def test_walker_config_from_settings(tmp_path: Path) -> None:
    """The deployment's walker as values: symbol sources, cache, limits and the symbols' own S3 client."""
    settings = load_settings(
        {"CRASHCART_SYMBOLS_S3_ENDPOINT_URL": "http://127.0.0.1:9100"},
        data_dir=tmp_path,
        symbols_urls="file:///srv/a, https://symbols.example.org/",
        symbols_cache_max_size=1000,
        symbols_missing_ttl=60,
        symbols_http_timeout=3,
        stackwalk_max_frames=77,
        stackwalk_max_seconds=9,
        s3_endpoint_url="http://127.0.0.1:9000",
    )
    config = walker_config(settings)
    assert config.symbol_urls == ("file:///srv/a, https://symbols.example.org/",)
    assert config.symbols_cache_dir == tmp_path / "symbols"
    assert (config.symbols_cache_max_size, config.symbols_missing_ttl, config.symbols_http_timeout) == (1000, 60, 3)
    assert config.symbols_s3 == S3ClientConfig.for_symbols(settings)
    assert config.symbols_s3 is not None and config.symbols_s3.endpoint_url == "http://127.0.0.1:9100"
    assert (config.options.max_frames, config.options.max_seconds) == (77, 9)


def test_without_symbol_sources_nothing_is_cached(tmp_path: Path) -> None:
    walker = InProcessWalker(Stackwalker(walker_config(load_settings({}, data_dir=tmp_path))))
    try:
        doc = walker(DUMPS / "linux-mini.dmp", {})
    finally:
        walker.close()
    assert doc["status"] == "OK"
    assert walker.stackwalker.provider_lookup is None
    touched = [m for m in doc["modules"] if m["missing_symbols"]]
    assert touched and not any(m["loaded_symbols"] for m in doc["modules"])
    assert not (tmp_path / "symbols").exists()
