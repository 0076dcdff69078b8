"""Reading annotation values at decision time: as text, a number, a version or a BuildID timestamp.

Annotations arrive as strings from multipart fields or as any JSON value from ``extra`` parts. Each reader
returns None for a value it cannot read, so the test that asked is false; none of them raises.
"""

from __future__ import annotations

import datetime as dt
import json
import re

# Longer values are never numbers or versions; bounding them keeps int()/float() cheap.
NUMBER_INPUT_LIMIT = 64
VERSION_INPUT_LIMIT = 64


def as_text(value: object) -> str | None:
    """The text a string test sees, or None if the value cannot be rendered.

    Non-strings come from JSON ``extra`` parts, so they get JSON spelling (``true``, ``null``, ``{"a":1}``)
    rather than Python's (``True``, ``None``): a rule written against the wire text matches either way.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    try:
        if isinstance(value, int | float):
            return str(value)  # ValueError past int's 4300-digit str() limit
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (ValueError, TypeError, RecursionError):
        return None


_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER_RE = re.compile(r"[+-]?[0-9]+")


def as_number(value: object) -> float | None:
    """A number from an int, float or decimal string; None otherwise (so the comparison is false)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if not isinstance(value, str) or len(value) > NUMBER_INPUT_LIMIT:
        return None
    text = value.strip()
    if _INTEGER_RE.fullmatch(text):
        return int(text)
    if _NUMBER_RE.fullmatch(text):
        return float(text)
    return None


VersionKey = tuple[tuple[int, ...], tuple[int, int, int, str]]

_VERSION_RE = re.compile(r"v?([0-9]+(?:\.[0-9]+)*)(.*)", re.DOTALL)
_PRERELEASE_RE = re.compile(r"([a-z]*)[-._]?([0-9]{0,18})(.*)", re.DOTALL)
_PRERELEASE_RANK = {"dev": 1, "a": 2, "alpha": 2, "b": 3, "beta": 3, "pre": 4, "c": 4, "rc": 4}
_RELEASE_LABELS = frozenset({"", "esr"})
_RELEASE = (1, 0, 0, "")


def version_key(text: str) -> VersionKey | None:
    """A sortable key for a dotted version, or None if ``text`` does not start like one.

    ``120`` == ``120.0`` < ``120.0.1``; a pre-release sorts before its release: ``120.0a1`` < ``120.0b3`` <
    ``120.0rc1`` < ``120.0``, and ``1.2.3-beta`` < ``1.2.3``. ``esr`` marks a release (Firefox ``115.0esr``),
    ``+build`` metadata is ignored (semver), and unknown labels sort before alpha.
    """
    if len(text) > VERSION_INPUT_LIMIT:
        return None
    match = _VERSION_RE.fullmatch(text.strip().lower().split("+", 1)[0])
    if match is None:
        return None
    parts = [int(part) for part in match.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    label = match.group(2).lstrip("-._")
    if label in _RELEASE_LABELS:
        return tuple(parts), _RELEASE
    pre = _PRERELEASE_RE.fullmatch(label)
    if pre is None:  # cannot happen: every part of the pattern may be empty
        return None
    tag, number, rest = pre.groups()
    return tuple(parts), (0, _PRERELEASE_RANK.get(tag, 0), int(number) if number else 0, rest)


_BUILD_ID_RE = re.compile(r"[0-9]{14}")


def build_time(value: object) -> dt.datetime | None:
    """A ``YYYYMMDDhhmmss`` BuildID as a naive UTC datetime; None if it is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**14:
        value = str(value)
    if not isinstance(value, str) or len(value) != 14 or not _BUILD_ID_RE.fullmatch(value):
        return None
    try:
        return dt.datetime(  # naive UTC, like the now it meets
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[8:10]),
            int(value[10:12]),
            int(value[12:14]),
        )
    except ValueError:
        return None


def naive_utc(now: dt.datetime) -> dt.datetime:
    return now if now.tzinfo is None else now.astimezone(dt.UTC).replace(tzinfo=None)
