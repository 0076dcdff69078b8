"""``crashcart run``'s one port: the submit path (and the status endpoints) to the collector, the rest to
the web application.

The collector never imports Django, and a node that only collects must not pay for it: this router imports
the web application (``crashcart.web.asgi``, which sets Django up and applies migrations under their lock)
on the first request that is not the collector's, in a thread, so submissions keep flowing meanwhile. If
that set-up fails (the database is down), the request gets 503 and the next one tries again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from crashcart.asgi import Receive, Scope, Send, respond_json
from crashcart.collector.app import CollectorApp, build_collector
from crashcart.errors import CrashcartError
from crashcart.logs import setup_logging
from crashcart.settings import Settings, load_settings
from crashcart.web.api.base import BACKENDS

LOGGER = logging.getLogger(__name__)

#: Paths the collector answers: its status endpoints report the node's storage and queue.
COLLECTOR_PATHS = frozenset({"/__lbheartbeat__", "/__heartbeat__", "/__version__", "/metrics", "/__broken__"})


def load_web(settings: Settings) -> Any:
    """Django's ASGI app for ``settings``, migrations applied first (blocking: call it in a thread)."""
    from crashcart import database  # noqa: PLC0415  (Django only once the web is asked for)
    from crashcart.web.asgi import django_application  # noqa: PLC0415

    database.require_secret_key(settings)
    database.migrate(settings)
    return django_application(settings)


class RunRouter:
    """One ASGI app for ``crashcart run``; lifespan events are the collector's (Django has none)."""

    def __init__(self, collector: CollectorApp, settings: Settings) -> None:
        self._collector = collector
        self._settings = settings
        self._collector_paths = COLLECTOR_PATHS | {settings.submit_path}
        self._web: Any = None
        self._loading = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._collector(scope, receive, send)  # returns once the server shuts down
            BACKENDS.close()  # what the API's models opened in this worker
            return
        if scope["type"] != "http" or scope["path"] in self._collector_paths:
            await self._collector(scope, receive, send)
            return
        web = await self._web_app()
        if web is None:
            await respond_json(send, 503, {"error": "Service unavailable: the web application could not start"})
            return
        await web(scope, receive, send)

    async def _web_app(self) -> Any:
        if self._web is None:
            async with self._loading:
                if self._web is None:
                    try:
                        self._web = await asyncio.to_thread(load_web, self._settings)
                    except CrashcartError as exc:
                        LOGGER.error("web application could not start: %s", exc)
        return self._web


def app_from_environment() -> RunRouter:
    """Uvicorn's factory for ``crashcart run``: the collector, and the web application behind it."""
    settings = load_settings()
    setup_logging(settings.log_format, settings.log_level, secrets=settings.secret_values())
    return RunRouter(build_collector(settings), settings)
