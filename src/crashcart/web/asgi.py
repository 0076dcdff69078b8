"""The web application as an ASGI app: Django for pages and the API, ``crashcart.service`` for status.

``build_web(settings)`` is the web role's composition root: Django configured from the settings (the one
configuration, ``crashcart.database``), the heartbeat's checks (database, storage, queue), metrics, and the
app that answers the four status endpoints itself (for any ``Host``, so a load balancer's check by IP works)
and hands everything else to Django's ASGI handler. ``crashcart web`` runs ``app_from_environment`` in each
uvicorn worker.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from crashcart import database
from crashcart.asgi import Message, Receive, Scope, Send, header, respond_json, serve_lifespan
from crashcart.errors import IndexUnavailable
from crashcart.logs import setup_logging
from crashcart.metrics import Metrics
from crashcart.service import Check, Heartbeat, Status, version_document
from crashcart.service.http import serve_status
from crashcart.settings import Settings, load_settings
from crashcart.web.api.base import BACKENDS

LOGGER = logging.getLogger(__name__)

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATUS_PATHS = frozenset({"/__lbheartbeat__", "/__heartbeat__", "/__version__", "/metrics"})


#: Django's loggers that pass the request along (its repr shows the path and query): the path is kept.
_DJANGO_REQUEST_LOGGERS = (
    "django.request",
    "django.security.RequestDataTooBig",
    "django.security.TooManyFieldsSent",
    "django.security.TooManyFilesSent",
    "django.security.DisallowedHost",
    "django.security.SuspiciousOperation",
    "django.security.csrf",
)


def django_application(settings: Settings) -> ASGIApp:
    """Django's ASGI handler behind a request-body bound, Django configured for ``settings`` first."""
    database.configure(settings)
    from django.core.handlers.asgi import ASGIHandler  # noqa: PLC0415  (after configure, as Django requires)

    from crashcart.web.middleware import drop_request_from_log_records  # noqa: PLC0415  (imports Django)

    for name in _DJANGO_REQUEST_LOGGERS:
        logging.getLogger(name).addFilter(drop_request_from_log_records)
    # A line per 403/404/429 would drown the log: client errors are the answers' business; 500s stay.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    return BoundedBody(ASGIHandler(), settings.web_max_request_size)


class BoundedBody:
    """Refuse request bodies over ``max_size`` with 413 before Django spools them to disk.

    Django's ASGI handler reads a whole body into a temporary file before any limit of its own applies, so an
    endless chunked upload would fill the disk. A declared ``Content-Length`` over the bound is refused at
    once; an undeclared body is counted as it arrives and, past the bound, Django is told the client went
    away (it then answers nothing) and the 413 is sent here.
    """

    def __init__(self, app: ASGIApp, max_size: int) -> None:
        self._app = app
        self._max_size = max_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._max_size):
            await self._refuse(send)
            return
        received = 0
        over = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_size:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self._app(scope, counted_receive, watched_send)
        if over and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = {"error": f"Request body too large: at most {self._max_size} bytes"}
        await respond_json(send, 413, body)


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

    def __init__(self, django_app: ASGIApp, status: Status, metrics: Metrics) -> None:
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
        await serve_lifespan(receive, send, self._metrics.start_snapshots, self.close)

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
