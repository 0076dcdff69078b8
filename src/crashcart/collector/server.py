"""Serving the collector: the supervisor process that verifies backends, sweeps, and runs uvicorn workers.

uvicorn (with httptools) is the server because it accepts what real clients send without a proxy in front:
``Transfer-Encoding: chunked`` with no Content-Length (every Crashpad upload), HTTP/1.0 + chunked with no
Host header (Crashpad's socket transport on Android), and ``Expect: 100-continue`` (curl over 1 MiB). Granian
answers 400 to the HTTP/1.0 + chunked request, which would lose every such report. What uvicorn lacks (a size
and a time limit on request heads, ``Discarded=`` reasons for bad framing) ``CollectorHttpProtocol`` adds on
top of its httptools protocol; keep-alive and the connection cap are uvicorn's own settings.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import cast

import uvicorn

from crashcart.collector.app import open_backends
from crashcart.collector.connection import CollectorHttpProtocol, HeadLimits
from crashcart.collector.sweep import PeriodicSweeper, sweep_pending
from crashcart.collector.throttle import ThrottleRules
from crashcart.metrics import Metrics, clear_snapshots
from crashcart.settings import Settings

LOGGER = logging.getLogger(__name__)


#: Uvicorn's factory of each worker's app; ``crashcart run`` passes ``crashcart.web.router``'s instead.
COLLECTOR_APP = "crashcart.collector.app:app_from_environment"


def serve_collector(
    settings: Settings, host: str, port: int, workers: int | None = None, app: str = COLLECTOR_APP
) -> None:
    """Run the collector until SIGINT/SIGTERM; in-flight uploads get ``shutdown_grace`` seconds to finish.

    ``app`` names the factory each worker calls: the collector alone, or ``crashcart run``'s router, which
    serves the web application on the same port (the supervisor's work here is the same for both).
    """
    # Fail here, once, with a readable message, rather than in every worker that uvicorn would keep restarting.
    ThrottleRules.load(settings.throttle_rules)
    backends = open_backends(settings)  # idempotent start-up steps once, before any worker takes traffic
    clear_snapshots(settings.metrics_dir)
    metrics = Metrics(settings.metrics_dir)
    sweeper = PeriodicSweeper(
        lambda: sweep_pending(backends.storage, backends.queue, settings.sweep_min_age, metrics=metrics),
        settings.sweep_interval,
    )
    sweeper.start()
    LOGGER.info(
        "collector listening on http://%s:%d%s",
        host,
        port,
        settings.submit_path,
        extra={"workers": workers or settings.collector_workers, "storage": settings.storage_url},
    )
    # uvicorn calls ``http`` like a protocol class, once per connection; the partial carries the limits into
    # each worker process (it pickles by reference, as the class itself would).
    protocol = functools.partial(
        CollectorHttpProtocol, limits=HeadLimits(settings.max_header_size, settings.header_timeout)
    )
    try:
        uvicorn.run(
            app,
            factory=True,
            host=host,
            port=port,
            workers=workers or settings.collector_workers,
            loop="uvloop",
            http=cast("type[asyncio.Protocol]", protocol),
            lifespan="on",
            access_log=False,
            log_config=None,
            server_header=False,
            timeout_graceful_shutdown=int(settings.shutdown_grace) or None,
            timeout_keep_alive=settings.keepalive_timeout,
            # uvicorn counts the connection being answered too: +1 so the setting is the number served at once.
            limit_concurrency=settings.collector_max_connections + 1,
            backlog=2048,
        )
    finally:
        sweeper.stop()
        metrics.stop_snapshots()
        backends.close()
