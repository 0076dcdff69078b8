"""The collector's composition root and router.

``build_collector(settings)`` is the only place collector objects are made, in a fixed order:
logging is set up by the caller (the CLI), then metrics, backends, start-up verification, and the ASGI app.
Each uvicorn worker process calls ``app_from_environment`` once.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
from collections.abc import Callable

from crashcart import service
from crashcart.asgi import Receive, Scope, Send, respond, serve_lifespan
from crashcart.collector.committer import Committer
from crashcart.collector.connection import METRICS_STATE_KEY
from crashcart.collector.payload import Limits
from crashcart.collector.publisher import BatchPublisher
from crashcart.collector.submit import SubmitConfig, Submitter
from crashcart.collector.throttle import ThrottleRules
from crashcart.logs import setup_logging
from crashcart.metrics import Metrics
from crashcart.service import Backends, Heartbeat, Status, version_document
from crashcart.service.http import serve_status
from crashcart.settings import Settings, load_settings
from crashcart.storage import Role
from crashcart.storage.interfaces import RawCrashWriter, StagedSave

LOGGER = logging.getLogger(__name__)

__all__ = ["Backends", "CollectorApp", "app_from_environment", "build_collector", "open_backends"]


class BrokenEndpoint(RuntimeError):
    """Raised on purpose by ``/__broken__`` so error reporting can be tested end to end.

    Off unless ``broken_endpoint`` is set: the path is public, and each call logs a full traceback.
    """


def open_backends(settings: Settings) -> Backends[RawCrashWriter]:
    """Storage (the collector's role) and queue, checked at start; an outage does not stop the node."""
    return service.open_backends(settings, Role.COLLECTOR)


class CollectorApp:
    """Routes requests: the submit path, then the status endpoints every role shares (``crashcart.service``)."""

    def __init__(
        self,
        submit_path: str,
        submitter: Submitter,
        status: Status,
        metrics: Metrics,
        backends: Backends[RawCrashWriter],
        executor: concurrent.futures.ThreadPoolExecutor,
        committer: Committer | None = None,
        broken_endpoint: bool = False,
    ) -> None:
        self._committer = committer
        self._broken_endpoint = broken_endpoint
        self._submit_path = submit_path
        self._submitter = submitter
        self._status = status
        self._metrics = metrics
        self._backends = backends
        self._executor = executor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            if "state" in scope:  # handed to every connection: the HTTP layer counts its refusals here too
                scope["state"][METRICS_STATE_KEY] = self._metrics
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        path = scope["path"]
        if path == self._submit_path:
            if scope["method"] != "POST":
                await respond(send, 405, b"Method Not Allowed", extra_headers=[(b"allow", b"POST")])
                return
            await self._submitter(scope, receive, send)
            return
        if self._broken_endpoint and path == "/__broken__" and scope["method"] == "GET":
            raise BrokenEndpoint("/__broken__ was called")
        if not await serve_status(self._status, scope, send):
            await respond(send, 404, b"Not Found")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await serve_lifespan(receive, send, self._metrics.start_snapshots, self.close)

    def close(self) -> None:
        if self._committer is not None:
            self._committer.close()
        self._metrics.stop_snapshots()
        self._status.heartbeat.close()
        self._executor.shutdown(wait=True, cancel_futures=False)
        self._backends.close()


def build_collector(
    settings: Settings,
    backends: Backends[RawCrashWriter] | None = None,
    metrics: Metrics | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> CollectorApp:
    """Make the collector app from settings (tests may pass their own backends and metrics)."""
    metrics = metrics or Metrics(settings.metrics_dir)
    throttle = ThrottleRules.load(settings.throttle_rules)
    backends = backends or open_backends(settings)
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=settings.collector_threads, thread_name_prefix="collector-io"
    )
    # Explicit capability check (not duck typing): local storage that can stage saves gets the committer.
    committer = (
        Committer(backends.storage, backends.queue, metrics) if isinstance(backends.storage, StagedSave) else None
    )
    submitter = Submitter(
        SubmitConfig(
            limits=Limits.from_settings(settings),
            spool_dir=settings.data_dir / "spool",
            body_timeout=settings.body_timeout,
            publish_timeout=settings.queue_publish_timeout,
            submitter_token=settings.submitter_token.get_secret_value(),
            queue_deferred=settings.throttle_defer == "store_and_queue",
        ),
        backends.storage,
        BatchPublisher(backends.queue, executor, on_published=backends.storage.clear_pending),
        throttle,
        metrics,
        executor,
        **({"clock": clock} if clock else {}),
        committer=committer,
    )
    status = Status(Heartbeat(backends.checks(), metrics), version_document(settings), metrics, backends.queue.depth)
    return CollectorApp(
        settings.submit_path,
        submitter,
        status,
        metrics,
        backends,
        executor,
        committer,
        broken_endpoint=settings.broken_endpoint,
    )


def app_from_environment() -> CollectorApp:
    """Uvicorn's factory for each worker process: settings from the environment, logging, then the app."""
    settings = load_settings()
    setup_logging(settings.log_format, settings.log_level, secrets=settings.secret_values())
    return build_collector(settings)
