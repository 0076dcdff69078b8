"""The collector's composition root and router.

``build_collector(settings)`` is the only place collector objects are made, in the order of STYLE.md §1:
logging is set up by the caller (the CLI), then metrics, backends, start-up verification, and the ASGI app.
Each uvicorn worker process calls ``app_from_environment`` once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from crashcart.asgi import Receive, Scope, Send, respond
from crashcart.collector.committer import Committer
from crashcart.collector.health import Health, HealthCheck
from crashcart.collector.payload import Limits
from crashcart.collector.publisher import BatchPublisher
from crashcart.collector.submit import SubmitConfig, Submitter
from crashcart.collector.throttle import ThrottleRules
from crashcart.errors import CrashcartError
from crashcart.logs import setup_logging
from crashcart.metrics import Metrics, record_queue_depths
from crashcart.queue import open_queue
from crashcart.queue.interfaces import CrashQueue
from crashcart.settings import Settings, load_settings
from crashcart.storage import Role, open_storage
from crashcart.storage.interfaces import RawCrashWriter, StagedSave
from crashcart.version import version_info

LOGGER = logging.getLogger(__name__)


@dataclass
class Backends:
    storage: RawCrashWriter
    queue: CrashQueue

    def close(self) -> None:
        for closer in (self.storage.close, self.queue.close):
            try:
                closer()
            except CrashcartError as exc:
                LOGGER.warning("closing backend failed: %s", exc)


def open_backends(settings: Settings) -> Backends:
    """Open storage and queue and run their idempotent start-up steps.

    A misconfiguration (bad URL, bucket name with a period) raises and stops the node. An *unreachable*
    backend does not: the collector must come up and keep answering (503 for storage, sweep later for the
    queue) so that it is ready the moment the backend returns; the heartbeat reports the outage.
    """
    storage = open_storage(settings, Role.COLLECTOR)
    queue = open_queue(settings)
    try:
        storage.check()
    except CrashcartError as exc:
        LOGGER.error("storage check failed at start: %s", exc)
    try:
        queue.declare()
    except CrashcartError as exc:
        LOGGER.error("queue declaration failed at start: %s", exc)
    return Backends(storage, queue)


class CollectorApp:
    """Routes requests: the submit path, health endpoints and ``/metrics``."""

    def __init__(
        self,
        submit_path: str,
        submitter: Submitter,
        health: Health,
        metrics: Metrics,
        backends: Backends,
        executor: concurrent.futures.ThreadPoolExecutor,
        committer: Committer | None = None,
    ) -> None:
        self._committer = committer
        self._submit_path = submit_path
        self._submitter = submitter
        self._health = health
        self._metrics = metrics
        self._backends = backends
        self._executor = executor
        self._routes = {
            "/__lbheartbeat__": health.lbheartbeat,
            "/__heartbeat__": health.heartbeat,
            "/__version__": health.version,
            "/__broken__": health.broken,
            "/metrics": self._render_metrics,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
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
        route = self._routes.get(path)
        if route is None or scope["method"] not in ("GET", "HEAD"):
            await self._health.not_found(scope, receive, send)
            return
        await route(scope, receive, send)

    async def _render_metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Queue depth is sampled at scrape time so an autoscaler reading /metrics sees the current backlog.
        loop = asyncio.get_running_loop()
        try:
            depths = await asyncio.wait_for(loop.run_in_executor(self._executor, self._backends.queue.depth), 5)
        except (CrashcartError, TimeoutError) as exc:
            LOGGER.warning("could not read queue depth for /metrics: %s", exc)
        else:
            record_queue_depths(self._metrics, depths)
        await respond(send, 200, self._metrics.render().encode(), b"text/plain; version=0.0.4; charset=utf-8")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._metrics.start_snapshots()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        if self._committer is not None:
            self._committer.close()
        self._metrics.stop_snapshots()
        self._executor.shutdown(wait=True, cancel_futures=False)
        self._backends.close()


def build_collector(
    settings: Settings,
    backends: Backends | None = None,
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
    version = version_info(settings)
    health = Health(
        [HealthCheck("storage", backends.storage.check), HealthCheck("queue", backends.queue.check)],
        version,
        metrics,
        executor,
    )
    return CollectorApp(settings.submit_path, submitter, health, metrics, backends, executor, committer)


def app_from_environment() -> CollectorApp:
    """Uvicorn's factory for each worker process: settings from the environment, logging, then the app."""
    settings = load_settings()
    setup_logging(settings.log_format, settings.log_level)
    return build_collector(settings)
