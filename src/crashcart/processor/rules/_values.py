"""Parsing helpers for hostile annotation values: never raise, bound every input, return None on junk."""

from __future__ import annotations

import json
import math
import re
from typing import Any

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: Longest JSON text an annotation may hold before we refuse to decode it (the collector bounds totals too).
MAX_JSON_CHARS = 1024 * 1024

_INT_RE = re.compile(r"[+-]?\d{1,19}")
_NUMBER_RE = re.compile(r"[+-]?(\d{1,20}(\.\d{0,20})?|\.\d{1,20})([eE][+-]?\d{1,3})?")
_TRUE = frozenset({"1", "true"})
_FALSE = frozenset({"0", "false"})


def parse_int(value: Any) -> int | None:
    """An int64 from an int, an integral float or a decimal string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if INT64_MIN <= value <= INT64_MAX else None
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and INT64_MIN <= value <= INT64_MAX:
            return int(value)
        return None
    if isinstance(value, str) and len(value) <= 64:
        text = value.strip()
        if _INT_RE.fullmatch(text):
            number = int(text)
            return number if INT64_MIN <= number <= INT64_MAX else None
    return None


def parse_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and len(value) <= 64 and _NUMBER_RE.fullmatch(value.strip()):
        number = float(value.strip())
    else:
        return None
    return number if math.isfinite(number) else None


def parse_bool(value: Any) -> bool | None:
    """Socorro's boolean annotations: "1"/"true" and "0"/"false" (any case), or a JSON boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and len(value) <= 8:
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def parse_json(value: Any) -> Any:
    """Decode a JSON annotation; values already decoded (JSON-submitted annotations) pass through.

    Returns ``_INVALID`` (not None: ``null`` is valid JSON) when the text is too long, malformed or too deep.
    """
    if not isinstance(value, str):
        return value
    if len(value) > MAX_JSON_CHARS:
        return INVALID
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return INVALID


def json_copy(value: Any, max_depth: int = 64) -> Any:
    """A copy of JSON-shaped ``value`` (dicts, lists, scalars), or ``INVALID`` when nested deeper than
    ``max_depth``; non-JSON leaves are kept as they are."""

    def walk(node: Any, depth: int) -> Any:
        if depth > max_depth:
            raise _TooDeep
        if isinstance(node, dict):
            return {key: walk(item, depth + 1) for key, item in node.items()}
        if isinstance(node, list):
            return [walk(item, depth + 1) for item in node]
        return node

    try:
        return walk(value, 0)
    except _TooDeep:
        return INVALID


class _TooDeep(Exception):
    pass


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()
