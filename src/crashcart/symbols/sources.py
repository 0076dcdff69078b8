"""Symbol sources chosen by URL: ``file://``, ``http(s)://``, ``s3://`` (``CRASHCART_SYMBOLS_URLS``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from crashcart.errors import ConfigError
from crashcart.symbols.chain import ChainSymbolSource
from crashcart.symbols.fs import FileSymbolSource
from crashcart.symbols.interfaces import SymbolSource

if TYPE_CHECKING:
    from crashcart.settings import Settings


_SEPARATORS = re.compile(r"[,\s]+")


def split_urls(value: str) -> list[str]:
    """``"file:///a, https://b  s3://c"`` → ``["file:///a", "https://b", "s3://c"]`` (order kept)."""
    return [url for url in _SEPARATORS.split(value) if url]


def build_source(url: str, settings: Settings) -> SymbolSource:
    """One source for one URL; ``ConfigError`` for a scheme or URL it cannot serve.

    The HTTP and S3 sources are imported only when a URL needs them (httpx and boto3 take ~100 ms to import,
    which ``crashcart stackwalk`` with local symbols would otherwise pay at every start).
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ConfigError(f"file:// symbols URL needs an absolute path: {url!r}")
        return FileSymbolSource(Path(unquote(parts.path)))
    if parts.scheme in ("http", "https"):
        if not parts.netloc:
            raise ConfigError(f"symbols URL has no host: {url!r}")
        from crashcart.symbols.http import HttpSymbolSource  # noqa: PLC0415 (see above)

        return HttpSymbolSource(url, timeout=settings.symbols_http_timeout)
    if parts.scheme == "s3":
        from crashcart.storage.s3 import make_s3_client  # noqa: PLC0415 (see above)
        from crashcart.symbols.s3 import S3SymbolSource, parse_symbols_s3_url  # noqa: PLC0415

        bucket, prefix = parse_symbols_s3_url(url)
        return S3SymbolSource(make_s3_client(settings), bucket, prefix)
    raise ConfigError(f"unsupported symbols URL scheme {parts.scheme!r} in {url!r}: use file://, https://, s3://")


def build_symbol_source(settings: Settings, urls: str | None = None) -> ChainSymbolSource:
    """The chain for ``settings.symbols_urls`` (or ``urls``), in order."""
    value = settings.symbols_urls if urls is None else urls
    return ChainSymbolSource([build_source(url, settings) for url in split_urls(value)])
