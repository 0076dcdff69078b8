"""Serving the web application alone (``crashcart web``): checks once, migrations once, then uvicorn workers.

Migrations run here, in the supervisor, under the migration lock (``crashcart.database.migrate``), before any
worker takes a request, so no request meets a table that does not exist yet and several nodes starting at
once migrate once. Each worker then builds the app with ``crashcart.web.asgi.app_from_environment``.
"""

from __future__ import annotations

import logging

import uvicorn

from crashcart import database, service
from crashcart.settings import Settings
from crashcart.storage import Role

LOGGER = logging.getLogger(__name__)


def serve_web(settings: Settings, host: str, port: int | None, workers: int | None = None) -> None:
    """Run the web application until SIGINT/SIGTERM (``ConfigError`` for a configuration it cannot serve)."""
    database.require_secret_key(settings)
    database.migrate(settings)
    # Idempotent start-up steps, once, as every role does: declare the queues (Reprocessing publishes), probe
    # storage. A backend that is down does not stop the node: the heartbeat reports it.
    service.open_backends(settings, Role.WEBAPP).close()
    workers = workers or settings.web_workers
    port = 8000 if port is None else port
    LOGGER.info("web application listening on http://%s:%d/", host, port, extra={"workers": workers})
    uvicorn.run(
        "crashcart.web.asgi:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace) or None,
        timeout_keep_alive=settings.keepalive_timeout,
    )
