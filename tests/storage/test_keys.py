"""The key layout is injective: no dump name, whatever it is, lands on another kind's key (issue #9, point 4).

The kinds are found by reading ``keys`` itself (every ``*_key`` function and every ``*_PREFIX``), so a key
kind added later is covered without touching this file.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crashcart.storage import keys
from tests.storage.conftest import new_crash_id

CRASH_ID = new_crash_id()


def _other_kinds() -> dict[str, str]:
    """Every key (or key prefix) the layout makes that is not a dump's, by the name that makes it."""
    found: dict[str, str] = {}
    for name, value in vars(keys).items():
        if name == "dump_key" or name.startswith("_"):
            continue
        if callable(value) and getattr(value, "__module__", "") != keys.__name__:
            continue  # imported (``date_key``), not a kind of this layout
        if callable(value) and name.endswith("_key"):
            found[name] = value(CRASH_ID)
        elif callable(value) and name.endswith("_prefix"):
            found[name] = value(CRASH_ID[-6:])
        elif isinstance(value, str) and name.endswith("_PREFIX"):
            found[name] = value
    return found


OTHER_KINDS = _other_kinds()


def _segments(key: str) -> set[str]:
    """Each path segment of a key: a dump named like any of them is suspect."""
    return {part for part in key.split("/") if part}


# Every name the layout itself spells, in several spellings a case-insensitive store would fold together.
LAYOUT_NAMES = sorted(
    {variant for key in OTHER_KINDS.values() for seg in _segments(key) for variant in (seg, seg.upper(), seg.title())}
    | {"dump", "Dump", "DUMP", keys.MAIN_DUMP}
)


def test_the_layout_is_found_by_introspection() -> None:
    # the kinds this test must know about; a new one is picked up by ``_other_kinds`` on its own
    assert {"raw_crash_key", "dump_names_key", "processed_crash_key", "pending_publish_key"} <= set(OTHER_KINDS)
    assert "HEALTH_PREFIX" in OTHER_KINDS


def _dump_key_or_none(name: str) -> str | None:
    try:
        return keys.dump_key(CRASH_ID, name)
    except keys.InvalidDumpName:
        return None


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_no_dump_name_lands_in_another_kinds_directory(name: str) -> None:
    key = _dump_key_or_none(name)
    if key is None:
        return  # refused: nothing is stored under it
    directory = key.split("/")[1]
    for kind, other in OTHER_KINDS.items():
        assert not other.startswith(f"v1/{directory}/"), f"dump {name!r} shares {kind}'s directory: {key}"
        assert key != other
    if name != keys.MAIN_DUMP:
        assert key != keys.dump_key(CRASH_ID, keys.MAIN_DUMP), f"dump {name!r} replaces the minidump"


def test_every_layout_directory_is_a_reserved_dump_name() -> None:
    directories = {key.split("/")[1] for key in OTHER_KINDS.values() if key.startswith("v1/")}
    directories.add(keys.dump_key(CRASH_ID, keys.MAIN_DUMP).split("/")[1])
    for directory in directories:
        assert not keys.is_dump_name(directory) or directory == keys.MAIN_DUMP, directory
        with pytest.raises(keys.InvalidDumpName):
            keys.dump_key(CRASH_ID, directory) if directory != keys.MAIN_DUMP else keys.dump_key(CRASH_ID, "dump")


@pytest.mark.parametrize(
    "name", ["", "a/b", "../raw_crash", "x.y", "é", "٣", "dump\n", "dump\x00", "ab c", "dump", "DUMP", "raw_crash"]
)
def test_names_outside_the_alphabet_or_reserved_are_refused(name: str) -> None:
    assert not keys.is_dump_name(name)
    with pytest.raises(keys.InvalidDumpName, match="invalid dump name"):
        keys.dump_key(CRASH_ID, name)


NAMES = st.text(alphabet="abcdump_ABRWNSPHLIXY0123456789", min_size=0, max_size=20) | st.sampled_from(LAYOUT_NAMES)


@given(st.lists(NAMES, min_size=2, max_size=8, unique=True))
@example(["dump", keys.MAIN_DUMP])
def test_dump_key_is_injective_and_disjoint_from_every_other_kind(names: list[str]) -> None:
    made = {name: key for name in names if (key := _dump_key_or_none(name)) is not None}
    assert len(set(made.values())) == len(made)
    others = set(OTHER_KINDS.values())
    for key in made.values():
        assert key not in others
        assert not any(key.startswith(prefix) for prefix in others if prefix.endswith("/"))


def test_every_key_function_refuses_a_bad_crash_id() -> None:
    functions: list[Callable[..., str]] = [
        value
        for name, value in vars(keys).items()
        if callable(value) and name.endswith("_key") and getattr(value, "__module__", "") == keys.__name__
    ]
    for function, bad in itertools.product(functions, [CRASH_ID + "\n", CRASH_ID[:-1] + "\x00"]):
        args = (bad, keys.MAIN_DUMP) if len(inspect.signature(function).parameters) == 2 else (bad,)
        with pytest.raises(ValueError):
            function(*args)
