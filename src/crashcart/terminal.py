"""Text for a person's terminal, made safe from hostile values.

Crash data comes from crash reporters, so any annotation, signature or file name may carry terminal control
sequences: an ANSI escape can recolour, move the cursor, retitle the window or (on some terminals) write
to the clipboard, and ``\\r`` or bidirectional overrides can make a line read as something it is not.
Everything Crashcart prints to a terminal that did not come from Crashcart itself goes through ``printable``.
"""

from __future__ import annotations

import unicodedata

#: Characters that reorder or hide text without being control characters (Unicode category Cf/Zl/Zp):
#: bidirectional embeddings, overrides and isolates, and the line and paragraph separators.
_INVISIBLE = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")


def printable(value: object, limit: int | None = None) -> str:
    """``value`` as text on one line: control characters shown as ``\\t``, ``\\n``, ``\\r``, ``\\xNN`` or
    ``\\uNNNN`` escapes.

    Tabs, newlines and carriage returns are escaped too, so one value is always one line and cannot
    overwrite what was printed before it. ``limit`` caps the length (escapes count as they print), ending
    a cut value with ``…``.
    """
    text = value if isinstance(value, str) else str(value)
    out: list[str] = []
    length = 0
    for char in text:
        piece = _escape(char) if _unsafe(char) else char
        if limit is not None and length + len(piece) > limit:
            out.append("…")
            break
        out.append(piece)
        length += len(piece)
    return "".join(out)


def one_line(message: str) -> str:
    """An error message on one line: runs of whitespace (newlines included) become one space, then
    ``printable``. For messages that quote foreign text (a broker's reply, a database's error)."""
    return printable(" ".join(message.split()))


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or char in _INVISIBLE


_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
