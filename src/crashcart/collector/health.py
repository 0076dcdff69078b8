"""Health endpoints (Dockerflow names): liveness, a real readiness check of every backend, and the version.

The backend checks are an explicit list handed in by the composition root, not discovered with
``hasattr``: Antenna's duck-typed heartbeat never reached its storage check, which is the failure to avoid.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from crashcart.asgi import Receive, Scope, Send, respond, respond_json
from crashcart.metrics import Metrics

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthCheck:
    """One named readiness check: a blocking callable that raises when its backend is unhealthy."""

    name: str
    run: Callable[[], None]


class BrokenEndpoint(RuntimeError):
    """Raised on purpose by ``/__broken__`` so error reporting can be tested end to end."""


class Health:
    def __init__(
        self,
        checks: Sequence[HealthCheck],
        version: dict[str, Any],
        metrics: Metrics,
        executor: concurrent.futures.Executor,
        timeout: float = 5.0,
    ) -> None:
        self._checks = list(checks)
        self._version = version
        self._metrics = metrics
        self._executor = executor
        self._timeout = timeout

    async def lbheartbeat(self, scope: Scope, receive: Receive, send: Send) -> None:
        await respond_json(send, 200, {})

    async def version(self, scope: Scope, receive: Receive, send: Send) -> None:
        await respond_json(send, 200, self._version)

    async def broken(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise BrokenEndpoint("/__broken__ was called")

    async def heartbeat(self, scope: Scope, receive: Receive, send: Send) -> None:
        errors = await self.run_checks()
        await respond_json(send, 503 if errors else 200, {"errors": errors})

    async def run_checks(self) -> list[dict[str, str]]:
        loop = asyncio.get_running_loop()

        async def one(check: HealthCheck) -> dict[str, str] | None:
            try:
                await asyncio.wait_for(loop.run_in_executor(self._executor, check.run), self._timeout)
            except Exception as exc:  # every failure of a check is a finding, whatever its type
                self._metrics.incr("crashcart_health_checks_total", check=check.name, outcome="fail")
                LOGGER.warning("health check %s failed: %r", check.name, exc)
                return {"name": check.name, "msg": repr(exc)[:500]}
            self._metrics.incr("crashcart_health_checks_total", check=check.name, outcome="ok")
            return None

        results = await asyncio.gather(*(one(check) for check in self._checks))
        return [r for r in results if r is not None]

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        await respond(send, 404, b"Not Found")
