"""Fixtures for the symbols tests: the fixture store, a module stand-in, and a real local HTTP symbol server."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crashcart.symbols.interfaces import SymbolData

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "symbols"
STORE = FIXTURES / "store"

INLINE_FILE, INLINE_ID = "linux_inline", "BBA6FA10B8AAB33D00000000000000000"
TEST_FILE, TEST_ID = "test.pdb", "ABCDEF0123456789ABCDEF01234567891"
TEST_CODE_FILE, TEST_CODE_ID = "test.dll", "5f3a1b2c9000"
TEST_SYM = STORE / TEST_FILE / TEST_ID / "test.sym"


class Fetcher:
    """A fetch callable that records calls and returns (or raises) what it is told."""

    def __init__(self, result: SymbolData | Exception) -> None:
        self.result = result
        self.calls = 0

    def __call__(self) -> SymbolData:
        self.calls += 1
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Module:
    """Stands in for a minidump module (the reader's modules have the same four attributes)."""

    debug_file: str
    debug_id: str
    code_file: str = ""
    code_id: str = ""


INLINE_MODULE = Module(INLINE_FILE, INLINE_ID)
TEST_MODULE = Module(r"c:\build\test.pdb", TEST_ID, TEST_CODE_FILE, TEST_CODE_ID)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A writable copy of the fixture symbol store."""
    root = tmp_path / "store"
    shutil.copytree(STORE, root)
    return root


@dataclass
class SymbolServer:
    """A local HTTP symbol server over ``root``; ``fail_first`` maps a path to 500s to send before the file."""

    root: Path
    url: str = ""
    requests: list[str] = field(default_factory=list)
    fail_first: dict[str, int] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)


def _handler(server_state: SymbolServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            from urllib.parse import unquote, urlsplit

            path = unquote(urlsplit(self.path).path)
            server_state.requests.append(path)
            if server_state.fail_first.get(path, 0) > 0:
                server_state.fail_first[path] -= 1
                self._send(500, b"try again")
                return
            if path in server_state.redirects:
                self.send_response(302)
                self.send_header("Location", server_state.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            target = (server_state.root / path.lstrip("/")).resolve()
            if server_state.root.resolve() in target.parents and target.is_file():
                self._send(200, target.read_bytes())
            else:
                self._send(404, b"not found")

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def symbol_server(store: Path) -> Iterator[SymbolServer]:
    state = SymbolServer(store)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def place_file(root: Path, relative: str, content: Path | bytes) -> None:
    """Put ``content`` (bytes, or a fixture file to copy) at ``root/relative`` in a symbol store."""
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        shutil.copyfile(content, target)
