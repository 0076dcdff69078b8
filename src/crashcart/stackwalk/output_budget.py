"""The output's size and time budget: how many bytes and seconds the threads after the crashing one may take.

A walk bounded in frames can still render into a large document (a frame is ~350 bytes of indented JSON), and
building it costs time the walk's budget must cover. The output builders (``output_json``, ``output_text``)
size the parts they always keep first (the dump-level parts and the crashing thread), then add the other
threads in minidump order while :meth:`OutputBudget.take` accepts them, and record what they left out.

Sizes are those of the most verbose form Crashcart emits: ``json.dumps(doc, indent=2)`` (ASCII-escaped, as
``crashcart stackwalk --json`` prints it). The stored processed crash (compact UTF-8, ``storage._codec``) is
never larger, so one cap bounds both.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import orjson

#: Bytes reserved for what is sized only approximately: the ``stackwalker`` object's truncation record and
#: notes, the crashing-thread index, the indentation of list items.
SLACK = 8 * 1024


def encoded_size(value: Any, depth: int = 0) -> int:
    """Length of ``json.dumps(value, indent=2)`` when ``value`` sits ``depth`` levels deep in a document.

    orjson's two-space indentation is byte for byte ``json``'s for ASCII output and ~30× faster; anything else
    (non-ASCII text, which ``json`` escapes; integers orjson refuses) is measured with ``json`` itself. Each line
    after the first is indented ``2 * depth`` more in place.
    """
    try:
        raw = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except TypeError:  # orjson.JSONEncodeError
        raw = None
    if raw is not None and raw.isascii():
        return len(raw) + raw.count(b"\n") * 2 * depth
    text = json.dumps(value, indent=2)
    return len(text) + text.count("\n") * 2 * depth


class OutputBudget:
    """Bytes and wall time left for optional output; ``take`` spends or refuses, and remembers why it refused."""

    def __init__(
        self, max_size: int, deadline: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_size = max_size
        self.left = max_size
        self.deadline = deadline
        self.clock = clock
        #: ``output_size`` or ``time_budget`` once something was refused.
        self.refused: str | None = None

    def spend(self, size: int) -> None:
        """Output that is kept whatever its size (the dump-level parts, the crashing thread)."""
        self.left -= size

    def take(self, size: int) -> bool:
        """Spend ``size`` bytes if they fit and time is left; once refused, every later request is refused too
        (threads are kept in order, so what is left out is a tail)."""
        if self.refused is None:
            if self.deadline is not None and self.clock() > self.deadline:
                self.refused = "time_budget"
            elif size > self.left:
                self.refused = "output_size"
        if self.refused is not None:
            return False
        self.left -= size
        return True
