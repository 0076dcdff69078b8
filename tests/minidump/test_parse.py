"""The shared parsing helpers (``_parse.py``)."""

from __future__ import annotations

import struct

import pytest

from crashcart.minidump import MinidumpError
from crashcart.minidump._parse import (
    BUDGET_FIXED,
    Note,
    ParseContext,
    cstring,
    list_entries,
    unpack,
    utf16,
)


def context(data: bytes) -> ParseContext:
    return ParseContext(memoryview(data))


def test_unpack_reports_truncation() -> None:
    assert unpack(struct.Struct("<I"), b"\x01\0\0\0", 0, "x") == (1,)
    with pytest.raises(MinidumpError, match="x needs 4 bytes at offset 2, only 2") as err:
        unpack(struct.Struct("<I"), b"\x01\0\0\0", 2, "x")
    assert err.value.code == "truncated"
    with pytest.raises(MinidumpError):
        unpack(struct.Struct("<I"), b"\x01\0\0\0", -1, "x")


def test_list_entries() -> None:
    assert list_entries(struct.pack("<I", 2) + bytes(16), 8, 10, "list") == (2, 4)
    assert list_entries(struct.pack("<I", 2) + bytes(20), 8, 10, "list") == (2, 8)  # 4 bytes of padding
    assert list_entries(struct.pack("<I", 2) + bytes(40), 8, 10, "list") == (2, 4)  # extra bytes are fine
    assert list_entries(struct.pack("<I", 0) + bytes(4), 8, 10, "list") == (0, 4)
    with pytest.raises(MinidumpError) as err:
        list_entries(struct.pack("<I", 3) + bytes(16), 8, 10, "list")
    assert err.value.code == "truncated"
    with pytest.raises(MinidumpError) as err:
        list_entries(struct.pack("<I", 11), 8, 10, "list")
    assert err.value.code == "too_many"


def test_cstring_and_utf16() -> None:
    assert cstring(b"ab\0cd\0", 0, 10, "s") == ("ab", 3)
    assert cstring(b"ab\0cd\0", 3, 10, "s") == ("cd", 6)
    with pytest.raises(MinidumpError, match="no NUL"):
        cstring(b"abcdef", 0, 3, "s")
    assert utf16("hi".encode("utf-16-le") + b"\0\0junk") == "hi"
    assert utf16("full".encode("utf-16-le")) == "full"


def test_strings() -> None:
    raw = struct.pack("<I", 4) + "hé".encode("utf-16-le") + struct.pack("<I", 3) + b"abc\0" + struct.pack("<I", 3)
    ctx = context(raw + b"xyz")
    assert ctx.string(0, "s") == "hé"
    assert ctx.utf8_string(8, "u") == "abc"
    assert ctx.byte_array(16, "b") == b"xyz"
    for rva, code in [(8, "bad_string"), (100, "out_of_bounds"), (len(raw) + 1, "out_of_bounds")]:
        with pytest.raises(MinidumpError) as err:
            ctx.string(rva, "s")
        assert err.value.code == code
    too_long = context(struct.pack("<I", 70_000) + bytes(70_000))
    for read in (too_long.string, too_long.utf8_string):
        with pytest.raises(MinidumpError) as err:
            read(0, "s")
        assert err.value.code == "bad_string"
    with pytest.raises(MinidumpError) as err:
        context(struct.pack("<I", 2_000_000)).byte_array(0, "b")
    assert err.value.code == "too_many"
    with pytest.raises(MinidumpError) as err:
        context(b"").utf8_string(0, "u")
    assert err.value.code == "out_of_bounds"


def test_budget() -> None:
    ctx = context(bytes(64))
    assert ctx.budget == BUDGET_FIXED + 16 * 64
    ctx.charge(ctx.budget, "all of it")
    with pytest.raises(MinidumpError) as err:
        ctx.slice(0, 1, "one more byte")
    assert err.value.code == "limit_exceeded"


def test_recover_notes_a_record_but_not_an_exhausted_budget() -> None:
    ctx = context(bytes(8))
    ctx.recover(MinidumpError("truncated", "short"), 3, "record 1: ")
    assert ctx.notes == [Note("truncated", "record 1: short", 3)]
    with pytest.raises(MinidumpError):
        ctx.recover(MinidumpError("limit_exceeded", "spent"), 3)


def test_release() -> None:
    ctx = context(bytes(8))
    ctx.release()
    ctx.release()
    with pytest.raises(MinidumpError) as err:
        ctx.slice(0, 1, "x")
    assert err.value.code == "closed"
    assert str(Note("closed", "gone")) == "closed: gone"
