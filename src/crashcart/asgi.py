"""Small helpers for speaking raw ASGI.

The collector is a plain ASGI callable rather than a framework app: its one hot endpoint must stream the
body into a parser and answer with a few bytes, and every framework layer costs throughput (issue #2's target
is 30 % of a no-op app's rate).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of request header ``name`` (lower-case bytes), decoded as latin-1."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = b"text/plain; charset=utf-8",
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send a complete response with Content-Length (never chunked: HTTP/1.0 clients cannot read that)."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if extra_headers:
        headers.extend(extra_headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def respond_json(send: Send, status: int, doc: Any) -> None:
    await respond(send, status, json.dumps(doc).encode(), b"application/json")


async def serve_lifespan(
    receive: Receive, send: Send, startup: Callable[[], None], shutdown: Callable[[], None]
) -> None:
    """Answer ASGI's lifespan messages: ``startup`` when the server starts, ``shutdown`` when it stops."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            startup()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return
