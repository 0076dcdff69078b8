"""``crashcart.terminal``: hostile text made safe for a terminal."""

from __future__ import annotations

import unicodedata

import pytest

from crashcart.terminal import one_line, printable


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain text, ünïcode ✓", "plain text, ünïcode ✓"),
        ("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07"),
        ("a\rb\nc\td", "a\\rb\\nc\\td"),
        ("\x00\x7f\x9b", "\\x00\\x7f\\x9b"),
        ("doc\u202efdp.exe\u2066\u2028", "doc\\u202efdp.exe\\u2066\\u2028"),
        (42, "42"),
        (None, "None"),
    ],
)
def test_printable_escapes_what_a_terminal_would_obey(value: object, shown: str) -> None:
    assert printable(value) == shown


def test_every_control_character_is_escaped() -> None:
    every = "".join(chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) == "Cc")
    shown = printable(every)
    assert all(unicodedata.category(char) != "Cc" for char in shown)
    assert shown.isascii()


def test_limit_counts_escapes_and_marks_the_cut() -> None:
    assert printable("abcdef", limit=3) == "abc…"
    assert printable("abc", limit=3) == "abc"
    assert printable("ab\x1bcd", limit=5) == "ab…"  # the escape does not fit: it is not cut in half
    assert printable("", limit=0) == ""


def test_one_line_folds_whitespace_then_escapes() -> None:
    assert one_line("connection failed:\n  Is the server\trunning?\x1b[0m") == (
        "connection failed: Is the server running?\\x1b[0m"
    )
