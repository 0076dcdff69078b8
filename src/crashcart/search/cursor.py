"""Opaque continuation tokens for Super Search (``next_cursor`` / ``_cursor``), pure.

A cursor is the sort key of the last hit of a page: ``base64url(JSON [fingerprint, [value, …]])``. The next
page asks for the rows strictly after that key in the same order (keyset pagination), so deep pages cost what
the first page costs and there is no 10,000-result ceiling.

It is validated, not signed: its values only ever reach the database as bound parameters, so a forged cursor
can at worst start a page somewhere else, which the caller could ask for with a filter anyway. The fingerprint
names the sort order it was made for, so a cursor from another ``_sort`` is refused instead of silently
skipping rows.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from crashcart.errors import BadArgumentError

#: Longest token accepted; a cursor holds a handful of sort values, each bounded by the index's column sizes.
MAX_CURSOR_LENGTH = 64 * 1024

CursorValue = str | int | float | bool | None


def fingerprint(sort: Sequence[tuple[str, bool]]) -> str:
    """A short name of a sort order: ``(field name, descending)`` pairs."""
    text = ",".join(("-" if desc else "") + name for name, desc in sort)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def encode(sort: Sequence[tuple[str, bool]], values: Sequence[Any]) -> str:
    """The token for the row whose sort key is ``values`` (datetimes as ISO 8601 text)."""
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    raw = json.dumps([fingerprint(sort), plain], separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, sort: Sequence[tuple[str, bool]]) -> tuple[CursorValue, ...]:
    """The sort key in ``token``, checked against ``sort``; raise ``BadArgumentError`` if it is not one of ours."""
    bad = BadArgumentError("Bad value for parameter _cursor: not a valid cursor")
    if len(token) > MAX_CURSOR_LENGTH:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise bad from exc
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], str) and isinstance(data[1], list)):
        raise bad
    if data[0] != fingerprint(sort):
        raise BadArgumentError("Bad value for parameter _cursor: this cursor was made for another _sort")
    values = data[1]
    if len(values) != len(sort) or not all(v is None or isinstance(v, str | int | float | bool) for v in values):
        raise bad
    return tuple(values)
