"""``output_budget``: sizes as ``json.dumps(indent=2)`` prints them in place, and a budget that refuses a tail."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crashcart.stackwalk.output_budget import OutputBudget, encoded_size

VALUES: list[Any] = [
    {"frames": [{"offset": "0x1", "inlines": None, "line": 3}], "truncated": True, "empty": [], "nothing": {}},
    {"thread_name": "h\u00e9llo \U0001f600", "id": 7},  # non-ASCII: json escapes it
    {"big": 1 << 70, "list": [1, [2, [3]]]},  # beyond orjson's integers
    [],
    "text",
]


def _nest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("depth", [0, 1, 2, 3])
def test_encoded_size_is_the_size_in_place(value: Any, depth: int) -> None:
    """The value's share of ``json.dumps(doc, indent=2)`` when nested ``depth`` deep: the whole document's
    length minus that of the same document holding a one-character value instead."""
    around = len(json.dumps(_nest(0, depth), indent=2)) - 1
    assert encoded_size(value, depth) == len(json.dumps(_nest(value, depth), indent=2)) - around


def test_budget_refuses_a_tail() -> None:
    budget = OutputBudget(100)
    budget.spend(60)
    assert budget.take(30)
    assert not budget.take(20)
    assert budget.refused == "output_size"
    assert not budget.take(1)  # a smaller thread after a refused one is refused too


def test_budget_deadline() -> None:
    now = [0.0]
    budget = OutputBudget(1 << 30, deadline=1.0, clock=lambda: now[0])
    assert budget.take(10)
    now[0] = 2.0
    assert not budget.take(10)
    assert budget.refused == "time_budget"
