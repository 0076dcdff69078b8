"""The status endpoints of every server role, as framework-neutral responses.

``Status.respond(path)`` answers ``/__lbheartbeat__`` (the process is alive), ``/__heartbeat__`` (every
check, 503 listing the failures), ``/__version__`` (what code runs) and ``/metrics`` (Prometheus text, with
queue depth sampled at scrape time so an autoscaler reads the current backlog), or ``None`` for any other path.
An adapter turns the ``Response`` into its framework's (``crashcart.service.http`` for ASGI and a threaded
server; a Django view the same way).
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from crashcart import __version__
from crashcart.errors import CrashcartError
from crashcart.metrics import Metrics, record_queue_depths
from crashcart.service.health import Heartbeat, HeartbeatResult
from crashcart.settings import Settings

LOGGER = logging.getLogger(__name__)

JSON = "application/json"
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

QueueDepth = Callable[[], Mapping[str, Any]]


class Response(NamedTuple):
    status: int
    content_type: str
    body: bytes


def source_commit(settings: Settings) -> str:
    """The commit this code runs from: the setting (set in images), else git's HEAD, else empty."""
    if settings.commit:
        return settings.commit
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def version_document(settings: Settings) -> dict[str, Any]:
    """Dockerflow's ``/__version__``: the release, the source commit, and what the source is."""
    return {"version": __version__, "commit": source_commit(settings), "source": "crashcart"}


def heartbeat_response(result: HeartbeatResult) -> Response:
    return Response(result.status, JSON, json.dumps(result.document()).encode())


class Status:
    """The four status endpoints of one process."""

    def __init__(
        self,
        heartbeat: Heartbeat,
        version: Mapping[str, Any],
        metrics: Metrics,
        queue_depth: QueueDepth | None = None,
        depth_timeout: float = 5.0,
    ) -> None:
        self.heartbeat = heartbeat
        self._version = json.dumps(dict(version)).encode()
        self._metrics = metrics
        self._queue_depth = queue_depth
        self._depth_timeout = depth_timeout

    def respond(self, path: str) -> Response | None:
        """The response for ``GET path`` (blocking: checks and queue depth are run), or None if not ours."""
        if path == "/__heartbeat__":
            return heartbeat_response(self.heartbeat.run())
        if path == "/metrics":
            self.sample_queue_depth()
            return self.render_metrics()
        return self._immediate(path)

    async def respond_async(self, path: str) -> Response | None:
        """``respond`` for an event loop: the blocking parts run in threads, with time limits."""
        if path == "/__heartbeat__":
            return heartbeat_response(await self.heartbeat.run_async())
        if path == "/metrics":
            try:
                await asyncio.wait_for(asyncio.to_thread(self.sample_queue_depth), self._depth_timeout)
            except TimeoutError:
                LOGGER.warning("queue depth for /metrics took over %g s; rendered without it", self._depth_timeout)
            return self.render_metrics()
        return self._immediate(path)

    def sample_queue_depth(self) -> None:
        """Record every queue's depth now (a backend that is down is logged; the scrape still answers)."""
        if self._queue_depth is None:
            return
        try:
            depths = self._queue_depth()
        except CrashcartError as exc:
            LOGGER.warning("could not read queue depth for /metrics: %s", exc)
            return
        record_queue_depths(self._metrics, depths)

    def render_metrics(self) -> Response:
        return Response(200, METRICS_CONTENT_TYPE, self._metrics.render().encode())

    def _immediate(self, path: str) -> Response | None:
        if path == "/__lbheartbeat__":
            return Response(200, JSON, b"{}")
        if path == "/__version__":
            return Response(200, JSON, self._version)
        return None
