from __future__ import annotations

from pathlib import Path

import pytest

from crashcart.errors import ConfigError
from crashcart.s3client import S3ClientConfig
from crashcart.settings import load_settings
from crashcart.symbols.fs import FileSymbolSource
from crashcart.symbols.http import HttpSymbolSource
from crashcart.symbols.s3 import S3SymbolSource
from crashcart.symbols.sources import build_symbol_source, split_urls


def test_split_urls_commas_and_whitespace_keep_order() -> None:
    assert split_urls(" file:///a,https://b/\n s3://c/p ,, ") == ["file:///a", "https://b/", "s3://c/p"]
    assert split_urls("") == []


def test_split_urls_of_a_sequence() -> None:
    assert split_urls(["file:///a, https://b/", "s3://c/p"]) == ["file:///a", "https://b/", "s3://c/p"]
    assert split_urls(["", " "]) == []


def test_builds_a_chain_in_order(tmp_path: Path) -> None:
    s3 = S3ClientConfig(endpoint_url="http://127.0.0.1:9", access_key_id="symbols-key", secret_access_key="x")
    chain = build_symbol_source(
        f"{tmp_path.as_uri()} https://symbols.example.org/ s3://bucket/prefix", http_timeout=4, s3=s3
    )
    try:
        kinds = [type(source) for source in chain.sources]
        assert kinds == [FileSymbolSource, HttpSymbolSource, S3SymbolSource]
        file_source, http_source, s3_source = chain.sources
        assert isinstance(file_source, FileSymbolSource)
        assert file_source.root == tmp_path
        assert isinstance(http_source, HttpSymbolSource)
        assert http_source._client.timeout.read == 4
        assert isinstance(s3_source, S3SymbolSource)
        assert s3_source._client.meta.endpoint_url == "http://127.0.0.1:9"
    finally:
        chain.close()


@pytest.mark.parametrize("url", ["ftp://x/", "file://host/x", "file:relative", "https:///nohost", "s3:///nobucket"])
def test_refuses_bad_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError):
        build_symbol_source(url)


def test_settings_defaults(tmp_path: Path) -> None:
    settings = load_settings(environ={"CRASHCART_SYMBOLS_URLS": "file:///srv/symbols"}, data_dir=tmp_path)
    assert settings.symbols_urls == "file:///srv/symbols"
    assert settings.symbols_cache_dir == tmp_path.resolve() / "symbols"
    assert settings.symbols_cache_max_size == 4 * 1024**3
    assert settings.symbols_missing_ttl == 3600.0
