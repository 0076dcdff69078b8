"""The status endpoints served over HTTP: inside an ASGI app, or on a small threaded server of their own.

The collector routes its non-submit paths through ``serve_status`` (ASGI, no framework: see
``crashcart.asgi``); a role without an HTTP server of its own (the processor's supervisor, a cron runner)
starts a ``StatusServer`` on its status port. The standard library's threading server is enough for a port
that answers a scrape every few seconds, once it is bounded: it starts a thread per connection and, left alone,
keeps it for as long as the client keeps the connection open without sending a request. So each connection
gets a socket timeout (``STATUS_TIMEOUT`` seconds without progress closes it), and at most
``STATUS_MAX_CONNECTIONS`` are served at once; one more gets a 503 from the accepting thread, without a thread.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from crashcart.asgi import Scope, Send, respond
from crashcart.service.status import Status

STATUS_TIMEOUT = 10.0  # seconds a status connection may stall (while sending its request or reading the answer)
STATUS_MAX_CONNECTIONS = 16  # a scraper or two and a load balancer's health checks need a handful
_OVER_CAP = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n"
    b"Connection: close\r\n\r\ntoo many connections\n"
)


async def serve_status(status: Status, scope: Scope, send: Send) -> bool:
    """Answer a status path of an ASGI request (GET or HEAD); False if the path is not a status path."""
    if scope["method"] not in ("GET", "HEAD"):
        return False
    response = await status.respond_async(scope["path"])
    if response is None:
        return False
    await respond(send, response.status, response.body, response.content_type.encode())
    return True


class StatusServer:
    """Serves ``Status`` on ``host:port`` from a daemon thread (404 for any other path).

    ``timeout`` and ``max_connections`` bound what idle or slow clients can hold (see the module's docstring).
    """

    def __init__(
        self,
        host: str,
        port: int,
        status: Status,
        thread_name: str = "status-server",
        timeout: float = STATUS_TIMEOUT,
        max_connections: int = STATUS_MAX_CONNECTIONS,
    ) -> None:
        self._thread_name = thread_name
        served, stall = status, timeout

        class Handler(BaseHTTPRequestHandler):
            timeout = stall  # StreamRequestHandler sets it on the socket: a stalled read or write ends it

            def do_GET(self) -> None:
                response = served.respond(self.path.split("?", 1)[0])
                if response is None:
                    code, content_type, body = 404, "text/plain", b"not found\n"
                else:
                    code, content_type, body = response
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # scrapes every few seconds would drown the JSON logs

        self._server = _CappedServer((host, port), Handler, max_connections)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name=self._thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)


class _CappedServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` that serves at most ``max_connections`` at once (one thread each)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], max_connections: int) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)  # starts the connection's thread
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        """Answer 503 from the accepting thread; a client that does not read it must not stall that thread."""
        with contextlib.suppress(OSError):
            request.settimeout(0.5)
            request.sendall(_OVER_CAP)
        self.shutdown_request(request)
