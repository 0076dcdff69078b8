"""Serving the collector: the supervisor process that verifies backends, sweeps, and runs uvicorn workers.

uvicorn (with httptools) is the server because it accepts what real clients send without a proxy in front:
``Transfer-Encoding: chunked`` with no Content-Length (every Crashpad upload), HTTP/1.0 + chunked with no
Host header (Crashpad's socket transport on Android), and ``Expect: 100-continue`` (curl over 1 MiB). Granian
answers 400 to the HTTP/1.0 + chunked request, which would lose every such report.
"""

from __future__ import annotations

import logging

import uvicorn

from crashcart.collector.app import open_backends
from crashcart.collector.sweep import PeriodicSweeper, sweep_pending
from crashcart.collector.throttle import ThrottleRules
from crashcart.metrics import Metrics, clear_snapshots
from crashcart.settings import Settings

LOGGER = logging.getLogger(__name__)


def serve_collector(settings: Settings, host: str, port: int, workers: int | None = None) -> None:
    """Run the collector until SIGINT/SIGTERM; in-flight uploads get ``shutdown_grace`` seconds to finish."""
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
    try:
        uvicorn.run(
            "crashcart.collector.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers or settings.collector_workers,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            access_log=False,
            log_config=None,
            server_header=False,
            timeout_graceful_shutdown=int(settings.shutdown_grace) or None,
            timeout_keep_alive=75,
            backlog=2048,
        )
    finally:
        sweeper.stop()
        metrics.stop_snapshots()
        backends.close()
