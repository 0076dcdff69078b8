"""One HTTP connection to the collector: uvicorn's httptools protocol with the limits it does not have.

uvicorn bounds neither the size of a request head nor the time a client takes to send it: httptools keeps an
unfinished header value in memory however long it grows (a 128 MiB header grew a worker by 130 MB), and the
keep-alive timer is the only one, cancelled by the first byte that arrives (a half-sent request line stayed
open for minutes). ``CollectorHttpProtocol`` adds, per request head:

- a size limit: bytes read while a head is incomplete are counted, and past ``max_header_size`` the client gets
  431 ``too_large_headers`` and the connection is closed (the worker holds at most the limit plus one read);
  a complete head over the limit, read in one piece, is measured and refused the same way;
- a time limit: ``header_timeout`` seconds from the moment the connection opens or its previous response ends
  to the end of the next head, however the bytes trickle in; then 408 ``header_timeout`` (or a silent close
  when the client sent nothing, as for an idle keep-alive connection).

It also answers the 400 that httptools' strict parser raises on malformed framing (Content-Length with
chunked, a bad or repeated Content-Length, a bare CR, an obs-folded header, …) with a ``Discarded=`` reason
instead of uvicorn's plain text. Everything else (keep-alive, pipelining, ``Expect: 100-continue``,
HTTP/1.0 + chunked) is uvicorn's own code, untouched: the real-client tests in tests/collector/test_server.py
keep it honest.
"""

from __future__ import annotations

import asyncio
import http
import logging
from dataclasses import dataclass
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from crashcart.collector.refusals import Refusal
from crashcart.metrics import Metrics

LOGGER = logging.getLogger(__name__)

# After a refusal the client may still be sending (the rest of an endless header, a body): closing at once with
# unread bytes makes the kernel send a reset, which can destroy the answer before the client reads it. So the
# write side is shut and what still arrives is read and dropped for this long, then the connection is closed.
LINGER_SECONDS = 2.0

# The key under which the app's lifespan leaves its ``Metrics`` in the ASGI lifespan state, which uvicorn hands
# to every connection: refusals made here are counted with the app's own, under the same metric.
METRICS_STATE_KEY = "crashcart.metrics"


@dataclass(frozen=True)
class HeadLimits:
    """How large a request head may be (bytes) and how long a client may take to send it (seconds)."""

    max_size: int
    timeout: float


class _HeadTooLarge(Exception):
    """Raised inside the parser's callback to stop parsing a complete head that is over the limit."""


class CollectorHttpProtocol(HttpToolsProtocol):
    """uvicorn's ``HttpToolsProtocol`` plus a size and a time limit on each request head.

    uvicorn makes one per connection through ``functools.partial(CollectorHttpProtocol, limits=...)``
    (see ``crashcart.collector.server``), so the limits reach every worker process with the config.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: HeadLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = limits
        # True from the end of one request's body (or the connection's start) to the end of the next head.
        self._in_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._lingering = False

    # --- the time limit ----------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next head's clock starts when this response ends (a pipelined head may already be complete).
        if self._in_head and not (self._lingering or self.transport.is_closing()):
            self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self._limits.timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self._lingering:
            return
        if self._head_bytes:
            self._refuse(Refusal.HEADER_TIMEOUT)
        else:
            self.transport.close()  # nothing was asked: nothing to answer

    # --- the size limit ----------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # refused: what still arrives is dropped unread
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if (
            self._in_head
            and self._head_bytes > self._limits.max_size
            and not (self._lingering or self.transport.is_closing())
        ):
            self._refuse(Refusal.TOO_LARGE_HEADERS)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self._limits.max_size:
            self._head_bytes = size
            raise _HeadTooLarge  # httptools stops here and uvicorn calls send_400_response
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # Whatever arrives from now on is the next request's head, even while this one is being answered.
        self._in_head = True
        self._head_bytes = 0

    # --- answering -----------------------------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to anything httptools cannot parse (including our own ``_HeadTooLarge``)."""
        if self._head_bytes > self._limits.max_size:
            self._refuse(Refusal.TOO_LARGE_HEADERS)
        else:
            self._refuse(Refusal.HTTP_FRAMING)

    def _refuse(self, refusal: Refusal) -> None:
        """Answer ``refusal`` and close: the connection's framing can no longer be trusted."""
        self._cancel_head_timer()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # a response still being made for an earlier request goes nowhere
            self.cycle.message_event.set()
        # No client address: the collector logs none anywhere (they are personal data, like the IP headers).
        LOGGER.info("refused a request head: %s", refusal.reason, extra={"head_bytes": self._head_bytes})
        metrics = self.app_state.get(METRICS_STATE_KEY)
        if isinstance(metrics, Metrics):
            metrics.incr("crashcart_collector_rejected_total", reason=refusal.discarded())
        body = Refusal.body(refusal.discarded())
        status = http.HTTPStatus(refusal.status)
        head = [f"HTTP/1.1 {status.value} {status.phrase}".encode()]
        head.extend(name + b": " + value for name, value in self.server_state.default_headers)
        head += [b"content-type: text/plain; charset=utf-8", b"content-length: %d" % len(body), b"connection: close"]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._lingering = True
        self.flow.resume_reading()  # uvicorn may have paused reading; the rest must drain to be dropped
        self._head_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)
