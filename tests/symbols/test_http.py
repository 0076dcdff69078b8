from __future__ import annotations

import socket

import pytest

from crashcart.symbols.http import HttpSymbolSource
from crashcart.symbols.interfaces import SymbolMalformed, SymbolNotFound, SymbolSourceUnavailable
from tests.symbols.conftest import INLINE_FILE, INLINE_ID, SymbolServer

INLINE_PATH = f"/{INLINE_FILE}/{INLINE_ID}/linux_inline.sym"


def _source(url: str, **options: object) -> HttpSymbolSource:
    return HttpSymbolSource(url, timeout=5, sleep=lambda _: None, **options)  # type: ignore[arg-type]


def test_retries_a_500_then_gets_the_file(symbol_server: SymbolServer) -> None:
    symbol_server.fail_first[INLINE_PATH] = 2
    source = _source(symbol_server.url, retries=2)
    try:
        data = source.locate(INLINE_FILE, INLINE_ID)
    finally:
        source.close()
    assert isinstance(data, bytes)
    assert data.startswith(b"MODULE Linux")
    assert symbol_server.requests == [INLINE_PATH] * 3


def test_persistent_500_is_unavailable_not_missing(symbol_server: SymbolServer) -> None:
    symbol_server.fail_first[INLINE_PATH] = 10
    source = _source(symbol_server.url, retries=1)
    with pytest.raises(SymbolSourceUnavailable):
        source.locate(INLINE_FILE, INLINE_ID)
    source.close()
    assert len(symbol_server.requests) == 2


def test_404_is_not_found_without_retry(symbol_server: SymbolServer) -> None:
    source = _source(symbol_server.url)
    with pytest.raises(SymbolNotFound):
        source.locate("missing.pdb", "AB1")
    source.close()
    # the .sym, then the native PDB in Microsoft's symbol-server layout; each asked once (no retries on a 404)
    assert symbol_server.requests == ["/missing.pdb/AB1/missing.sym", "/missing.pdb/AB1/missing.pdb"]


def test_follows_tecken_code_id_redirect(symbol_server: SymbolServer) -> None:
    symbol_server.redirects["/xul.dll/652DE0ED706D000/xul.sym"] = INLINE_PATH
    source = _source(symbol_server.url)
    data = source.locate("", "", "xul.dll", "652de0ed706d000")
    source.close()
    assert isinstance(data, bytes)
    assert data.startswith(b"MODULE Linux")


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = _source(f"http://127.0.0.1:{port}/", retries=1)
    with pytest.raises(SymbolSourceUnavailable) as caught:
        source.locate(INLINE_FILE, INLINE_ID)
    source.close()
    assert caught.value.code == "symbol_source_unavailable"


def test_body_over_the_limit_is_malformed(symbol_server: SymbolServer) -> None:
    source = _source(symbol_server.url, max_size=100)
    with pytest.raises(SymbolMalformed):
        source.locate(INLINE_FILE, INLINE_ID)
    source.close()


def test_reuses_one_connection(symbol_server: SymbolServer) -> None:
    source = _source(symbol_server.url)
    for _ in range(3):
        source.locate(INLINE_FILE, INLINE_ID)
    pool = source._client._transport._pool  # type: ignore[attr-defined]
    assert len(pool.connections) == 1  # one keep-alive connection served all three requests
    source.close()
