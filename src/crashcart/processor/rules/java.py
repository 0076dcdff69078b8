"""Java crashes: the JavaStackTrace text and the structured JavaException, each kept raw (protected) and
sanitized (public) with exception messages removed, since messages can quote user data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from crashcart.processor.context import CrashContext
from crashcart.processor.rules._values import INVALID, json_copy, parse_json
from crashcart.processor.rules.base import Rule

#: Bounds on what the public forms keep; the raw forms are kept whole (the collector bounds their size).
MAX_STACK_LINES = 1000
MAX_EXCEPTIONS = 32
MAX_FRAMES = 1000


class MalformedJavaStackTrace(ValueError):
    pass


def sanitize_java_stack_trace(text: str) -> str:
    """The exception class and its ``at`` lines; the message and any ``Caused by``/``Suppressed`` dropped.

    The first non-blank line is ``<class>[: message]``; the message may continue over lines until the first
    line starting with a tab and ``at ``; stack lines must start with a tab.
    """
    lines = text.splitlines()
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index == len(lines):
        raise MalformedJavaStackTrace("no text")
    exception_class = lines[index].split(":", 1)[0].strip()
    index += 1
    while index < len(lines) and not lines[index].startswith("\tat "):
        index += 1
    stack: list[str] = []
    for line in lines[index:]:
        if not line.strip():
            continue
        if line.strip().startswith(("Caused by:", "Suppressed:")):
            break
        if not line.startswith("\t"):
            raise MalformedJavaStackTrace("stack line missing tab")
        if len(stack) < MAX_STACK_LINES:
            stack.append(line[1:])
    if not exception_class:
        raise MalformedJavaStackTrace("no exception class")
    return "\n".join([exception_class, *(f"\t{line}" for line in stack)])


class JavaStackTraceRule(Rule):
    """``java_stack_trace_raw`` (protected, as sent) and ``java_stack_trace`` (public, sanitized;
    ``malformed`` when it cannot be parsed)."""

    name: ClassVar[str] = "java_stack_trace"

    def predicate(self, ctx: CrashContext) -> bool:
        return bool(ctx.raw_crash.get("JavaStackTrace"))

    def action(self, ctx: CrashContext) -> None:
        raw = ctx.raw_crash["JavaStackTrace"]
        if not isinstance(raw, str):
            ctx.note("JavaStackTrace: malformed JavaStackTrace")
            return
        ctx.processed["java_stack_trace_raw"] = raw
        try:
            ctx.processed["java_stack_trace"] = sanitize_java_stack_trace(raw)
        except MalformedJavaStackTrace:
            ctx.note("JavaStackTrace: malformed JavaStackTrace")
            ctx.processed["java_stack_trace"] = "malformed"


class MalformedJavaException(ValueError):
    pass


def _str_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def sanitize_java_exception(data: Any) -> dict[str, Any]:
    """Validate a JavaException document and return its public form (no ``value``, i.e. no messages).

    Shape: ``{"exception": {"values": [{"stacktrace": {"type", "module", "value", "frames": [{"module",
    "function", "filename", "lineno", "in_app"}]}}]}}``.
    """
    exception = data.get("exception") if isinstance(data, Mapping) else None
    values = exception.get("values") if isinstance(exception, Mapping) else None
    if not isinstance(values, list) or not values:
        raise MalformedJavaException("no exception values")
    public_values: list[dict[str, Any]] = []
    for item in values[:MAX_EXCEPTIONS]:
        stacktrace = item.get("stacktrace") if isinstance(item, Mapping) else None
        if not isinstance(stacktrace, Mapping):
            raise MalformedJavaException("value without stacktrace")
        frames = stacktrace.get("frames", [])
        if not isinstance(frames, list) or not _str_or_none(stacktrace.get("type")):
            raise MalformedJavaException("bad stacktrace")
        public_frames: list[dict[str, Any]] = []
        for frame in frames[:MAX_FRAMES]:
            if not isinstance(frame, Mapping):
                raise MalformedJavaException("frame is not an object")
            kept = {
                key: frame[key]
                for key in ("module", "function", "filename", "lineno", "in_app")
                if key in frame and isinstance(frame[key], str | int | bool | None)
            }
            public_frames.append(kept)
        public: dict[str, Any] = {"frames": public_frames}
        for key in ("type", "module"):
            if isinstance(stacktrace.get(key), str):
                public[key] = stacktrace[key]
        public_values.append({"stacktrace": public})
    return {"exception": {"values": public_values}}


class JavaExceptionRule(Rule):
    """``java_exception_raw`` (protected, as sent) and ``java_exception`` (public, exception messages removed)."""

    name: ClassVar[str] = "java_exception"

    def predicate(self, ctx: CrashContext) -> bool:
        return bool(ctx.raw_crash.get("JavaException"))

    def action(self, ctx: CrashContext) -> None:
        data = json_copy(parse_json(ctx.raw_crash["JavaException"]))
        try:
            public = sanitize_java_exception(None if data is INVALID else data)
        except MalformedJavaException:
            ctx.note("JavaException: malformed JavaException")
            return
        ctx.processed["java_exception_raw"] = data
        ctx.processed["java_exception"] = public
