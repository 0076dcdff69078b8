"""Crash ids in Socorro's format: a UUID4 whose last seven hex digits are ``<throttle digit><YYMMDD>``.

The date lets storage partition raw crashes by day without a lookup; it is always the UTC date of the
crash's ``submitted_timestamp``, which is why ids are made from the same ``datetime`` as that timestamp.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from enum import IntEnum

CRASH_ID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{6}[0-9]{6}")
"""Always used with ``fullmatch``: ``$`` would also match before a trailing newline, letting ``<id>\\n`` through."""


class Throttle(IntEnum):
    """The throttle decision recorded in a crash id (Antenna's digits)."""

    ACCEPT = 0
    DEFER = 1
    REJECT = 2
    FAKEACCEPT = 3


class InvalidCrashId(ValueError):
    """The string is not a crash id in Socorro's format."""

    code = "invalid_crash_id"


def create_crash_id(submitted: dt.datetime, throttle: Throttle = Throttle.ACCEPT) -> str:
    """Make a new crash id for a crash submitted at ``submitted`` (an aware datetime)."""
    if submitted.tzinfo is None:
        raise ValueError("submitted must be timezone-aware")
    day = submitted.astimezone(dt.UTC)
    base = str(uuid.uuid4())
    return f"{base[:-7]}{int(throttle)}{day:%y%m%d}"


def is_crash_id(value: str, *, strict: bool = False) -> bool:
    """True when ``value`` has the crash id shape and a real date.

    ``strict`` also requires the throttle digit to be accept or defer, the only ids that are ever stored.
    """
    if not isinstance(value, str) or not CRASH_ID_RE.fullmatch(value):
        return False
    try:
        date_of(value)
    except InvalidCrashId:
        return False
    return not strict or value[-7] in "01"


def validate_crash_id(value: str, *, strict: bool = False) -> str:
    """Return ``value`` if it is a crash id, else raise ``InvalidCrashId``."""
    if not is_crash_id(value, strict=strict):
        raise InvalidCrashId(f"not a crash id: {value[:60]!r}")
    return value


def date_of(crash_id: str) -> dt.date:
    """The UTC submission date encoded in a crash id."""
    if not isinstance(crash_id, str) or not CRASH_ID_RE.fullmatch(crash_id):
        raise InvalidCrashId(f"not a crash id: {crash_id[:60]!r}")
    digits = crash_id[-6:]
    try:
        return dt.date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError as exc:
        raise InvalidCrashId(f"crash id has no valid date: {crash_id!r}") from exc


def throttle_of(crash_id: str) -> Throttle:
    """The throttle decision encoded in a crash id."""
    validate_crash_id(crash_id)
    return Throttle(int(crash_id[-7]))


def date_key(crash_id: str) -> str:
    """``YYYYMMDD`` of the crash id, the partition used by the storage layout."""
    return date_of(crash_id).strftime("%Y%m%d")
