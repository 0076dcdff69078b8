"""Structured logging: one JSON object per line on stdout, carrying the crash id when one is known.

The crash id lives in a context variable so every log line emitted while a crash is handled carries it
without each call passing it along. ``CRASHCART_LOG_FORMAT=text`` gives a console format
for people; both render the same fields.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import os
import socket
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from crashcart.redact import redact, secret_forms

_crash_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("crash_id", default=None)

# Attributes every LogRecord has; anything else passed through ``extra=`` is rendered as a field.
# Record attributes that are not extras; uvicorn's ``color_message`` (the message with ANSI colours) is noise.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}


def bind_crash_id(crash_id: str | None) -> contextvars.Token[str | None]:
    """Attach ``crash_id`` to every log line of the current context (task or thread)."""
    return _crash_id.set(crash_id)


def unbind_crash_id(token: contextvars.Token[str | None]) -> None:
    _crash_id.reset(token)


@contextlib.contextmanager
def crash_context(crash_id: str | None) -> Iterator[None]:
    token = bind_crash_id(crash_id)
    try:
        yield
    finally:
        unbind_crash_id(token)


def current_crash_id() -> str | None:
    return _crash_id.get()


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON line: time, level, logger, event, crash_id, host, pid and extras."""

    def __init__(self) -> None:
        super().__init__()
        self._host = socket.gethostname()
        self._pid = os.getpid()

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        crash_id = getattr(record, "crash_id", None) or _crash_id.get()
        if crash_id:
            doc["crash_id"] = crash_id
        doc["host"] = self._host
        doc["pid"] = os.getpid() if record.process is None else record.process
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key not in doc:
                doc[key] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A console format for people: time level logger [crash_id] message."""

    def format(self, record: logging.LogRecord) -> str:
        crash_id = getattr(record, "crash_id", None) or _crash_id.get()
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC).strftime("%H:%M:%S.%f")[:-3]
        prefix = f"{crash_id}: " if crash_id else ""
        line = f"{stamp} {record.levelname:<7} {record.name} {prefix}{record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class RedactingFormatter(logging.Formatter):
    """Another formatter's line with every URL password and every known secret masked (``crashcart.redact``).

    It works on the finished line rather than on the record, so the message, its arguments, the extras and
    an exception's traceback (a boto, pika or httpx error quoting a credentialed URL) are all covered, in
    whichever spelling the format gave them.
    """

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._inner = inner
        self._secrets = secret_forms(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self._inner.format(record), self._secrets)


def setup_logging(
    log_format: str = "json", level: str = "INFO", stream: TextIO | None = None, secrets: Iterable[str] = ()
) -> None:
    """Configure the root logger once per process: everything to stdout in the chosen format.

    ``secrets`` (``Settings.secret_values()``) are masked in every line, as is the password of any URL.
    """
    handler = logging.StreamHandler(stream or sys.stdout)
    inner = JsonFormatter() if log_format == "json" else TextFormatter()
    handler.setFormatter(RedactingFormatter(inner, secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Third-party chatter is kept at WARNING so our events stay readable; uvicorn's access log is off.
    for name in ("botocore", "boto3", "urllib3", "pika", "s3transfer"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True


def setup_command_logging(secrets: Iterable[str] = ()) -> None:
    """For a one-shot command whose stdout is its output (``crashcart stackwalk``): warnings and errors on
    stderr as bare messages, as Python prints them unconfigured, but with secrets masked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(logging.Formatter("%(message)s"), secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
