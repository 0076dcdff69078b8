"""Keeping rule regexes fast on hostile input: refuse exponential patterns at load, bound the input at match.

A pattern that repeats a part which itself only repeats, like ``(a+)+``, backtracks exponentially on a near
miss; ``has_nested_quantifier`` finds that shape in Python's own parse of the pattern so the rules file is
refused. Whatever slips past (or if the private parser moves), ``REGEX_INPUT_LIMIT`` still bounds the work.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

# A regex sees at most this many characters of a value: the backstop against slow patterns on hostile input.
REGEX_INPUT_LIMIT = 10 * 1024

try:  # private, but the only parser of Python's own regex syntax; without it the input bound still applies
    _sre_parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - a future Python
    _sre_parser = None

_SOLID, _REPEATS, _VANISHES = "solid", "repeats", "vanishes"


def has_nested_quantifier(pattern: str) -> bool:
    """True for the classic exponential shape: a repeated part made only of repeats, like (a+)+, (\\w+|x)*."""
    if _sre_parser is None:  # pragma: no cover
        return False
    try:
        tree = _sre_parser.parse(pattern)
    except Exception:  # re.compile accepted it; a private-API change must not fail the load
        return False
    return _scan(tree)


def _scan(items: Any) -> bool:
    for op, arg in items:
        if str(op) in ("MAX_REPEAT", "MIN_REPEAT") and arg[1] > 1 and _shape(arg[2]) == _REPEATS:
            return True
        if any(_scan(child) for child in _subpatterns(arg)):
            return True
    return False


def _subpatterns(arg: Any) -> Iterator[Any]:
    if isinstance(arg, _sre_parser.SubPattern):
        yield arg
    elif isinstance(arg, tuple | list):
        for item in arg:
            yield from _subpatterns(item)


def _shape(items: Any) -> str:
    """How a sequence consumes input: ``solid`` (something fixed), ``repeats`` (only repeats and optional
    parts) or ``vanishes`` (only the empty string). Repeating a ``repeats`` body backtracks exponentially."""
    shapes = set()
    for op, arg in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            shapes.add(_REPEATS if arg[1] > 1 else _VANISHES)
        elif name == "SUBPATTERN":
            shapes.add(_shape(arg[3]))
        elif name == "BRANCH":
            branches = {_shape(branch) for branch in arg[1]}
            shapes.add(_REPEATS if _REPEATS in branches else _VANISHES if _VANISHES in branches else _SOLID)
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            shapes.add(_VANISHES)
        else:
            shapes.add(_SOLID)
    if _SOLID in shapes:
        return _SOLID
    return _REPEATS if _REPEATS in shapes else _VANISHES
