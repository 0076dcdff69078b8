"""Symbol sources chosen by URL: ``file://``, ``http(s)://``, ``s3://`` (``CRASHCART_SYMBOLS_URLS``).

Built from plain values (URLs, the HTTP timeout, the S3 client configuration) that the composition root
reads from settings, so this package needs no ``Settings`` and no storage module (the S3 client comes from
``crashcart.s3client``, shared with crash storage).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from crashcart.errors import ConfigError
from crashcart.s3client import S3ClientConfig
from crashcart.symbols.chain import ChainSymbolSource
from crashcart.symbols.fs import FileSymbolSource
from crashcart.symbols.interfaces import SymbolSource

_SEPARATORS = re.compile(r"[,\s]+")


def split_urls(value: str | Sequence[str]) -> list[str]:
    """``"file:///a, https://b  s3://c"`` → ``["file:///a", "https://b", "s3://c"]`` (order kept); a sequence
    of such strings is split item by item."""
    values = [value] if isinstance(value, str) else list(value)
    return [url for item in values for url in _SEPARATORS.split(item) if url]


def build_source(url: str, *, http_timeout: float = 30.0, s3: S3ClientConfig | None = None) -> SymbolSource:
    """One source for one URL; ``ConfigError`` for a scheme or URL it cannot serve. ``s3`` configures the
    client of an ``s3://`` source (default: AWS with boto3's credential chain).

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

        return HttpSymbolSource(url, timeout=http_timeout)
    if parts.scheme == "s3":
        from crashcart.s3client import make_s3_client  # noqa: PLC0415 (see above)
        from crashcart.symbols.s3 import S3SymbolSource, parse_symbols_s3_url  # noqa: PLC0415

        bucket, prefix = parse_symbols_s3_url(url)
        return S3SymbolSource(make_s3_client(s3 or S3ClientConfig()), bucket, prefix)
    raise ConfigError(f"unsupported symbols URL scheme {parts.scheme!r} in {url!r}: use file://, https://, s3://")


def build_symbol_source(
    urls: str | Sequence[str], *, http_timeout: float = 30.0, s3: S3ClientConfig | None = None
) -> ChainSymbolSource:
    """The chain for ``urls`` (``CRASHCART_SYMBOLS_URLS``' syntax, or a list of URLs), in order."""
    return ChainSymbolSource([build_source(url, http_timeout=http_timeout, s3=s3) for url in split_urls(urls)])
