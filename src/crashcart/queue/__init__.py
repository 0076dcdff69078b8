"""Crash queues: the ``CrashQueue`` protocol and ``open_queue``, which picks a backend by URL scheme.

``sqlite:///abs/path.sqlite3`` is the embedded backend (``crashcart run``, small installs);
``amqp://`` and ``amqps://`` are RabbitMQ. Opening does no I/O beyond creating the SQLite file's directory:
the composition root calls ``declare()`` at start, and a collector whose broker is down can still start and
store crashes (their ids are published later by the sweep). Backends are imported on demand, so a process
that uses SQLite never imports pika.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from crashcart.errors import ConfigError
from crashcart.queue.interfaces import (
    PRIORITY,
    QUEUES,
    REPROCESSING,
    STANDARD,
    CrashQueue,
    DeadLetter,
    Message,
    QueueDepth,
)

if TYPE_CHECKING:
    from crashcart.settings import Settings

__all__ = [
    "PRIORITY",
    "QUEUES",
    "REPROCESSING",
    "STANDARD",
    "CrashQueue",
    "DeadLetter",
    "Message",
    "QueueDepth",
    "open_queue",
    "sqlite_path",
]


def sqlite_path(url: str) -> Path:
    """The database path of a ``sqlite:///abs/path`` URL; anything else is a ``ConfigError``."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise ConfigError(f"not a sqlite:// queue URL: {url!r}")
    if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
        raise ConfigError(f"sqlite queue URL needs an absolute file path, e.g. sqlite:///var/lib/q.sqlite3: {url!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"sqlite queue URL takes no query or fragment: {url!r}")
    return Path(unquote(parts.path))


def open_queue(settings: Settings) -> CrashQueue:
    """Build the queue backend named by ``settings.queue_url`` (see the module docstring)."""
    url = settings.queue_url
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from crashcart.queue.sqlite import SQLiteCrashQueue  # noqa: PLC0415  (pay for what you use)

        path = sqlite_path(url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the queue directory {str(path.parent)!r}: {exc}") from exc
        return SQLiteCrashQueue(
            path,
            settings.queue_max_attempts,
            settings.queue_lease_seconds,
            settings.queue_retry_base_seconds,
            busy_timeout=settings.queue_publish_timeout,
        )
    if scheme in ("amqp", "amqps"):
        from crashcart.queue.amqp import AMQPCrashQueue  # noqa: PLC0415  (pika only when configured)

        return AMQPCrashQueue(
            url,
            settings.queue_max_attempts,
            settings.queue_lease_seconds,
            settings.queue_retry_base_seconds,
            timeout=settings.queue_publish_timeout,
            prefix=settings.queue_prefix,
        )
    raise ConfigError(f"unsupported queue URL scheme {scheme!r}: use sqlite:///path or amqp://host")
