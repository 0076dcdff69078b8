"""The web application as an ASGI app: Django for pages and the API, ``crashcart.service`` for status.

``build_web(settings)`` is the web role's composition root: Django configured from the settings (the one
configuration, ``crashcart.database``), the heartbeat's checks (database, storage, queue), metrics, and the
app that answers the four status endpoints itself (for any ``Host``, so a load balancer's check by IP works)
and hands everything else to Django's ASGI handler. ``crashcart web`` runs ``app_from_environment`` in each
uvicorn worker.
"""

from __future__ import annotations

import logging
from typing import Any

from crashcart import database
from crashcart.asgi import Receive, Scope, Send
from crashcart.errors import IndexUnavailable
from crashcart.logs import setup_logging
from crashcart.metrics import Metrics
from crashcart.service import Check, Heartbeat, Status, version_document
from crashcart.service.http import serve_status
from crashcart.settings import Settings, load_settings
from crashcart.web.api.base import BACKENDS

LOGGER = logging.getLogger(__name__)

STATUS_PATHS = frozenset({"/__lbheartbeat__", "/__heartbeat__", "/__version__", "/metrics"})


def django_application(settings: Settings) -> Any:
    """Django's ASGI handler, Django configured for ``settings`` first (idempotent)."""
    database.configure(settings)
    from django.core.handlers.asgi import ASGIHandler  # noqa: PLC0415  (after configure, as Django requires)

    from crashcart.web.middleware import drop_request_from_log_records  # noqa: PLC0415  (imports Django)

    django_log = logging.getLogger("django.request")
    django_log.addFilter(drop_request_from_log_records)
    django_log.setLevel(logging.ERROR)  # a line per 403/404/429 would drown the log; 500s stay
    return ASGIHandler()


def check_database() -> None:
    """The heartbeat's database check: one round trip."""
    from django.db import DatabaseError, connection  # noqa: PLC0415  (configured by then)

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        connection.close()  # a fresh connection next time
        raise IndexUnavailable(f"database: {exc}") from exc


def web_checks(settings: Settings) -> list[Check]:
    """The web role's readiness: its database, its storage (read-only role) and the queue it publishes to."""
    return [
        Check("database", check_database),
        Check("storage", lambda: BACKENDS.storage(settings).check()),
        Check("queue", lambda: BACKENDS.queue(settings).check()),
    ]


class WebApp:
    """Status paths answered here; every other HTTP request goes to Django."""

    def __init__(self, django_app: Any, status: Status, metrics: Metrics) -> None:
        self._django = django_app
        self._status = status
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"] in STATUS_PATHS and await serve_status(self._status, scope, send):
            return
        await self._django(scope, receive, send)

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
        self._metrics.stop_snapshots()
        self._status.heartbeat.close()
        BACKENDS.close()


def build_web(settings: Settings, metrics: Metrics | None = None) -> WebApp:
    """The web application for ``settings`` (migrations are applied by the caller, once, before workers start)."""
    django_app = django_application(settings)
    metrics = metrics or Metrics(settings.metrics_dir)
    status = Status(Heartbeat(web_checks(settings), metrics), version_document(settings), metrics)
    return WebApp(django_app, status, metrics)


def app_from_environment() -> WebApp:
    """Uvicorn's factory for each worker process: settings from the environment, logging, then the app."""
    settings = load_settings()
    setup_logging(settings.log_format, settings.log_level, secrets=settings.secret_values())
    return build_web(settings)
