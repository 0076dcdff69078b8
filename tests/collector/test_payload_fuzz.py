"""Property tests: whatever the bytes, headers, limits and chunking, the parser returns a consistent Payload
or raises Malformed/TooLarge, never anything else, never leaves a spool file behind after ``discard()``,
and never lets the chunking change the outcome."""

from __future__ import annotations

import gzip
import hashlib
import json
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crashcart.collector import multipart
from crashcart.collector.payload import (
    MALFORMED_CODES,
    TOO_LARGE_LIMITS,
    Limits,
    Malformed,
    Payload,
    PayloadParser,
    TooLarge,
    sanitize_dump_name,
)
from tests.collector.clients import CLIENTS, Part, build, multipart_body

FUZZ = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MiB = 1024 * 1024
BIG = Limits(100 * MiB, 512 * MiB, 1000, 1 * MiB, 20 * MiB, 32, 2000, 1 * MiB)
SMALL_DUMP = b"MDMP" + bytes(range(256)) + b"\r\n--\r\n-\x01"

Outcome = tuple[Any, ...]


def split(body: bytes, sizes: list[int]) -> Iterator[bytes]:
    """``body`` in pieces whose sizes cycle through ``sizes``."""
    i = k = 0
    while i < len(body):
        step = sizes[k % len(sizes)]
        yield body[i : i + step]
        i += step
        k += 1


def checked(payload: Payload, limits: Limits, spool: Path) -> Outcome:
    """Check a returned payload's invariants; summarize it."""
    assert payload.kind in ("multipart", "json", "raw")
    assert payload.annotations or payload.kind == "raw"
    assert len(payload.annotations) <= limits.max_annotations
    assert len(payload.dumps) <= max(limits.max_dumps, 1)
    assert payload.wire_size <= limits.max_request_size
    if payload.compressed:
        assert payload.body_size <= limits.max_decompressed_size
    if payload.kind != "json":
        for key, value in payload.annotations.items():
            assert isinstance(key, str)
            assert isinstance(value, str)
            assert len(value) <= limits.max_annotation_size  # the limit counts wire bytes; chars ≤ bytes
    json.dumps(payload.annotations, ensure_ascii=False).encode("utf-8")  # storable as UTF-8 JSON
    dumps = []
    for dump in payload.dumps:
        data = dump.read()
        assert len(data) == dump.size
        assert hashlib.sha256(data).hexdigest() == dump.sha256
        assert dump.name
        assert sanitize_dump_name(dump.name) == dump.name
        assert dump.path is None or dump.path.parent == spool
        dumps.append((dump.name, dump.size, dump.sha256))
    assert len({d[0] for d in dumps}) == len(dumps)
    return ("ok", payload.kind, payload.annotations, dumps, payload.notes, payload.body_size)


def outcome(
    content_type: str | None,
    encoding: str | None,
    pieces: Iterator[bytes] | list[bytes],
    limits: Limits,
    query: str = "",
) -> Outcome:
    """Parse in a fresh spool directory; check every invariant; return a comparable summary."""
    with tempfile.TemporaryDirectory() as tmp:
        spool = Path(tmp) / "spool"
        parser = PayloadParser(content_type, encoding, limits, spool, query)
        result: Outcome
        try:
            for piece in pieces:
                parser.feed(piece)
            payload = parser.finish()
        except Malformed as exc:
            result = ("malformed", exc.code)
        except TooLarge as exc:
            result = ("too_large", exc.limit)
        else:
            result = checked(payload, limits, spool)
        finally:
            parser.discard()
            leftovers = list(spool.iterdir()) if spool.exists() else []
        assert leftovers == []
    if result[0] == "malformed":
        assert result[1] in MALFORMED_CODES
    elif result[0] == "too_large":
        assert result[1] in TOO_LARGE_LIMITS
    return result


def assert_same(a: Outcome, b: Outcome) -> None:
    """Two outcomes of one request fed with different chunkings must agree.

    One exception: zlib discards the output of a call that meets corrupt input, so when the compressed
    stream itself is damaged, the first error may be ``bad_gzip`` or a content error just before the damage,
    depending on where the chunks end. Both are ``Malformed``; nothing else may differ.
    """
    if a != b:
        assert a[0] == b[0] == "malformed", (a, b)
        assert "bad_gzip" in (a[1], b[1]), (a, b)


content_types = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "multipart/form-data; boundary=b0undary",
            'multipart/mixed; boundary="b0undary"',
            "Multipart/Form-Data; charset=x; boundary=b0undary",
            "multipart/form-data; boundary=b",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            'multipart/form-data; boundary="b0undary',
            "application/octet-stream",
            "application/x-dmp",
            "application/json",
            "text/plain",
        ]
    ),
    st.text(max_size=60),
    st.text(max_size=20).map(lambda b: f"multipart/form-data; boundary={b}"),
)
encodings = st.one_of(
    st.none(),
    st.sampled_from(["gzip", "x-gzip", "deflate", "identity", "GZIP", "br", "gzip, gzip"]),
    st.text(max_size=12),
)
chunk_sizes = st.lists(st.integers(1, 300), min_size=1, max_size=12)
limits_strategy = st.one_of(
    st.just(BIG),
    st.builds(
        Limits,
        max_request_size=st.integers(1, 20_000),
        max_decompressed_size=st.integers(1, 40_000),
        max_annotations=st.integers(1, 8),
        max_annotation_size=st.integers(1, 64),
        max_json_size=st.integers(1, 500),
        max_dumps=st.integers(1, 4),
        max_parts=st.integers(1, 12),
        dump_spool_threshold=st.integers(0, 300),
    ),
)


def maybe_compress(body: bytes, encoding: str | None, how: int) -> bytes:
    """Compress ``body`` the way ``encoding`` says, or (``how == 0``) leave it, to exercise both paths."""
    if how == 0 or encoding is None:
        return body
    if "deflate" in encoding.lower():
        c = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS if how == 1 else -zlib.MAX_WBITS)
        return c.compress(body) + c.flush()
    return gzip.compress(body, mtime=0)


@FUZZ
@given(
    content_type=content_types,
    encoding=encodings,
    body=st.binary(max_size=3000),
    how=st.integers(0, 2),
    sizes=chunk_sizes,
    limits=limits_strategy,
)
def test_arbitrary_bytes(
    *, content_type: str | None, encoding: str | None, body: bytes, how: int, sizes: list[int], limits: Limits
) -> None:
    outcome(content_type, encoding, split(maybe_compress(body, encoding, how), sizes), limits)


names = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "extra",
            "upload_file_minidump",
            "ProductName",
            "raw_crash",
            "a.b",
            "",
            'q"uote',
            "x" * 40,
            "x\"; name*=unicode_escape''%5Cud800; y=\"",
            "x\"; name*=utf-8''%C3%A9%20; y=\"",
        ]
    ),
    st.text(max_size=12),
)
part_ctypes = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "text/plain",
            "text/plain; charset=latin-1",
            "text/plain; charset=utf-16",
            "text/plain; charset=bogus",
            "application/octet-stream",
            "application/gzip",
        ]
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
part_data = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=50).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=5).map(lambda d: json.dumps(d).encode()),
)
parts = st.builds(
    Part,
    name=names,
    data=part_data,
    filename=st.one_of(st.none(), st.sampled_from(["x.dmp", "", "C:\\a\\b.dmp", "blob"])),
    content_type=part_ctypes,
    quote_name=st.booleans(),
    crlf_after=st.booleans(),
)


@FUZZ
@given(
    body_parts=st.lists(parts, max_size=8),
    preamble=st.sampled_from([b"", b"\r\n", b"junk\r\n--b0und"]),
    close_prefix=st.sampled_from([b"", b"\r\n"]),
    encoding=encodings,
    how=st.integers(0, 2),
    sizes=chunk_sizes,
    limits=limits_strategy,
)
def test_generated_multipart(
    *,
    body_parts: list[Part],
    preamble: bytes,
    close_prefix: bytes,
    encoding: str | None,
    how: int,
    sizes: list[int],
    limits: Limits,
) -> None:
    safe = [p for p in body_parts if b"--b0undary" not in p.data]
    body = multipart_body(safe, "b0undary", preamble=preamble, close_prefix=close_prefix)
    wire = maybe_compress(body, encoding, how)
    whole = outcome("multipart/form-data; boundary=b0undary", encoding, [wire], BIG)
    assert_same(whole, outcome("multipart/form-data; boundary=b0undary", encoding, split(wire, sizes), BIG))
    outcome("multipart/form-data; boundary=b0undary", encoding, split(wire, sizes), limits)


TOKENS = [
    b"--b0undary",
    b"\r\n--b0undary\r\n",
    b"\r\n--b0undary--",
    b"\r\n",
    b"\r\n\r\n",
    b'"',
    b";",
    b"\n",
    b"\r",
    b" ",
    b"\x00",
    b"{",
    b"Content-Type: application/json\r\n",
    b'Content-Disposition: form-data; name="x"; filename="y"\r\n',
    b'Content-Disposition: form-data; name="upload_file_minidump"\r\n',
    b"; name*=utf-8''%C3%A9",
    b"; filename*=iso-8859-1''%E9",
]


@st.composite
def mutated_client_requests(draw: st.DrawFn) -> tuple[str | None, str | None, bytes, str]:
    client = draw(st.sampled_from(CLIENTS))
    req = build(client, SMALL_DUMP, seed=draw(st.integers(0, 3)))
    body = gzip.decompress(req.body) if req.content_encoding else req.body
    boundary = req.content_type.partition("boundary=")[2].encode() if req.content_type else b""
    tokens = [t.replace(b"b0undary", boundary) for t in TOKENS] if boundary else TOKENS
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "duplicate"]))
        i = draw(st.integers(0, len(body)))
        if kind == "flip" and body:
            i = min(i, len(body) - 1)
            body = body[:i] + bytes([body[i] ^ draw(st.integers(1, 255))]) + body[i + 1 :]
        elif kind == "truncate":
            body = body[:i]
        elif kind == "insert":
            token = draw(st.one_of(st.sampled_from(tokens), st.binary(min_size=1, max_size=16)))
            body = body[:i] + token + body[i:]
        elif kind == "delete":
            body = body[:i] + body[draw(st.integers(i, min(len(body), i + 64))) :]
        else:
            j = draw(st.integers(i, min(len(body), i + 200)))
            body = body[:j] + body[i:j] + body[j:]
    wire = body
    if req.content_encoding:
        wire = gzip.compress(body, mtime=0)
        if draw(st.booleans()):  # damage the compressed stream itself
            i = draw(st.integers(0, len(wire) - 1))
            wire = wire[:i] + bytes([wire[i] ^ 0x5A]) + wire[i + 1 :]
    return req.content_type, req.content_encoding, wire, req.query


@FUZZ
@given(mutated_client_requests(), chunk_sizes, limits_strategy)
def test_mutated_client_requests(
    request: tuple[str | None, str | None, bytes, str], sizes: list[int], limits: Limits
) -> None:
    content_type, encoding, wire, query = request
    outcome(content_type, encoding, split(wire, sizes), limits, query)


@FUZZ
@given(mutated_client_requests(), chunk_sizes)
def test_chunking_never_changes_the_outcome(
    request: tuple[str | None, str | None, bytes, str], sizes: list[int]
) -> None:
    content_type, encoding, wire, query = request
    whole = outcome(content_type, encoding, [wire], BIG, query)
    assert_same(whole, outcome(content_type, encoding, split(wire, sizes), BIG, query))
    assert_same(whole, outcome(content_type, encoding, split(wire, [1]), BIG, query))


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(st.sampled_from(CLIENTS), st.integers(0, 1000), chunk_sizes)
def test_valid_client_requests_parse_under_any_chunking(client: str, seed: int, sizes: list[int]) -> None:
    req = build(client, SMALL_DUMP, seed=seed)
    result = outcome(req.content_type, req.content_encoding, split(req.body, sizes), BIG, req.query)
    assert result[0] == "ok"
    assert result[2] == req.expected_annotations
    assert {name for name, _, _ in result[3]} == set(req.expected_dumps)


# --- the parser's shortcuts (``multipart._SHORTCUTS``, the header memo) never change anything ------------


def exact(
    content_type: str | None, encoding: str | None, pieces: list[bytes], limits: Limits, query: str = ""
) -> Outcome:
    """``outcome``, plus what must not move either: an error's detail and the call that raised it, each
    dump's bytes and whether it stayed in memory."""
    with tempfile.TemporaryDirectory() as tmp:
        spool = Path(tmp) / "spool"
        parser = PayloadParser(content_type, encoding, limits, spool, query)
        step = 0  # the call that raised: the index of the piece fed, or len(pieces) for finish()
        result: Outcome
        try:
            for piece in pieces:
                parser.feed(piece)
                step += 1
            payload = parser.finish()
        except Malformed as exc:
            result = ("malformed", exc.code, exc.detail, step)
        except TooLarge as exc:
            result = ("too_large", exc.limit, exc.detail, step)
        else:
            kept = [(d.read(), d.data is not None) for d in payload.dumps]
            result = (*checked(payload, limits, spool), kept, payload.compressed, payload.wire_size)
        finally:
            parser.discard()
    return result


def assert_shortcuts_change_nothing(
    content_type: str | None, encoding: str | None, pieces: list[bytes], limits: Limits, query: str = ""
) -> None:
    with mock.patch.object(multipart, "_SHORTCUTS", False):
        plain = exact(content_type, encoding, pieces, limits, query)
    with mock.patch.dict(multipart._HEADER_MEMO, clear=True), mock.patch.dict(multipart._PIECE_MEMO, clear=True):
        assert exact(content_type, encoding, pieces, limits, query) == plain  # header blocks met first here
    assert exact(content_type, encoding, pieces, limits, query) == plain


@FUZZ
@given(
    body_parts=st.lists(parts, max_size=10),
    preamble=st.sampled_from([b"", b"\r\n", b"junk\r\n--b0und"]),
    close_prefix=st.sampled_from([b"", b"\r\n"]),
    encoding=encodings,
    how=st.integers(0, 2),
    sizes=chunk_sizes,
    limits=limits_strategy,
)
def test_shortcuts_on_generated_multipart(
    *,
    body_parts: list[Part],
    preamble: bytes,
    close_prefix: bytes,
    encoding: str | None,
    how: int,
    sizes: list[int],
    limits: Limits,
) -> None:
    body = multipart_body(body_parts, "b0undary", preamble=preamble, close_prefix=close_prefix)
    wire = maybe_compress(body, encoding, how)
    for pieces in ([wire], list(split(wire, sizes))):
        assert_shortcuts_change_nothing("multipart/form-data; boundary=b0undary", encoding, pieces, limits)


@FUZZ
@given(mutated_client_requests(), chunk_sizes, limits_strategy)
def test_shortcuts_on_mutated_client_requests(
    request: tuple[str | None, str | None, bytes, str], sizes: list[int], limits: Limits
) -> None:
    content_type, encoding, wire, query = request
    for pieces in ([wire], list(split(wire, sizes))):
        assert_shortcuts_change_nothing(content_type, encoding, pieces, limits, query)
