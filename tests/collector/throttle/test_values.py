"""Reading annotation values: the order and spelling of versions."""

from __future__ import annotations

import pytest

from crashcart.collector.throttle import version_key


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("120.0", "120.0.1"),
        ("120.0.1", "120.1"),
        ("9.0", "10.0"),
        ("1.9", "1.10"),
        ("120.0a1", "120.0b1"),
        ("120.0b2", "120.0b10"),
        ("120.0b3", "120.0rc1"),
        ("120.0rc1", "120.0"),
        ("120.0b3", "120.0"),
        ("1.2.3-beta", "1.2.3"),
        ("1.2.3-alpha.1", "1.2.3-beta"),
        ("1.2.3-beta.2", "1.2.3-beta.11"),
        ("1.2.3-dev", "1.2.3a1"),
        ("1.2.3-snapshot", "1.2.3-dev"),
        ("115.0esr", "115.0.1esr"),
        ("119.0.1", "120.0a1"),
    ],
)
def test_version_order(lower: str, higher: str) -> None:
    low, high = version_key(lower), version_key(higher)
    assert low is not None
    assert high is not None
    assert low < high


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("120", "120.0"),
        ("120.0", "120.0.0"),
        ("115.0esr", "115.0"),
        ("v1.2.3", "1.2.3"),
        ("1.2.3+build.7", "1.2.3"),
        ("120.0B3", "120.0b3"),
        (" 1.0 ", "1.0"),
        ("1.0beta", "1.0-beta.0"),
    ],
)
def test_version_equal(left: str, right: str) -> None:
    assert version_key(left) == version_key(right)


@pytest.mark.parametrize("text", ["", "abc", "beta", ".1", "x1.0", "1" * 100])
def test_not_a_version(text: str) -> None:
    assert version_key(text) is None
