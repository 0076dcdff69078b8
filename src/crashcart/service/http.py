"""The status endpoints served over HTTP: inside an ASGI app, or on a small threaded server of their own.

The collector routes its non-submit paths through ``serve_status`` (ASGI, no framework: see
``crashcart.asgi``); a role without an HTTP server of its own (the processor's supervisor, a cron runner)
starts a ``StatusServer`` on its status port. The standard library's threading server is enough for a port
that answers a scrape every few seconds.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from crashcart.asgi import Scope, Send, respond
from crashcart.service.status import Status


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
    """Serves ``Status`` on ``host:port`` from a daemon thread (404 for any other path)."""

    def __init__(self, host: str, port: int, status: Status, thread_name: str = "status-server") -> None:
        self._thread_name = thread_name
        served = status

        class Handler(BaseHTTPRequestHandler):
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

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
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
