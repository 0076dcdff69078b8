from __future__ import annotations

import pytest

from crashcart.errors import CrashcartError
from crashcart.minidump import ERROR_CODES, MinidumpError


def test_error_carries_a_stable_code_and_a_message() -> None:
    error = MinidumpError("truncated", "thread list needs 52 bytes")
    assert isinstance(error, CrashcartError)
    assert (error.code, error.message, str(error)) == (
        "truncated",
        "thread list needs 52 bytes",
        "truncated: thread list needs 52 bytes",
    )


def test_codes_are_a_closed_set() -> None:
    assert "out_of_bounds" in ERROR_CODES and "limit_exceeded" in ERROR_CODES
    with pytest.raises(ValueError, match="unknown minidump error code"):
        MinidumpError("oops", "not a code")
