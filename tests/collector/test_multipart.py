"""The incremental multipart parser on its own: events, header parameters, tolerance, bounded buffering."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crashcart.collector import multipart
from crashcart.collector.multipart import (
    MAX_HEADER_SIZE,
    Event,
    MultipartError,
    MultipartParser,
    PartBegin,
    PartData,
    PartEnd,
    parse_params,
    parse_part_headers,
)


def run(body: bytes, boundary: bytes = b"b", size: int | None = None) -> list[tuple[str, object]]:
    """Events for ``body`` fed in ``size``-byte pieces; adjacent data merged, so chunkings compare equal."""
    parser = MultipartParser(boundary)
    events: list[Event] = []
    pieces = [body] if size is None else [body[i : i + size] for i in range(0, len(body), size)]
    for piece in pieces:
        events.extend(parser.feed(piece))
    parser.finish()
    out: list[tuple[str, object]] = []
    for event in events:
        if isinstance(event, PartData):
            if out and out[-1][0] == "data":
                out[-1] = ("data", out[-1][1] + event.data)  # type: ignore[operator]
            else:
                out.append(("data", event.data))
        elif isinstance(event, PartBegin):
            out.append(("begin", event.headers.name))
        else:
            assert isinstance(event, PartEnd)
            out.append(("end", event.last))
    return out


MiB = 1024 * 1024

BODY = (
    b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
    b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nxy\r\n--b--\r\n'
)
EXPECTED = [("begin", "a"), ("data", b"1"), ("end", False), ("begin", "f"), ("data", b"xy"), ("end", True)]


@pytest.mark.parametrize("size", [None, 1, 2, 3, 5, 8, 13])
def test_events_do_not_depend_on_chunking(size: int | None) -> None:
    assert run(BODY, size=size) == EXPECTED


def test_preamble_epilogue_and_missing_final_crlf() -> None:
    body = b"preamble --a --b- junk\r\n" + BODY.removesuffix(b"\r\n") + b"epilogue --b\r\n junk"
    assert run(body) == EXPECTED
    assert run(BODY.removesuffix(b"\r\n")) == EXPECTED


def test_delimiter_without_preceding_crlf_ends_the_part() -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nDATA'
        b'--b\r\nContent-Disposition: form-data; name="g"\r\n\r\nLOG\r\n--b--'
    )
    assert run(body) == [
        ("begin", "f"),
        ("data", b"DATA"),
        ("end", False),
        ("begin", "g"),
        ("data", b"LOG"),
        ("end", True),
    ]


def test_boundary_lookalikes_are_content() -> None:
    content = b"--bX --b- --b\t\tZ \r\n--bb \r--b\r\r--b\x00"
    body = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n" + content + b"\r\n--b--"
    for size in (None, 1, 3):
        assert run(body, size=size) == [("begin", "a"), ("data", content), ("end", True)]


def test_transport_padding_after_delimiters() -> None:
    body = b"--b \t \r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--b  \r\nX: y\r\n\r\nw\r\n--b--  "
    assert run(body, size=1) == [
        ("begin", "a"),
        ("data", b"v"),
        ("end", False),
        ("begin", None),
        ("data", b"w"),
        ("end", True),
    ]


def test_empty_header_block_and_empty_part() -> None:
    body = b"--b\r\n\r\n\r\n--b\r\n\r\nz\r\n--b--"
    assert run(body) == [("begin", None), ("end", False), ("begin", None), ("data", b"z"), ("end", True)]


def test_only_a_tail_is_kept_between_feeds() -> None:
    boundary = b"-" * 27 + b"0123456789ABCDEF"
    parser = MultipartParser(boundary)
    list(parser.feed(b"--" + boundary + b"\r\nContent-Disposition: form-data; name=d\r\n\r\n"))
    for _ in range(100):
        events = list(parser.feed(b"\x00" * 10000 + b"\r\n--" + boundary[:20]))
        assert sum(len(e.data) for e in events if isinstance(e, PartData)) > 9000
        assert len(parser._tail) <= len(boundary) + 4


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"no delimiter at all", "boundary_not_found"),
        (b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv", "truncated"),
        (b"--b\r\nContent-Disposition: form-data; name=a\r\n", "truncated"),
        (b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--b", "truncated"),
        (b"--b\nContent-Disposition: form-data; name=a\n\nv\n--b--\n", "invalid_payload_structure"),
        (b"--b   \n", "invalid_payload_structure"),
        (b"--b\r\nno colon here\r\n\r\nv\r\n--b--", "bad_part_headers"),
        (b"--b\r\n" + b"X: " + b"y" * 9000 + b"\r\n\r\n", "part_headers_too_large"),
    ],
)
@pytest.mark.parametrize("size", [None, 1])
def test_errors(body: bytes, code: str, size: int | None) -> None:
    with pytest.raises(MultipartError) as info:
        run(body, size=size)
    assert info.value.code == code


def test_part_count_limit() -> None:
    parser = MultipartParser(b"b", max_parts=2)
    with pytest.raises(MultipartError, match="too_many_parts"):
        list(parser.feed(b"--b\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b\r\n\r\n3\r\n--b--"))


def test_header_block_exactly_at_the_limit() -> None:
    line = b"X: " + b"y" * (8192 - 3)
    assert run(b"--b\r\n" + line + b"\r\n\r\nv\r\n--b--") == [("begin", None), ("data", b"v"), ("end", True)]
    with pytest.raises(MultipartError, match="part_headers_too_large"):
        run(b"--b\r\n" + line + b"y\r\n\r\nv\r\n--b--")


# --- header interpretation -------------------------------------------------------------------------------


def test_windows_path_filename_keeps_backslashes() -> None:
    block = 'Content-Disposition: form-data; name="upload_file_minidump"; filename="C:\\Users\\Jöhn\\x.dmp"'
    headers = parse_part_headers(block.encode("utf-8") + b"\r\nContent-Type: application/octet-stream")
    assert headers.name == "upload_file_minidump"
    assert headers.filename == "C:\\Users\\Jöhn\\x.dmp"
    assert headers.content_type == "application/octet-stream"


def test_latin1_header_fallback() -> None:
    headers = parse_part_headers(b'Content-Disposition: form-data; name="a"; filename="caf\xe9.dmp"')
    assert headers.filename == "café.dmp"


def test_header_names_are_case_insensitive_and_folding_works() -> None:
    headers = parse_part_headers(
        b'CONTENT-disposition: form-data;\r\n\tname="k"\r\ncontent-TYPE: Text/Plain; Charset="ISO-8859-1"'
    )
    assert (headers.name, headers.content_type, headers.charset) == ("k", "text/plain", "iso-8859-1")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("form-data; name=ProductName", {"name": "ProductName"}),
        ('form-data; name="bad%22name"', {"name": "bad%22name"}),
        ('form-data; name="a;b"; filename="c d.dmp"', {"name": "a;b", "filename": "c d.dmp"}),
        ("form-data; NAME = spaced ; Filename=x.dmp", {"name": "spaced", "filename": "x.dmp"}),
        ("form-data; filename=\"x.dmp\"; filename*=UTF-8''%E2%82%AC.dmp", {"filename": "€.dmp"}),
        ("form-data; filename*=bogus", {}),
        ("form-data; filename*=no-such-charset''x", {}),
        ("form-data; name*=unicode_escape''%5Cud800", {}),
        ("form-data; name*=ISO-8859-1'en'caf%E9", {"name": "café"}),
        ("form-data; name*=utf-8''%FF", {}),
        ('form-data; name="a"; name="b"', {"name": "a"}),
        ('form-data; name="unterminated', {"name": '"unterminated'}),
        ("form-data; name=", {"name": ""}),
        ("form-data", {}),
        ('form-data; name="a\\"b"', {"name": "a\\"}),  # backslash is literal: the name ends at the quote
        (
            "multipart/form-data; boundary=---MultipartBoundary-abc---",
            {"boundary": "---MultipartBoundary-abc---"},
        ),
    ],
)
def test_parse_params(value: str, expected: dict[str, str]) -> None:
    assert parse_params(value) == expected


HEADER_TOKENS = [
    b"Content-Disposition: form-data; name=",
    b"content-disposition: form-data; name=",
    b'"',
    b"a",
    b"\\",
    b";",
    b" ",
    b"=",
    b"*",
    b"name",
    b'; filename="x.dmp"',
    b"; filename=",
    b"\r\nContent-Type: ",
    b"application/octet-stream",
    b"Text/Plain",
    b"; charset=latin-1",
    b"\xc3\xa9",
    b"\xe9",
    b"\r\n",
    b"\r",
    b"\n",
]


def _headers_or_error(block: bytes) -> object:
    try:
        return parse_part_headers(block)
    except MultipartError as exc:
        return exc.code


@settings(max_examples=400, derandomize=True, database=None)
@given(st.lists(st.sampled_from(HEADER_TOKENS) | st.binary(max_size=4), max_size=14).map(b"".join))
def test_common_headers_fast_path_agrees_with_the_general_parser(block: bytes) -> None:
    fast = _headers_or_error(block)
    with mock.patch.object(multipart, "_COMMON_HEADERS_RE", re.compile(rb"(?!)")):
        general = _headers_or_error(block)
    assert fast == general


# --- shortcuts: runs of complete parts, the header memo, views, the held-back tail ---------------------


class Recorder:
    """A ``PartHandler`` that records each call, data as bytes (and the type it came as)."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def begin_part(self, headers: multipart.PartHeaders) -> None:
        self.calls.append(("begin", headers))

    def part_data(self, data: bytes | memoryview) -> None:
        self.calls.append(("data", bytes(data), type(data)))

    def end_part(self, last: bool) -> None:
        self.calls.append(("end", last))

    def whole_parts(self, parts: list[multipart.WholePart]) -> None:
        self.calls.append(("run", [(headers.name, field, data, last) for headers, field, data, last in parts]))


def fields_body(count: int, boundary: bytes = b"b0undary", tail: bytes = b"") -> bytes:
    lines = [
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="F%d"\r\n\r\nvalue-%d\r\n' % (i, i)
        for i in range(count)
    ]
    return b"".join(lines) + tail + b"--" + boundary + b"--\r\n"


def test_complete_parts_arrive_as_one_run_once_their_headers_are_known() -> None:
    body = fields_body(30)
    with mock.patch.dict(multipart._HEADER_MEMO, clear=True), mock.patch.dict(multipart._PIECE_MEMO, clear=True):
        cold = Recorder()
        MultipartParser(b"b0undary").feed_into(body, cold)
        warm = Recorder()
        MultipartParser(b"b0undary").feed_into(body, warm)
    expected = [(f"F{i}", f"F{i}", b"value-%d" % i, i == 29) for i in range(30)]
    assert [part for _, run in cold.calls for part in run] == expected  # type: ignore[attr-defined]
    assert len(cold.calls) == 30  # headers seen for the first time: one part per call
    assert warm.calls == [("run", expected)]


def test_field_is_set_for_plain_form_fields_only() -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
        b'--b\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\n2\r\n'
        b'--b\r\nContent-Disposition: form-data; name="t"\r\nContent-Type: text/plain\r\n\r\n3\r\n'
        b'--b\r\nContent-Disposition: form-data; name=""\r\n\r\n4\r\n'
        b"--b\r\nX-Other: y\r\n\r\n5\r\n"
        b"--b--"
    )
    for _ in range(2):  # cold, then warm memo
        recorder = Recorder()
        MultipartParser(b"b").feed_into(body, recorder)
    fields = [(name, field) for _, run in recorder.calls for name, field, _, _ in run]  # type: ignore[attr-defined]
    assert fields == [("a", "a"), ("f", None), ("t", None), ("", None), (None, None)]


def test_large_data_is_a_view_of_the_chunk_and_feed_gives_bytes() -> None:
    head = b'--b\r\nContent-Disposition: form-data; name="d"; filename="d"\r\n\r\n'
    chunk = bytes(range(256)) * 256
    recorder = Recorder()
    parser = MultipartParser(b"b")
    parser.feed_into(head, recorder)
    parser.feed_into(chunk, recorder)
    parser.feed_into(b"xy\r\n--b--", recorder)
    parser.finish()
    data = [call for call in recorder.calls if call[0] == "data"]
    assert b"".join(d[1] for d in data) == chunk + b"xy"  # type: ignore[misc]
    assert data[0][2] is memoryview  # most of the chunk, not copied
    assert {d[2] for d in data[1:]} == {bytes}  # the held-back tail and the short last piece
    assert all(isinstance(e.data, bytes) for e in MultipartParser(b"b").feed(head + chunk) if isinstance(e, PartData))


def test_header_memo_stays_bounded() -> None:
    with mock.patch.dict(multipart._HEADER_MEMO, clear=True), mock.patch.dict(multipart._PIECE_MEMO, clear=True):
        for i in range(3 * multipart._HEADER_MEMO_SIZE // 100):
            body = b"".join(b"--b\r\nX-N: %d\r\n\r\nv\r\n" % (i * 100 + k) for k in range(100)) + b"--b--"
            list(MultipartParser(b"b").feed(body))
            assert len(multipart._HEADER_MEMO) <= multipart._HEADER_MEMO_SIZE
            assert len(multipart._PIECE_MEMO) <= multipart._HEADER_MEMO_SIZE
        long_block = b"X-Long: " + b"y" * multipart._HEADER_MEMO_BLOCK
        list(MultipartParser(b"b").feed(b"--b\r\n" + long_block + b"\r\n\r\nv\r\n--b--"))
        assert long_block not in multipart._HEADER_MEMO


SHORTCUT_TOKENS = [
    b"--b",
    b"--b\r\n",
    b"\r\n--b\r\n",
    b"\r\n--b--",
    b"--b--",
    b"--b  \r\n",
    b"--b \t",
    b"--b" + b" " * 300,
    b"\r\n",
    b"\r\n\r\n",
    b"\n",
    b"\r",
    b"-",
    b"x",
    b'Content-Disposition: form-data; name="a"',
    b'Content-Disposition: form-data; name="b"; filename="f"',
    b"\r\nContent-Type: text/plain; charset=latin-1",
    b"X-Long: " + b"y" * 300,
]


def _trace(body: bytes, pieces: list[bytes], **kwargs: int | None) -> list[tuple[object, ...]]:
    """Every event, the size of the tail after each feed, and how it ended (error code and part count)."""
    parser = MultipartParser(b"b", **kwargs)  # type: ignore[arg-type]
    out: list[tuple[object, ...]] = []
    try:
        for i, piece in enumerate(pieces):
            for event in parser.feed(piece):
                if isinstance(event, PartData):
                    if out and out[-1][0] == "data":
                        out[-1] = ("data", out[-1][1] + event.data)  # type: ignore[operator]
                    else:
                        out.append(("data", event.data))
                else:
                    out.append((type(event).__name__, *event))
            out.append(("fed", i, len(parser._tail)))
        parser.finish()
        out.append(("finished", parser.parts))
    except MultipartError as exc:
        out.append(("error", exc.code, exc.detail, parser.parts))
    return out


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(
    st.lists(st.sampled_from(SHORTCUT_TOKENS) | st.binary(max_size=6), max_size=40).map(b"".join),
    st.lists(st.integers(1, 300), min_size=1, max_size=8),
    st.sampled_from([None, 1, 2, 5]),
    st.sampled_from([MAX_HEADER_SIZE, 10, 300]),
)
def test_shortcuts_never_change_the_events(
    body: bytes, sizes: list[int], max_parts: int | None, max_header: int
) -> None:
    for pieces in ([body], list(_split(body, sizes))):
        kwargs = {"max_parts": max_parts, "max_header_size": max_header}
        with mock.patch.object(multipart, "_SHORTCUTS", False):
            plain = _trace(body, pieces, **kwargs)
        with mock.patch.dict(multipart._HEADER_MEMO, clear=True), mock.patch.dict(multipart._PIECE_MEMO, clear=True):
            cold = _trace(body, pieces, **kwargs)  # header blocks met for the first time
        warm = _trace(body, pieces, **kwargs)
        with mock.patch.object(multipart, "_WINDOW_BUDGET", 40):  # shortcuts cut off mid-body
            cut = _trace(body, pieces, **kwargs)
        assert cold == plain
        assert warm == plain
        assert cut == plain


def test_the_split_shortcut_stops_at_its_budget() -> None:
    body = b"".join(
        b'--b0undary\r\nContent-Disposition: form-data; name="F%d"\r\n\r\nv\r\n' % (i % 50) for i in range(3000)
    )
    body += b"--b0undary--"
    list(MultipartParser(b"b0undary").feed(body))  # header blocks known
    whole = Recorder()
    parser = MultipartParser(b"b0undary")
    parser.feed_into(body, whole)
    assert len(whole.calls) == 1  # one run: every part
    with mock.patch.object(multipart, "_WINDOW_BUDGET", 3 * multipart._WINDOW):
        cut = Recorder()
        parser = MultipartParser(b"b0undary")
        parser.feed_into(body, cut)
    first, *rest = cut.calls
    assert first[0] == "run" and 300 < len(first[1]) < 1000  # type: ignore[arg-type]
    assert {call[0] for call in rest} == {"run"} and all(len(call[1]) == 1 for call in rest)  # type: ignore[arg-type]
    assert [part for _, run in cut.calls for part in run] == whole.calls[0][1]  # type: ignore[attr-defined]


def _split(body: bytes, sizes: list[int]) -> Iterator[bytes]:
    i = k = 0
    while i < len(body):
        yield body[i : i + sizes[k % len(sizes)]]
        i += sizes[k % len(sizes)]
        k += 1


# --- boundary lookalikes: one search per delimiter, however many ``--boundary`` lookalikes -----------------

# Tokens around every way a ``--b`` occurrence can be content or a delimiter (CRLF, ``--``, padding, a bare LF,
# a lone CR, a padding run at and past the limit), so a body made of them tests ``_find_delimiter``'s scan.
LOOKALIKE_TOKENS = [
    b"--b",
    b"--bX",
    b"--b-",
    b"--b--",
    b"--b\r",
    b"--b\r\n",
    b"--b \r\n",
    b"--b\t \r",
    b"--b \n",
    b"--b\n",
    b" ",
    b"\t",
    b"\r",
    b"\n",
    b"\r\n",
    b"\r\n\r\n",
    b"-",
    b"X",
    b" " * 255,
    b" " * 256,
    b'Content-Disposition: form-data; name="a"',
]


@settings(max_examples=600, derandomize=True, database=None, deadline=None)
@given(
    st.lists(st.sampled_from(LOOKALIKE_TOKENS), max_size=40).map(b"".join),
    st.lists(st.integers(1, 300), min_size=1, max_size=8),
)
def test_the_lookalike_scan_never_changes_the_events(body: bytes, sizes: list[int]) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + body
    for pieces in ([body], list(_split(body, sizes))):
        with mock.patch.object(multipart, "_SHORTCUTS", False):
            plain = _trace(body, pieces)
        assert _trace(body, pieces) == plain


class _CallCounter:
    """Counts Python and C function calls made while active (``sys.setprofile``): work done, not time."""

    def __init__(self) -> None:
        self.calls = 0

    def __enter__(self) -> _CallCounter:
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)

    def _profile(self, frame: object, event: str, arg: object) -> None:
        if event in ("call", "c_call"):
            self.calls += 1


@pytest.mark.parametrize(
    "line",
    [b"--bX", b"--bX\r\n", b"--b-X", b"--b\rX", b"--b X", b"--b\t\tX", b"--b" + b" " * 200 + b"X"],
    ids=repr,
)
def test_lookalikes_cost_a_bounded_number_of_calls(line: bytes) -> None:
    # The attack: a gzip body inflating to lines of ``--bX`` (boundary ``b``) cost ~0.25 s per MiB,
    # one Python loop turn per lookalike. Now lookalikes are skipped inside C searches: the calls made do not
    # grow with their number (a few per 64 KiB feed; before, several per lookalike).
    body = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + line * (MiB // len(line)) + b"\r\n--b--"
    pieces = [body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024)]
    handler = Recorder()
    parser = MultipartParser(b"b")
    with _CallCounter() as counter:
        for piece in pieces:
            parser.feed_into(piece, handler)
    parser.finish()
    assert handler.calls[-1] == ("end", True)
    assert b"".join(call[1] for call in handler.calls if call[0] == "data") == body[49:-7]  # type: ignore[misc]
    assert counter.calls < 50 * len(pieces)
