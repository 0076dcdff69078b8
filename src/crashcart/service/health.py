"""Readiness checks and the heartbeat: run every check at once, with a time limit, into errors and a status.

The evaluation is synchronous (``Heartbeat.run``) so a threaded server or a Django view can call it as is; an
ASGI app awaits ``run_async``, which runs it off the event loop. Each check runs in the heartbeat's own small
pool, at most once at a time: a check that hangs is reported as timed out, and the next heartbeat waits on the
same run instead of piling up another thread behind it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from crashcart.errors import CrashcartError
from crashcart.metrics import Metrics
from crashcart.redact import redact

LOGGER = logging.getLogger(__name__)

MAX_MESSAGE = 500
"""Longest message one failed check puts in the heartbeat document."""


@dataclass(frozen=True)
class Check:
    """One named readiness check: a blocking callable that raises when its backend is unhealthy."""

    name: str
    run: Callable[[], None]


@dataclass(frozen=True)
class HeartbeatResult:
    """The failed checks, each ``{"name": ..., "msg": ...}``; healthy when there are none."""

    errors: list[dict[str, str]]

    @property
    def healthy(self) -> bool:
        return not self.errors

    @property
    def status(self) -> int:
        """200, or 503 so a load balancer or orchestrator takes the node out while a backend is down."""
        return 200 if self.healthy else 503

    def document(self) -> dict[str, Any]:
        return {"errors": self.errors}


def describe_failure(exc: BaseException) -> str:
    """A check's failure for the heartbeat: our errors by their stable code, anything else by its type."""
    if isinstance(exc, CrashcartError):
        text = f"{exc.code}: {exc}"
    elif isinstance(exc, TimeoutError):
        text = f"timeout: {exc}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return redact(text)[:MAX_MESSAGE]  # before cutting, which could leave half a URL the mask cannot see


class Heartbeat:
    """Runs a role's checks; one instance per process, closed with it."""

    def __init__(self, checks: Sequence[Check], metrics: Metrics | None = None, timeout: float = 5.0) -> None:
        names = [check.name for check in checks]
        if len(names) != len(set(names)):
            raise ValueError(f"check names must be unique: {names}")
        self._checks = list(checks)
        self._metrics = metrics
        self._timeout = timeout
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, len(self._checks)), thread_name_prefix="heartbeat"
        )
        self._lock = threading.Lock()
        self._running: dict[str, concurrent.futures.Future[None]] = {}

    @property
    def checks(self) -> list[Check]:
        return list(self._checks)

    def run(self) -> HeartbeatResult:
        """Run every check at once; those not done within the timeout count as failed."""
        started = self._start()
        concurrent.futures.wait([future for _, future in started], timeout=self._timeout)
        errors = []
        for check, future in started:
            if not future.done():
                failure: BaseException | None = TimeoutError(f"no answer within {self._timeout:g} s")
            else:
                failure = future.exception()
            self._count(check, failure)
            if failure is not None:
                LOGGER.warning("health check %s failed: %r", check.name, failure)
                errors.append({"name": check.name, "msg": describe_failure(failure)})
        return HeartbeatResult(errors)

    async def run_async(self) -> HeartbeatResult:
        """``run`` for an event loop: the waiting happens in a thread, never on the loop."""
        return await asyncio.to_thread(self.run)

    def close(self) -> None:
        """Stop the pool without waiting for a hung check (its thread ends with the process)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _start(self) -> list[tuple[Check, concurrent.futures.Future[None]]]:
        started = []
        with self._lock:
            for check in self._checks:
                future = self._running.get(check.name)
                if future is None or future.done():
                    future = self._pool.submit(check.run)
                    self._running[check.name] = future
                started.append((check, future))
        return started

    def _count(self, check: Check, failure: BaseException | None) -> None:
        if self._metrics is not None:
            outcome = "ok" if failure is None else "fail"
            self._metrics.incr("crashcart_health_checks_total", check=check.name, outcome=outcome)
