from __future__ import annotations

import pytest

from crashcart.minidump import AssertionInfo, Minidump
from tests.minidump import synth

DETAIL = " format != nullptr in function common_vfprintf, in file output.cpp at line 32"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (1, "Invalid parameter passed to library function" + DETAIL),
        (2, "Pure virtual function called" + DETAIL),
        (7, "Unknown assertion type 0x00000007" + DETAIL),
    ],
)
def test_description_as_breakpad_prints_it(kind: int, expected: str) -> None:
    s = synth.Synth()
    s.assertion_info("format != nullptr", "common_vfprintf", "output.cpp", 32, kind)
    found = Minidump.from_bytes(s.build()).get_stream(AssertionInfo)
    assert found is not None
    assert (found.expression, found.function, found.file, found.line, found.type) == (
        "format != nullptr",
        "common_vfprintf",
        "output.cpp",
        32,
        kind,
    )
    assert found.description == expected


def test_empty_fields_are_left_out() -> None:
    s = synth.Synth()
    s.assertion_info("", "", "", 0, 1)
    found = Minidump.from_bytes(s.build()).get_stream(AssertionInfo)
    assert found is not None and found.description == "Invalid parameter passed to library function"
