"""The processor's small HTTP port: ``/metrics`` for Prometheus and Dockerflow heartbeats for orchestrators.

Workers keep their own counters and snapshot them to a directory; this server, in the supervisor process,
merges them at scrape time and samples queue depth then, so an autoscaler always reads the current backlog.
The standard library's threading HTTP server is enough for a port that answers a scrape every few seconds.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from crashcart.errors import CrashcartError
from crashcart.metrics import Metrics, record_queue_depths

LOGGER = logging.getLogger(__name__)

QueueDepth = Callable[[], Mapping[str, Any]]


@dataclass(frozen=True)
class Check:
    """One readiness check: a blocking callable that raises when its backend is unhealthy."""

    name: str
    run: Callable[[], None]


class StatusServer:
    """Serves ``/metrics``, ``/__heartbeat__``, ``/__lbheartbeat__`` and ``/__version__`` on a thread."""

    def __init__(
        self,
        host: str,
        port: int,
        metrics: Metrics,
        checks: Sequence[Check],
        version: Mapping[str, Any],
        queue_depth: QueueDepth | None = None,
    ) -> None:
        self._metrics = metrics
        self._checks = list(checks)
        self._version = dict(version)
        self._queue_depth = queue_depth
        status = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                code, content_type, body = status.respond(self.path.split("?", 1)[0])
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
        self._thread = threading.Thread(target=self._server.serve_forever, name="processor-status", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def respond(self, path: str) -> tuple[int, str, bytes]:
        """Status, content type and body for ``GET path``."""
        if path == "/metrics":
            self._sample_queue_depth()
            return 200, "text/plain; version=0.0.4; charset=utf-8", self._metrics.render().encode()
        if path == "/__lbheartbeat__":
            return 200, "application/json", b"{}"
        if path == "/__version__":
            return 200, "application/json", json.dumps(self._version).encode()
        if path == "/__heartbeat__":
            errors = self.run_checks()
            return (503 if errors else 200), "application/json", json.dumps({"errors": errors}).encode()
        return 404, "text/plain", b"not found\n"

    def run_checks(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        for check in self._checks:
            try:
                check.run()
            except CrashcartError as exc:
                errors[check.name] = f"{exc.code}: {exc}"
            except Exception as exc:
                LOGGER.exception("health check %s raised", check.name)
                errors[check.name] = type(exc).__name__
            outcome = "failed" if check.name in errors else "ok"
            self._metrics.incr("crashcart_health_checks_total", check=check.name, outcome=outcome)
        return errors

    def _sample_queue_depth(self) -> None:
        if self._queue_depth is None:
            return
        try:
            depths = self._queue_depth()
        except CrashcartError as exc:
            LOGGER.warning("could not read queue depth for /metrics: %s", exc)
            return
        record_queue_depths(self._metrics, depths)
