"""Crashcart's own small, closed set of errors.

Backends translate foreign exceptions (botocore, pika, sqlite3, OSError) into these at the adapter edge and
chain the cause, so callers handle one taxonomy. Each error has a stable ``code`` used in logs, metric tags,
HTTP bodies and processor notes.
"""

from __future__ import annotations


class CrashcartError(Exception):
    """Base of every error Crashcart raises on purpose."""

    code = "error"


class ConfigError(CrashcartError):
    """A backend cannot start with the configuration it was given."""

    code = "config_error"


class StorageUnavailable(CrashcartError):
    """Crash storage could not be reached or refused the operation; the caller may retry later."""

    code = "storage_unavailable"


class StorageForbidden(StorageUnavailable):
    """The component's role (or its credentials) does not allow the operation.

    A subclass of ``StorageUnavailable`` so every caller still fails safe (the collector answers 503 and the
    client keeps its report), while logs and health checks name the real cause: a deployment error.
    """

    code = "storage_forbidden"


class CrashNotFound(CrashcartError):
    """The crash (or one of its parts) is not in storage."""

    code = "crash_not_found"


class IndexUnavailable(CrashcartError):
    """The crash index database could not be reached, migrated or written; the caller may retry later."""

    code = "index_unavailable"


class QueueUnavailable(CrashcartError):
    """The queue could not be reached or refused the operation; the caller may retry later."""

    code = "queue_unavailable"


class MessageNotFound(CrashcartError):
    """An ack/nack named a message the queue no longer holds (its lease expired and it was redelivered)."""

    code = "message_not_found"


class BadArgumentError(CrashcartError):
    """A search (or another API call) was given a parameter it cannot honour; the message says which and why.

    The message is shown to the caller as is (HTTP 400 ``Bad request: BadArgumentError: <message>``), so it
    names the parameter in Socorro's words and never carries crash data.
    """

    code = "bad_argument"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
