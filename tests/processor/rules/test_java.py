from __future__ import annotations

import json
from typing import Any

import pytest

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.java import (
    JavaExceptionRule,
    JavaStackTraceRule,
    MalformedJavaStackTrace,
    sanitize_java_stack_trace,
)

TRACE = (
    "java.lang.IllegalStateException: user secret@example.com\n"
    "more message\n"
    "\tat org.App.run(App.java:10)\n"
    "\tat org.App.main(App.java:3)\n"
    "Caused by: java.io.IOException: secret path\n"
    "\tat org.Io.read(Io.java:1)\n"
)


def test_sanitize_drops_message_and_causes() -> None:
    assert sanitize_java_stack_trace(TRACE) == (
        "java.lang.IllegalStateException\n\tat org.App.run(App.java:10)\n\tat org.App.main(App.java:3)"
    )


@pytest.mark.parametrize("text", ["", "   \n", "java.lang.Error: x\n\tat a.b(c)\nno tab here"])
def test_sanitize_malformed(text: str) -> None:
    with pytest.raises(MalformedJavaStackTrace):
        sanitize_java_stack_trace(text)


def run(rule: JavaStackTraceRule | JavaExceptionRule, raw: dict[str, Any]) -> CrashContext:
    ctx = CrashContext(crash_id="id", raw_crash=raw)
    if rule.predicate(ctx):
        rule.action(ctx)
    return ctx


def test_java_stack_trace_rule() -> None:
    ctx = run(JavaStackTraceRule(), {"JavaStackTrace": TRACE})
    assert ctx.processed["java_stack_trace_raw"] == TRACE
    assert "secret" not in ctx.processed["java_stack_trace"]
    assert not ctx.notes


def test_java_stack_trace_rule_malformed_and_absent() -> None:
    ctx = run(JavaStackTraceRule(), {"JavaStackTrace": "a: b\n\tat x\nbad"})
    assert ctx.processed["java_stack_trace"] == "malformed"
    assert ctx.notes == ["JavaStackTrace: malformed JavaStackTrace"]
    assert run(JavaStackTraceRule(), {}).processed == {}
    ctx = run(JavaStackTraceRule(), {"JavaStackTrace": ["x"]})
    assert ctx.processed == {} and ctx.notes == ["JavaStackTrace: malformed JavaStackTrace"]


EXCEPTION = {
    "exception": {
        "values": [
            {
                "stacktrace": {
                    "type": "IllegalStateException",
                    "module": "java.lang",
                    "value": "secret message",
                    "frames": [
                        {
                            "module": "org.App",
                            "function": "run",
                            "filename": "App.java",
                            "lineno": 10,
                            "in_app": True,
                            "extra": "dropped",
                        }
                    ],
                }
            }
        ]
    }
}


@pytest.mark.parametrize("encoded", [True, False])
def test_java_exception_rule(encoded: bool) -> None:
    value: Any = json.dumps(EXCEPTION) if encoded else EXCEPTION
    ctx = run(JavaExceptionRule(), {"JavaException": value})
    assert ctx.processed["java_exception_raw"] == EXCEPTION
    stacktrace = ctx.processed["java_exception"]["exception"]["values"][0]["stacktrace"]
    assert "value" not in stacktrace
    assert stacktrace["type"] == "IllegalStateException"
    assert stacktrace["frames"] == [
        {"module": "org.App", "function": "run", "filename": "App.java", "lineno": 10, "in_app": True}
    ]
    assert not ctx.notes


@pytest.mark.parametrize(
    "value",
    [
        "{",
        "[]",
        '{"exception": {"values": []}}',
        '{"exception": {"values": [{"stacktrace": 1}]}}',
        "[" * 100000,
        '{"exception": {"values": [{"stacktrace": {"frames": [1]}}]}}',
    ],
)
def test_java_exception_malformed(value: str) -> None:
    ctx = run(JavaExceptionRule(), {"JavaException": value})
    assert ctx.processed == {}
    assert ctx.notes == ["JavaException: malformed JavaException"]
