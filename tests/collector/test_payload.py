"""The payload parser: every real client's request, every malformed code, every limit, spooling."""

from __future__ import annotations

import codecs
import dataclasses
import gzip
import hashlib
import inspect
import json
import random
import re
import struct
import time
import tracemalloc
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crashcart.collector.payload import (
    MALFORMED_CODES,
    TOO_LARGE_LIMITS,
    Limits,
    Malformed,
    Payload,
    PayloadParser,
    Refusal,
    TooLarge,
    sanitize_dump_name,
)
from crashcart.errors import CrashcartError
from crashcart.settings import load_settings
from tests.collector.clients import CLIENTS, SAMPLE_DUMP, Part, Request, build, multipart_body

MiB = 1024 * 1024
LIMITS = Limits(
    max_request_size=100 * MiB,
    max_decompressed_size=512 * MiB,
    max_annotations=1000,
    max_annotation_size=1 * MiB,
    max_json_size=20 * MiB,
    max_dumps=32,
    max_parts=2000,
    dump_spool_threshold=1 * MiB,
)
CT = "multipart/form-data; boundary=b0undary"
B = "b0undary"


def chunks(body: bytes, size: int | str) -> Iterator[bytes]:
    """The body in pieces of ``size`` bytes, or of random sizes (1..5000, seeded) for ``"random"``."""
    if size == "random":
        rng = random.Random(len(body))
        i = 0
        while i < len(body):
            step = rng.randint(1, 5000)
            yield body[i : i + step]
            i += step
        return
    assert isinstance(size, int)
    for i in range(0, len(body), size):
        yield body[i : i + size]


def parse(
    content_type: str | None,
    body: bytes | Iterable[bytes],
    spool: Path,
    *,
    encoding: str | None = None,
    limits: Limits = LIMITS,
    query: str = "",
) -> Payload:
    parser = PayloadParser(content_type, encoding, limits, spool, query)
    try:
        for piece in [body] if isinstance(body, bytes) else body:
            parser.feed(piece)
        return parser.finish()
    except (Malformed, TooLarge):
        parser.discard()
        raise


def parse_request(req: Request, spool: Path, size: int | str | None = None, limits: Limits = LIMITS) -> Payload:
    pieces = [req.body] if size is None else chunks(req.body, size)
    return parse(req.content_type, pieces, spool, encoding=req.content_encoding, limits=limits, query=req.query)


def feed_all(parser: PayloadParser, pieces: Iterable[bytes]) -> None:
    for piece in pieces:
        parser.feed(piece)


def form(*parts: Part, **kwargs: Any) -> bytes:
    return multipart_body(parts, B, **kwargs)


def field(name: str | None, value: str | bytes, **kwargs: Any) -> Part:
    return Part(name, value.encode() if isinstance(value, str) else value, **kwargs)


def dump_part(name: str = "upload_file_minidump", data: bytes = b"MDMP-data", **kwargs: Any) -> Part:
    kwargs.setdefault("filename", "x.dmp")
    kwargs.setdefault("content_type", "application/octet-stream")
    return Part(name, data, **kwargs)


def dumps_of(payload: Payload) -> dict[str, bytes]:
    return {d.name: d.read() for d in payload.dumps}


def spool_files(spool: Path) -> list[Path]:
    return sorted(spool.iterdir()) if spool.exists() else []


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    return tmp_path / "spool"


# --- real clients ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [None, 1, 7, 4096, "random"], ids=lambda s: f"chunk-{s}")
@pytest.mark.parametrize("client", CLIENTS)
def test_client_request_parses(client: str, size: int | str | None, spool: Path) -> None:
    req = build(client)
    payload = parse_request(req, spool, size)
    assert payload.annotations == req.expected_annotations
    assert dumps_of(payload) == req.expected_dumps
    assert {d.name: d.sha256 for d in payload.dumps} == req.expected_checksums
    assert {d.name: d.size for d in payload.dumps} == {k: len(v) for k, v in req.expected_dumps.items()}
    assert payload.notes == list(req.expected_notes)
    assert payload.kind == req.expected_kind
    assert payload.compressed is (req.content_encoding is not None)
    assert payload.wire_size == len(req.body)
    expected_body = gzip.decompress(req.body) if req.content_encoding else req.body
    assert payload.body_size == len(expected_body)


@pytest.mark.parametrize("client", CLIENTS)
def test_client_request_with_large_spooled_dump(client: str, spool: Path) -> None:
    big = SAMPLE_DUMP + random.Random(3).randbytes(3 * MiB) + b"\x00"
    req = build(client, big)
    limits = dataclasses.replace(LIMITS, dump_spool_threshold=64 * 1024)
    payload = parse_request(req, spool, 64 * 1024, limits)
    main = next(d for d in payload.dumps if d.name == "upload_file_minidump")
    assert main.data is None
    assert main.path is not None
    assert main.path.parent == spool
    assert main.sha256 == hashlib.sha256(big).hexdigest()
    assert main.read() == big


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("client", CLIENTS)
def test_client_boundaries_vary_and_parse(client: str, seed: int, spool: Path) -> None:
    req = build(client, seed=seed)
    assert parse_request(req, spool, "random").annotations == req.expected_annotations


def test_breakpad_mac_dump_does_not_swallow_the_log(spool: Path) -> None:
    req = build("breakpad_mac")
    assert req.content_type is not None
    boundary = req.content_type.split("boundary=")[1].encode()
    # The wire format really has no CRLF between the dump's last byte and the next delimiter …
    assert SAMPLE_DUMP + b"--" + boundary in req.body
    payload = parse_request(req, spool)
    # … and still each file comes out exactly.
    assert dumps_of(payload) == req.expected_dumps


def test_breakpad_windows_full_path_filename_is_a_dump(spool: Path) -> None:
    req = build("breakpad_windows")
    assert b'filename="C:\\Users\\J\xc3\xb6hn D\xc3\xb8e\\AppData' in req.body
    assert dumps_of(parse_request(req, spool)) == {"upload_file_minidump": SAMPLE_DUMP}


def test_crashpad_escaped_names_are_kept_verbatim(spool: Path) -> None:
    req = build("crashpad", annotations={'a"b': "1", "c%d": "2", "e\r\nf": "3"})
    payload = parse_request(req, spool)
    assert payload.annotations == {"a%22b": "1", "c%25d": "2", "e%0d%0af": "3"}


def test_android_last_value_loses_its_extra_crlf_only(spool: Path) -> None:
    req = build("android", annotations={"A": "x\r\n", "CrashType": "FATAL", "Z": "last"})
    payload = parse_request(req, spool)
    # A value that really ends in CRLF keeps it unless it is the last part.
    assert payload.annotations == {"A": "x\r\n", "CrashType": "FATAL", "Z": "last"}
    assert payload.notes == ["annotation Z: trailing CRLF of the last part stripped"]


# --- malformed requests: each code from a request that really has the defect ------------------------------

BOMB_LIMITS = dataclasses.replace(LIMITS, max_decompressed_size=8 * MiB)


def _deep_json() -> bytes:
    return b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"


MALFORMED_CASES: dict[str, list[tuple[str | None, str | None, bytes, Limits]]] = {
    "no_content_type": [(None, None, form(field("a", "b")), LIMITS), ("  ", None, b"x", LIMITS)],
    "wrong_content_type": [
        ("text/plain", None, b"ProductName=Firefox", LIMITS),
        ("application/json", None, b'{"ProductName": "Firefox"}', LIMITS),
        ("application/x-www-form-urlencoded", None, b"a=b", LIMITS),
    ],
    "no_boundary": [
        ("multipart/form-data", None, form(field("a", "b")), LIMITS),
        ("multipart/form-data; charset=utf-8", None, form(field("a", "b")), LIMITS),
        ('multipart/form-data; boundary=""', None, form(field("a", "b")), LIMITS),
    ],
    "bad_boundary": [
        ("multipart/form-data; boundary=" + "x" * 201, None, b"", LIMITS),
        ("multipart/form-data; boundary=ab\x01cd", None, b"", LIMITS),
        ("multipart/form-data; boundary=caf\xe9", None, b"", LIMITS),
    ],
    "unsupported_encoding": [
        (CT, "br", form(field("a", "b")), LIMITS),
        (CT, "gzip, gzip", form(field("a", "b")), LIMITS),
        (CT, "compress", form(field("a", "b")), LIMITS),
    ],
    "empty_body": [
        (CT, None, b"", LIMITS),
        (CT, "gzip", gzip.compress(b""), LIMITS),
        ("application/octet-stream", None, b"", LIMITS),
    ],
    "bad_gzip": [
        (CT, "gzip", form(field("a", "b")), LIMITS),  # says gzip, is not
        (CT, "gzip", gzip.compress(form(field("a", "b")))[:-12], LIMITS),  # truncated stream
        (CT, "gzip", b"\x1f\x8b\x08\x00" + b"\xff" * 40, LIMITS),  # corrupt
        (CT, "deflate", b"\xff\xff\xff\xff" * 8, LIMITS),
        (CT, "gzip", b"\x1f", LIMITS),  # too short to be anything
    ],
    "boundary_not_found": [
        (CT, None, b"ProductName=Firefox&Version=1", LIMITS),
        ("multipart/form-data; boundary=other", None, form(field("a", "b")), LIMITS),
    ],
    "invalid_payload_structure": [
        (CT, None, form(field("a", "b")).replace(b"\r\n", b"\n"), LIMITS),  # LF-only line endings
        (CT, None, b"--b0undary" + b" " * 300 + b"\r\n", LIMITS),
    ],
    "bad_part_headers": [
        (CT, None, b"--b0undary\r\nContent-Disposition form-data\r\n\r\nx\r\n--b0undary--\r\n", LIMITS),
        (CT, None, b"--b0undary\r\n continuation first\r\n\r\nx\r\n--b0undary--\r\n", LIMITS),
        (
            CT,
            None,
            b'--b0undary\r\nContent-Disposition: form-data; name="a"\nX: y\r\n\r\nb\r\n--b0undary--',
            LIMITS,
        ),
    ],
    "part_headers_too_large": [
        (CT, None, form(field("a", "b", extra_headers=("X-Junk: " + "j" * 9000,))), LIMITS),
        (CT, None, b"--b0undary\r\n" + b"X-Junk: y\r\n" * 1000, LIMITS),  # never ends
    ],
    "truncated": [
        (CT, None, form(field("a", "b"), dump_part())[:-20], LIMITS),
        (CT, None, form(field("a", "b"))[: -len("--\r\n")], LIMITS),  # closing delimiter lacks its "--"
        (CT, None, b"--b0undary\r\nContent-Disposition: form-data; name=a\r\n", LIMITS),  # headers never end
    ],
    "too_many_parts": [
        (
            CT,
            None,
            form(*[field(f"k{i}", "v") for i in range(11)]),
            dataclasses.replace(LIMITS, max_parts=10),
        ),
    ],
    "too_many_annotations": [
        (
            CT,
            None,
            form(*[field(f"k{i}", "v") for i in range(6)]),
            dataclasses.replace(LIMITS, max_annotations=5),
        ),
        (
            CT,
            None,
            form(field("extra", json.dumps({f"k{i}": "v" for i in range(6)}), content_type="application/json")),
            dataclasses.replace(LIMITS, max_annotations=5),
        ),
    ],
    "too_many_dumps": [
        (
            CT,
            None,
            form(field("a", "b"), *[dump_part(f"d{i}") for i in range(4)]),
            dataclasses.replace(LIMITS, max_dumps=3),
        ),
    ],
    "multiple_json": [
        (
            CT,
            None,
            form(
                field("extra", '{"a": "1"}', content_type="application/json"),
                field("extra", '{"b": "2"}', content_type="application/json"),
            ),
            LIMITS,
        ),
    ],
    "has_json_and_kv": [
        (
            CT,
            None,
            form(field("ProductName", "X"), field("extra", "{}", content_type="application/json")),
            LIMITS,
        ),
        (
            CT,
            None,
            form(field("extra", '{"a": "1"}', content_type="application/json"), field("k", "v")),
            LIMITS,
        ),
    ],
    "invalid_json": [
        (CT, None, form(field("extra", "{not json", content_type="application/json")), LIMITS),
        (CT, None, form(field("extra", b'{"a": "\xff\xfe"}', content_type="application/json")), LIMITS),
        (CT, None, form(field("extra", '{"a": NaN}', content_type="application/json")), LIMITS),
        (CT, None, form(field("extra", '{"a": "\\ud800"}', content_type="application/json")), LIMITS),
        (CT, None, form(field("extra", _deep_json(), content_type="application/json")), LIMITS),
        (
            CT,
            None,
            form(field("extra", '{"a": ' + "1" * 5000 + "}", content_type="application/json")),
            LIMITS,
        ),
    ],
    "invalid_json_value": [
        (
            CT,
            None,
            form(field("extra", '["ProductName", "Firefox"]', content_type="application/json")),
            LIMITS,
        ),
        (CT, None, form(field("extra", '"a string"', content_type="application/json")), LIMITS),
        (CT, None, form(field("extra", "null", content_type="application/json")), LIMITS),
    ],
    "invalid_dump_name": [
        (CT, None, form(field("a", "b"), dump_part("raw_crash")), LIMITS),
        (CT, None, form(field("a", "b"), dump_part("dump_names")), LIMITS),
        (CT, None, form(field("a", "b"), dump_part("../..")), LIMITS),
        (CT, None, form(field("a", "b"), dump_part("pending_publish")), LIMITS),
    ],
    "no_annotations": [
        (CT, None, form(dump_part()), LIMITS),
        (CT, None, form(field("extra", "{}", content_type="application/json"), dump_part()), LIMITS),
        (CT, None, form(field("upload_file_minidump", "not a file")), LIMITS),
        (CT, None, form(field(None, "nameless")), LIMITS),
        (CT, None, b"--b0undary--\r\n", LIMITS),
    ],
    "unsupported_charset": [
        (CT, None, form(field("a", "b", content_type="text/plain; charset=punycode")), LIMITS),
        (CT, None, form(field("a", "b"), field("c", "d", content_type="text/plain; charset=zlib")), LIMITS),
    ],
}

# 400 refusals the request handler raises (tests/collector/test_app.py covers them), not the parser
# Raised by the request handler or, for http_framing, by the HTTP layer (collector/connection.py), not the parser.
RAISED_BY_THE_APP = {"client_disconnected", "invalid_uuid", "uuid_date_mismatch", "unparseable", "http_framing"}


def test_every_malformed_code_has_a_case() -> None:
    assert set(MALFORMED_CASES) == set(MALFORMED_CODES) - RAISED_BY_THE_APP


def test_malformed_codes_table() -> None:
    for code, description in MALFORMED_CODES.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code)
        assert description.endswith(".")
        assert len(description) > 20
    for antenna_code in (
        "no_content_type",
        "wrong_content_type",
        "no_boundary",
        "bad_gzip",
        "invalid_payload_structure",
        "invalid_json",
        "invalid_json_value",
        "invalid_dump_name",
        "no_annotations",
    ):
        assert antenna_code in MALFORMED_CODES
    assert set(TOO_LARGE_LIMITS) == {"request", "decompressed", "json", "annotations", "parse_time"}


@pytest.mark.parametrize(
    ("code", "case"),
    [(code, case) for code, cases in MALFORMED_CASES.items() for case in cases],
    ids=[f"{code}-{i}" for code, cases in MALFORMED_CASES.items() for i in range(len(cases))],
)
@pytest.mark.parametrize("size", [None, 3])
def test_malformed(
    code: str, case: tuple[str | None, str | None, bytes, Limits], size: int | None, spool: Path
) -> None:
    content_type, encoding, body, limits = case
    pieces = [body] if size is None else list(chunks(body, size))
    with pytest.raises(Malformed) as info:
        parse(content_type, pieces, spool, encoding=encoding, limits=limits)
    assert info.value.code == code
    assert isinstance(info.value, CrashcartError)
    assert spool_files(spool) == []


@pytest.mark.parametrize("size", [None, 1])
def test_errors_come_in_body_order_whatever_the_chunking(size: int | None, spool: Path) -> None:
    # A bad JSON part ends in the same buffer where the next part's headers are bad: the JSON error, which
    # comes first in the body, must win however the body is chunked (found by the fuzz tests).
    body = form(field("extra", "", content_type="application/json")) + b"\r\n"
    body = body.removesuffix(b"--b0undary--\r\n\r\n") + b"--b0undary\r\nno colon\r\n\r\nx\r\n--b0undary--"
    with pytest.raises(Malformed) as info:
        parse(CT, [body] if size is None else list(chunks(body, size)), spool)
    assert info.value.code == "invalid_json"


def test_constructor_never_raises_and_errors_are_sticky(spool: Path) -> None:
    parser = PayloadParser("text/html", None, LIMITS, spool)  # no exception here
    with pytest.raises(Malformed, match="wrong_content_type"):
        parser.feed(b"<html>")
    with pytest.raises(Malformed, match="wrong_content_type"):
        parser.feed(b"more")
    with pytest.raises(Malformed, match="wrong_content_type"):
        parser.finish()
    parser.discard()
    parser.discard()


def test_bad_content_type_is_raised_by_finish_when_nothing_was_fed(spool: Path) -> None:
    with pytest.raises(Malformed, match="no_content_type"):
        PayloadParser(None, None, LIMITS, spool).finish()


def test_malformed_mid_stream_removes_spooled_dumps(spool: Path) -> None:
    limits = dataclasses.replace(LIMITS, dump_spool_threshold=10)
    body = form(field("a", "b"), dump_part(data=b"x" * 1000), dump_part("raw_crash"))
    parser = PayloadParser(CT, None, limits, spool)
    parser.feed(body[: body.index(b"raw_crash")])
    assert len(spool_files(spool)) == 1
    with pytest.raises(Malformed, match="invalid_dump_name"):
        parser.feed(body[body.index(b"raw_crash") :])
    assert spool_files(spool) == []  # cleaned without waiting for discard()
    parser.discard()


# --- leniency and non-fatal anomalies --------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary=b0undary",
        'multipart/form-data; boundary="b0undary"',
        "Multipart/Form-Data; charset=utf-8; BOUNDARY=b0undary",
        "multipart/mixed;boundary=b0undary ; foo=bar",
        'MULTIPART/FORM-DATA; foo="x;y"; boundary="b0undary"',
    ],
)
def test_content_type_variants(content_type: str, spool: Path) -> None:
    payload = parse(content_type, form(field("a", "b")), spool)
    assert payload.annotations == {"a": "b"}


@pytest.mark.parametrize("encoding", ["gzip", "GZIP", "x-gzip", " gzip ", "gzip, identity", "identity, x-gzip"])
def test_gzip_encodings(encoding: str, spool: Path) -> None:
    payload = parse(CT, gzip.compress(form(field("a", "b"))), spool, encoding=encoding)
    assert payload.annotations == {"a": "b"}
    assert payload.compressed


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_zlib_or_raw(wbits: int, spool: Path) -> None:
    c = zlib.compressobj(6, zlib.DEFLATED, wbits)
    body = c.compress(form(field("a", "b"))) + c.flush()
    for size in (None, 1):
        pieces = [body] if size is None else list(chunks(body, size))
        assert parse(CT, pieces, spool, encoding="Deflate").annotations == {"a": "b"}


@pytest.mark.parametrize("encoding", [None, "identity", "", "IDENTITY"])
def test_identity_encoding(encoding: str | None, spool: Path) -> None:
    payload = parse(CT, form(field("a", "b")), spool, encoding=encoding)
    assert not payload.compressed


def test_concatenated_gzip_members(spool: Path) -> None:
    body = form(field("a", "b"), dump_part())
    wire = gzip.compress(body[:50]) + gzip.compress(body[50:])
    for size in (None, 1, 11):
        pieces = [wire] if size is None else list(chunks(wire, size))
        payload = parse(CT, pieces, spool, encoding="gzip")
        assert payload.annotations == {"a": "b"}
        assert payload.body_size == len(body)


def test_trailing_bytes_after_gzip_are_noted(spool: Path) -> None:
    payload = parse(CT, gzip.compress(form(field("a", "b"))) + b"\x00\x00junk", spool, encoding="gzip")
    assert payload.notes == ["6 bytes after the compressed body ignored"]


def test_preamble_and_epilogue_junk(spool: Path) -> None:
    body = form(field("a", "b"), preamble=b"This is a MIME body.\r\n--b0und\r\n", epilogue=b"trailing junk")
    assert parse(CT, body, spool).annotations == {"a": "b"}


def test_missing_final_crlf(spool: Path) -> None:
    assert parse(CT, form(field("a", "b"), close_suffix=b""), spool).annotations == {"a": "b"}


def test_breakpad_windows_current_format_without_any_file_crlf(spool: Path) -> None:
    body = form(field("prod", "x"), dump_part(data=b"MDMP\x00\x01", crlf_after=False))
    assert body.endswith(b"MDMP\x00\x01--b0undary--\r\n")
    assert dumps_of(parse(CT, body, spool)) == {"upload_file_minidump": b"MDMP\x00\x01"}


def test_charset_is_honoured(spool: Path) -> None:
    body = form(
        field("latin", "Gr\xfc\xdfe".encode("latin-1"), content_type="text/plain; charset=ISO-8859-1"),
        field("utf16", "héllo".encode("utf-16"), content_type='text/plain; charset="utf-16"'),
        field("plain", "ünïcode", content_type="text/plain"),
    )
    assert parse(CT, body, spool).annotations == {"latin": "Grüße", "utf16": "héllo", "plain": "ünïcode"}


@pytest.mark.parametrize(
    ("part", "note"),
    [
        (field("bad", b"\xff\xfe raw bytes"), "annotation bad dropped: not valid utf-8 text"),
        (
            field("bad", "x", content_type="text/plain; charset=no-such"),
            "annotation bad dropped: unknown charset no-such",
        ),
        (
            field("bad", "x", content_type="text/plain; charset=" + "u" * 41),
            f"annotation bad dropped: unknown charset {'u' * 41}",
        ),
        (
            field("bad", b"\x00\xd8", content_type="text/plain; charset=utf-16-le"),
            "annotation bad dropped: not valid utf-16-le text",
        ),
    ],
)
def test_undecodable_annotation_is_dropped_with_a_note(part: Part, note: str, spool: Path) -> None:
    payload = parse(CT, form(field("ok", "1"), part), spool)
    assert payload.annotations == {"ok": "1"}
    assert payload.notes == [note]


# What real clients send, by the names they use for it: each must still decode (``_TEXT_CHARSETS``).
ALLOWED_CHARSETS = [
    ("utf-8", "Grüße ✓"),
    ("UTF8", "Grüße ✓"),
    ("utf-8-sig", "Grüße ✓"),
    ("us-ascii", "plain"),
    ("ISO-8859-1", "Grüße"),
    ("latin1", "Grüße"),
    ("iso-8859-15", "€uro"),
    ("iso-8859-2", "Łódź"),
    ("utf-16", "héllo ✓"),
    ("UTF-16LE", "héllo ✓"),
    ("utf-16be", "héllo ✓"),
    ("utf-32", "héllo ✓"),
    ("windows-1252", "Grüße €"),
    ("cp1250", "Łódź"),
    ("windows-1251", "Привет"),
    ("cp1253", "γειά"),
    ("cp1254", "İstanbul"),
    ("cp1255", "שלום"),
    ("cp1256", "مرحبا"),
    ("cp1257", "Rīga"),
    ("cp1258", "Đà"),
    ("cp874", "สวัสดี"),
    ("cp932", "こんにちは"),
    ("shift_jis", "こんにちは"),
    ("euc-jp", "こんにちは"),
    ("cp936", "你好"),
    ("gb2312", "你好"),
    ("gb18030", "你好"),
    ("big5", "你好"),
    ("cp949", "안녕"),
    ("euc-kr", "안녕"),
    ("koi8-r", "Привет"),
    ("koi8-u", "Привіт"),
]


@pytest.mark.parametrize(("charset", "text"), ALLOWED_CHARSETS)
def test_allowed_charsets_decode(charset: str, text: str, spool: Path) -> None:
    body = form(field("a", text.encode(charset), content_type=f"text/plain; charset={charset}"))
    payload = parse(CT, body, spool)
    assert payload.annotations == {"a": text}
    assert payload.notes == []


# Codecs Python knows that are not text charsets a client sends: super-linear decoders (punycode, idna),
# bytes-to-bytes codecs (a zlib/bz2 "charset" is a decompression bomb), str-to-str and escape codecs. Each
# name is an alias, or the canonical name, of a codec ``codecs.lookup`` finds.
REFUSED_CHARSETS = [
    "punycode",
    "idna",
    "uu",
    "uu_codec",
    "rot13",
    "rot_13",
    "base64",
    "base64_codec",
    "base_64",
    "zlib",
    "zlib_codec",
    "zip",
    "bz2",
    "bz2_codec",
    "hex",
    "quopri",
    "unicode_escape",
    "raw_unicode_escape",
    "utf-7",
]


@pytest.mark.parametrize("charset", REFUSED_CHARSETS)
@pytest.mark.parametrize("whole", [True, False], ids=["whole", "streamed"])
def test_codecs_off_the_allow_list_are_refused(charset: str, whole: bool, spool: Path) -> None:
    body = form(field("ok", "1"), field("bad", b"xn--abc", content_type=f"text/plain; charset={charset}"))
    with pytest.raises(Malformed) as info:
        parse(CT, [body] if whole else list(chunks(body, 7)), spool)
    assert info.value.refusal is Refusal.UNSUPPORTED_CHARSET
    assert info.value.refusal.reason == "malformed_unsupported_charset"


class _CountingCodec:
    """A real codec registered under a test-only name, so a test can see whether the parser decoded with it."""

    NAME = "crashcart_test_counting"

    def __init__(self) -> None:
        self.decodes = 0

    def search(self, name: str) -> codecs.CodecInfo | None:
        if name != self.NAME:
            return None

        def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
            self.decodes += 1
            return bytes(data).decode("latin-1"), len(data)

        return codecs.CodecInfo(name=self.NAME, encode=codecs.latin_1_encode, decode=decode)


def test_a_hostile_charset_is_refused_without_running_its_codec(spool: Path) -> None:
    # The attack: 1 MiB under ``charset=punycode`` took ~30 s of CPU on the event loop. Refused now,
    # before any decoding: a codec Python knows but that is not on the allow-list is never called.
    counting = _CountingCodec()
    codecs.register(counting.search)
    try:
        assert codecs.lookup(_CountingCodec.NAME).name == _CountingCodec.NAME
        for charset in (_CountingCodec.NAME, "punycode"):
            hostile = field(
                "bad", b"a" * (MiB - 16) + b"-" + b"\x80" * 15, content_type=f"text/plain; charset={charset}"
            )
            for pieces in ([form(field("ok", "1"), hostile)], list(chunks(form(field("ok", "1"), hostile), 64 * 1024))):
                with pytest.raises(Malformed) as info:
                    parse(CT, pieces, spool)
                assert info.value.refusal is Refusal.UNSUPPORTED_CHARSET
        assert counting.decodes == 0
    finally:
        codecs.unregister(counting.search)


def test_too_long_annotation_is_dropped_without_buffering_it(spool: Path) -> None:
    limits = dataclasses.replace(LIMITS, max_annotation_size=1000)
    head = b'--b0undary\r\nContent-Disposition: form-data; name="big"\r\n\r\n'
    tail = b"\r\n" + form(field("ok", "1"), dump_part())
    chunk = b"y" * 65536

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(160):  # 10 MiB
            yield chunk
        yield tail

    tracemalloc.start()
    try:
        payload = parse(CT, body(), spool, limits=limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert payload.annotations == {"ok": "1"}
    assert payload.notes == ["annotation big dropped: longer than 1000 bytes"]
    assert peak < 1 * MiB


def test_annotation_exactly_at_the_limit_is_kept(spool: Path) -> None:
    limits = dataclasses.replace(LIMITS, max_annotation_size=10)
    payload = parse(CT, form(field("a", "x" * 10), field("b", "y" * 11)), spool, limits=limits)
    assert payload.annotations == {"a": "x" * 10}


def test_nameless_parts_are_dropped_with_a_note(spool: Path) -> None:
    payload = parse(CT, form(field("a", "b"), field(None, "v"), field("", "w"), dump_part("")), spool)
    assert payload.annotations == {"a": "b"}
    assert payload.dumps == []
    assert payload.notes == ["part without a name dropped"] * 3


def test_text_field_named_like_the_minidump_is_dropped(spool: Path) -> None:
    payload = parse(CT, form(field("a", "b"), field("upload_file_minidump", "oops")), spool)
    assert payload.annotations == {"a": "b"}
    assert payload.dumps == []
    assert payload.notes == ["text field upload_file_minidump dropped: that name is reserved for the minidump"]


def test_duplicates_last_wins(spool: Path) -> None:
    limits = dataclasses.replace(LIMITS, dump_spool_threshold=100)
    body = form(
        field("a", "1"),
        dump_part(data=b"first" * 100),
        field("a", "2"),
        dump_part(data=b"second"),
    )
    payload = parse(CT, body, spool, limits=limits)
    assert payload.annotations == {"a": "2"}
    assert dumps_of(payload) == {"upload_file_minidump": b"second"}
    assert payload.notes == [
        "duplicate annotation a: the last value is kept",
        "duplicate dump upload_file_minidump: the last one is kept",
    ]
    assert spool_files(spool) == []  # the first (spooled) dump's file is gone


def test_dump_classification_and_notes(spool: Path) -> None:
    body = form(
        field("a", "b"),
        dump_part("app.log", b"log", filename="app.log", content_type="text/plain"),  # has a filename
        dump_part("memory_report", b"gz", content_type="application/gzip"),
        Part("nofiletype", b"nt", filename="x.bin"),  # filename, no Content-Type
        Part("weird", b"w", content_type="image/png"),  # another content type, no filename
        Part("empty_filename", b"text", filename=""),  # empty filename: a text field (Antenna parity)
        dump_part("x" * 40, b"long"),
        dump_part("empty", b""),
    )
    payload = parse(CT, body, spool)
    assert payload.annotations == {"a": "b", "empty_filename": "text"}
    assert dumps_of(payload) == {
        "applog": b"log",
        "memory_report": b"gz",
        "nofiletype": b"nt",
        "weird": b"w",
        "x" * 30: b"long",
        "empty": b"",
    }
    assert payload.notes == [
        "dump name 'app.log' sanitized to applog",
        "unknown content type: app.log text/plain",
        "unknown content type: memory_report application/gzip",
        "unknown content type: nofiletype text/plain",
        "unknown content type: weird image/png",
        f"dump name {'x' * 40!r} sanitized to {'x' * 30}",
    ]


def test_sanitize_dump_name() -> None:
    assert sanitize_dump_name("upload_file_minidump") == "upload_file_minidump"
    assert sanitize_dump_name("upload-file-minidump.extra/../x") == "uploadfileminidumpextrax"
    assert sanitize_dump_name("ünï") == "n"
    assert sanitize_dump_name("a" * 31) == "a" * 30


def test_json_annotations_keep_their_types(spool: Path) -> None:
    extra = {"ProductName": "Firefox", "Count": 3, "Nested": {"x": [1, None, True]}, "F": 1.5}
    body = form(field("extra", json.dumps(extra), filename="extra.json", content_type="application/json"), dump_part())
    payload = parse(CT, body, spool)
    assert payload.annotations == extra
    assert payload.kind == "json"


def test_json_charset_param_and_bom(spool: Path) -> None:
    body = form(field("extra", b"\xef\xbb\xbf" + b'{"a": "\xc3\xa9"}', content_type="application/json; charset=utf-8"))
    assert parse(CT, body, spool).annotations == {"a": "é"}


def test_json_with_valid_surrogate_pair(spool: Path) -> None:
    body = form(field("extra", '{"emoji": "\\ud83d\\ude00", "lit": "\\\\ud800"}', content_type="application/json"))
    assert parse(CT, body, spool).annotations == {"emoji": "😀", "lit": "\\ud800"}


def test_nameless_json_part_is_dropped(spool: Path) -> None:
    body = form(field(None, '{"a": "1"}', content_type="application/json"), field("k", "v"))
    assert parse(CT, body, spool).annotations == {"k": "v"}


# --- raw bodies ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ctype", ["application/octet-stream", "application/x-dmp", "Application/X-Minidump; x=y"])
def test_raw_minidump_body(ctype: str, spool: Path) -> None:
    payload = parse(ctype, [SAMPLE_DUMP[:100], SAMPLE_DUMP[100:]], spool, query="product=A&version=1&empty=")
    assert payload.kind == "raw"
    assert payload.annotations == {"product": "A", "version": "1", "empty": ""}
    assert dumps_of(payload) == {"upload_file_minidump": SAMPLE_DUMP}


def test_raw_query_is_bounded(spool: Path) -> None:
    limits = dataclasses.replace(LIMITS, max_annotations=3, max_annotation_size=5)
    payload = parse("application/octet-stream", b"MDMP", spool, limits=limits, query="a=1&b=123456&c=3&a=4")
    assert payload.annotations == {"a": "4", "c": "3"}
    assert payload.notes == [
        "annotation b dropped: longer than 5 bytes",
        "duplicate annotation a: the last value is kept",
    ]
    with pytest.raises(Malformed, match="too_many_annotations"):
        parse("application/octet-stream", b"MDMP", spool, limits=limits, query="a=1&b=2&c=3&d=4")


def test_multipart_ignores_the_query_string(spool: Path) -> None:
    assert parse(CT, form(field("a", "b")), spool, query="product=x").annotations == {"a": "b"}


# --- limits ----------------------------------------------------------------------------------------------


def test_request_size_limit(spool: Path) -> None:
    limits = dataclasses.replace(LIMITS, max_request_size=1000)
    body = form(field("a", "b"), dump_part(data=b"x" * 2000))
    with pytest.raises(TooLarge) as info:
        parse(CT, chunks(body, 100), spool, limits=limits)
    assert info.value.limit == "request"
    assert parse(CT, form(field("a", "b")), spool, limits=limits).annotations == {"a": "b"}


def test_request_size_limit_counts_wire_bytes_not_decompressed(spool: Path) -> None:
    body = form(field("a", "b"), dump_part(data=bytes(100_000)))
    wire = gzip.compress(body)
    limits = dataclasses.replace(LIMITS, max_request_size=len(wire))
    assert parse(CT, wire, spool, encoding="gzip", limits=limits).body_size == len(body)
    with pytest.raises(TooLarge, match="request"):
        parse(
            CT,
            wire + b"\x00",
            spool,
            encoding="gzip",
            limits=dataclasses.replace(limits, max_request_size=len(wire) - 1),
        )


def _zero_bomb(size: int, prefix: bytes = b"") -> bytes:
    """A real gzip stream of ``prefix`` + ``size`` zero bytes, built in a blink from one repeated block."""
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    unit = c.compress(bytes(MiB)) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(bytes(MiB)) + c.flush(zlib.Z_FULL_FLUSH) == unit  # blocks after a full flush repeat
    end = c.flush()
    crc = zlib.crc32(prefix)
    one_mib_zeros = bytes(MiB)
    for _ in range(size // MiB):
        crc = zlib.crc32(one_mib_zeros, crc)
    total = len(prefix) + size
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + head + unit * (size // MiB) + end + struct.pack("<II", crc, total & 0xFFFFFFFF)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _zero_bomb(1024 * MiB, form(field("a", "b"), close_suffix=b"")[: -len("--b0undary--")])


def test_gzip_bomb_is_cut_off_fast_with_bounded_memory(bomb: bytes, spool: Path) -> None:
    assert len(bomb) < 1.2 * MiB  # 1 GiB of zeros behind a multipart header
    # The stream is genuine: a prefix of it inflates to the header and then zeros.
    assert zlib.decompressobj(31).decompress(bomb[:4096], 200).startswith(b"--b0undary\r\n")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(TooLarge) as info:
            parse(CT, chunks(bomb, 65536), spool, encoding="gzip", limits=BOMB_LIMITS)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.limit == "decompressed"
    assert elapsed < 2.0
    assert peak < 2 * MiB  # the 1 GiB never exists; the 8 MiB of output never exists at once either


def test_gzip_bomb_inside_a_dump_is_cut_off_and_spool_removed(spool: Path) -> None:
    prefix = form(field("a", "b")).removesuffix(b"--b0undary--\r\n") + (
        b'--b0undary\r\nContent-Disposition: form-data; name="upload_file_minidump"; filename="x"\r\n\r\n'
    )
    bomb = _zero_bomb(64 * MiB, prefix)
    parser = PayloadParser(CT, "gzip", BOMB_LIMITS, spool)
    with pytest.raises(TooLarge, match="decompressed"):
        feed_all(parser, chunks(bomb, 65536))
    assert spool_files(spool) == []
    parser.discard()


def test_decompressed_limit_is_exact(spool: Path) -> None:
    body = form(field("a", "b"))
    limits = dataclasses.replace(LIMITS, max_decompressed_size=len(body))
    assert parse(CT, gzip.compress(body), spool, encoding="gzip", limits=limits).body_size == len(body)
    limits = dataclasses.replace(LIMITS, max_decompressed_size=len(body) - 1)
    with pytest.raises(TooLarge, match="decompressed"):
        parse(CT, gzip.compress(body), spool, encoding="gzip", limits=limits)


def test_json_size_limit(spool: Path) -> None:
    extra = json.dumps({"a": "x" * 100})
    limits = dataclasses.replace(LIMITS, max_json_size=len(extra))
    part = field("extra", extra, content_type="application/json")
    assert parse(CT, form(part), spool, limits=limits).annotations == {"a": "x" * 100}
    limits = dataclasses.replace(LIMITS, max_json_size=len(extra) - 1)
    with pytest.raises(TooLarge) as info:
        parse(CT, chunks(form(part), 10), spool, limits=limits)
    assert info.value.limit == "json"


def test_form_field_annotations_share_the_json_budget(spool: Path) -> None:
    limits = dataclasses.replace(LIMITS, max_json_size=100)
    ok = form(field("a", "x" * 40), field("b", "y" * 40))  # 41 + 41 bytes
    assert len(parse(CT, ok, spool, limits=limits).annotations) == 2
    with pytest.raises(TooLarge) as info:
        parse(CT, form(field("a", "x" * 40), field("b", "y" * 40), field("c", "z" * 20)), spool, limits=limits)
    assert info.value.limit == "annotations"
    with pytest.raises(TooLarge, match="annotations"):
        parse("application/octet-stream", b"MDMP", spool, limits=limits, query="a=" + "x" * 100)


def test_count_limits_allow_exactly_the_maximum(spool: Path) -> None:
    limits = dataclasses.replace(LIMITS, max_annotations=3, max_dumps=2, max_parts=5)
    body = form(field("a", "1"), field("b", "2"), field("c", "3"), dump_part("d1"), dump_part("d2"))
    payload = parse(CT, body, spool, limits=limits)
    assert len(payload.annotations) == 3
    assert len(payload.dumps) == 2


def test_too_many_parts_is_raised_before_the_body_ends(spool: Path) -> None:
    limits = dataclasses.replace(LIMITS, max_parts=10)
    parser = PayloadParser(CT, None, limits, spool)
    part = '--b0undary\r\nContent-Disposition: form-data; name="k{}"\r\n\r\nv\r\n'
    pieces = (part.format(i).encode() for i in range(100))
    with pytest.raises(Malformed, match="too_many_parts"):
        feed_all(parser, pieces)
    parser.discard()


# --- spooling and memory ---------------------------------------------------------------------------------


def test_large_dump_is_spooled_and_discard_removes_it(spool: Path) -> None:
    big = random.Random(5).randbytes(5 * 1000 * 1000)
    body = form(field("ProductName", "X"), dump_part(data=big))
    parser = PayloadParser(CT, None, LIMITS, spool)
    for piece in chunks(body, 65536):
        parser.feed(piece)
    payload = parser.finish()
    (dump,) = payload.dumps
    assert dump.data is None
    assert dump.path is not None
    assert dump.path.parent == spool
    assert spool_files(spool) == [dump.path]
    assert dump.size == len(big)
    assert dump.sha256 == hashlib.sha256(big).hexdigest()
    assert dump.path.read_bytes() == big
    parser.discard()
    assert spool_files(spool) == []
    parser.discard()  # idempotent


def test_discard_tolerates_files_moved_away(spool: Path, tmp_path: Path) -> None:
    limits = dataclasses.replace(LIMITS, dump_spool_threshold=0)
    parser = PayloadParser(CT, None, limits, spool)
    parser.feed(form(field("a", "b"), dump_part()))
    (dump,) = parser.finish().dumps
    assert dump.path is not None
    dump.path.rename(tmp_path / "stored")  # what a storage backend may do
    parser.discard()
    assert (tmp_path / "stored").read_bytes() == b"MDMP-data"


def test_small_dumps_stay_in_memory_within_one_budget(spool: Path) -> None:
    limits = dataclasses.replace(LIMITS, dump_spool_threshold=1000)
    body = form(field("a", "b"), dump_part("d1", b"1" * 600), dump_part("d2", b"2" * 300), dump_part("d3", b"3" * 200))
    payload = parse(CT, body, spool, limits=limits)
    where = {d.name: ("memory" if d.data is not None else "file") for d in payload.dumps}
    assert where == {"d1": "memory", "d2": "memory", "d3": "file"}  # 600 + 300 + 200 > 1000
    assert dumps_of(payload) == {"d1": b"1" * 600, "d2": b"2" * 300, "d3": b"3" * 200}


def test_memory_is_bounded_by_the_threshold_whatever_the_body_size(spool: Path) -> None:
    threshold = 256 * 1024
    limits = dataclasses.replace(LIMITS, dump_spool_threshold=threshold)
    head = form(field("a", "b")).removesuffix(b"--b0undary--\r\n")
    block = random.Random(6).randbytes(65536)
    digest = hashlib.sha256()

    def body(dumps: int, size: int) -> Iterator[bytes]:
        yield head
        for d in range(dumps):
            yield f'--b0undary\r\nContent-Disposition: form-data; name="d{d}"; filename="f"\r\n\r\n'.encode()
            for _ in range(size // len(block)):
                if d == 0:
                    digest.update(block)
                yield block
            yield b"\r\n"
        yield b"--b0undary--\r\n"

    tracemalloc.start()
    try:
        payload = parse(CT, body(4, 20 * MiB), spool, limits=limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [d.size for d in payload.dumps] == [20 * MiB] * 4
    assert payload.dumps[0].sha256 == digest.hexdigest()
    assert peak < threshold + 8 * len(block)


def test_a_90_mib_dump_streams_to_a_spool_file_in_bounded_memory(spool: Path) -> None:
    head = form(field("a", "b")).removesuffix(b"--b0undary--\r\n")
    head += b'--b0undary\r\nContent-Disposition: form-data; name="upload_file_minidump"; filename="d"\r\n\r\n'
    block = random.Random(9).randbytes(64 * 1024)
    digest = hashlib.sha256()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(90 * 16):
            digest.update(block)
            yield block  # as uvicorn hands it over: 64 KiB at a time
        yield b"\r\n--b0undary--\r\n"

    tracemalloc.start()
    try:
        payload = parse(CT, body(), spool)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    (dump,) = payload.dumps
    assert dump.path is not None and dump.data is None
    assert (dump.size, dump.sha256) == (90 * MiB, digest.hexdigest())
    assert dump.path.stat().st_size == 90 * MiB
    assert peak < LIMITS.dump_spool_threshold + 8 * len(block)


@pytest.mark.parametrize("ctype", [CT, "application/octet-stream"])
def test_a_callers_mutable_buffer_is_never_kept(ctype: str, spool: Path) -> None:
    dump = random.Random(4).randbytes(100_000)
    body = form(field("a", "b"), dump_part(data=dump)) if ctype == CT else dump
    parser = PayloadParser(ctype, None, LIMITS, spool)
    for i in range(0, len(body), 30_000):
        buffer = bytearray(body[i : i + 30_000])
        parser.feed(buffer)  # type: ignore[arg-type]  # what a careless caller might pass
        buffer[:] = bytes(len(buffer))  # and then reuse
    payload = parser.finish()
    assert dumps_of(payload)["upload_file_minidump"] == dump


@pytest.mark.parametrize("size", [None, 64 * 1024, 1000])
def test_an_in_memory_dump_is_one_bytes_object_whatever_the_chunking(size: int | None, spool: Path) -> None:
    dump = random.Random(5).randbytes(150_000)
    body = form(*[field(f"f{i}", f"v{i}") for i in range(40)], dump_part(data=dump))
    payload = parse(CT, body if size is None else chunks(body, size), spool)
    (kept,) = payload.dumps
    assert type(kept.data) is bytes
    assert (kept.data, kept.sha256) == (dump, hashlib.sha256(dump).hexdigest())
    assert payload.annotations == {f"f{i}": f"v{i}" for i in range(40)}


def test_limits_from_settings(tmp_path: Path) -> None:
    settings = load_settings({}, data_dir=tmp_path, max_annotations=7, dump_spool_threshold=123)
    limits = Limits.from_settings(settings)
    assert limits.max_annotations == 7
    assert limits.dump_spool_threshold == 123
    assert limits.max_request_size == settings.max_request_size
    assert {f.name for f in dataclasses.fields(Limits)} <= set(type(settings).model_fields)


# --- speed -----------------------------------------------------------------------------------------------


def typical_body() -> bytes:
    """~170 KB, 45 parts: 43 annotations (one a 4 KB JSON string), a 160 KB minidump and a small log."""
    rng = random.Random(7)
    parts = [field(f"Annotation{i}", f"value-{i}-" + "v" * rng.randint(5, 60)) for i in range(42)]
    parts.append(field("TelemetryEnvironment", json.dumps({"k": "x" * 4000})))
    parts.append(dump_part(data=b"MDMP" + rng.randbytes(160_000)))
    parts.append(dump_part("log", rng.randbytes(2000), filename="log.txt"))
    return form(*parts)


def test_typical_body_parses_fast(spool: Path) -> None:
    body = typical_body()
    assert 165_000 < len(body) < 175_000
    best = float("inf")
    for _ in range(20):
        started = time.perf_counter()
        payload = parse(CT, body, spool)
        best = min(best, time.perf_counter() - started)
    assert len(payload.annotations) == 43
    assert len(payload.dumps) == 2
    assert best < 0.005  # measured ~0.2 ms; the bound only catches accidental quadratic behaviour


# --- the API the app depends on --------------------------------------------------------------------------


def test_public_api() -> None:
    from crashcart.collector import payload as module

    assert sorted(module.__all__) == sorted(name for name in module.__all__ if hasattr(module, name))
    params = list(inspect.signature(PayloadParser.__init__).parameters)
    assert params == ["self", "content_type", "content_encoding", "limits", "spool_dir", "query_string"]
    assert [f.name for f in dataclasses.fields(Payload)] == [
        "annotations",
        "dumps",
        "notes",
        "kind",
        "compressed",
        "wire_size",
        "body_size",
    ]
    assert [f.name for f in dataclasses.fields(Limits)] == [
        "max_request_size",
        "max_decompressed_size",
        "max_annotations",
        "max_annotation_size",
        "max_json_size",
        "max_dumps",
        "max_parts",
        "dump_spool_threshold",
        "collector_parse_budget",
    ]
    assert hasattr(PayloadParser, "feed_steps")
    assert Malformed(Refusal.NO_BOUNDARY).code == "no_boundary"
    assert TooLarge(Refusal.TOO_LARGE_JSON).limit == "json"


# --- parse time: bounded per request, in slices -----------------------------------------------------------


def lookalike_gzip(inflated_mib: int, line: bytes = b"--bX") -> bytes:
    """A gzip body under boundary ``b`` whose dump inflates to ``line`` repeated (issue #9's slow body)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = b"--b\r\n" + b'Content-Disposition: form-data; name="ProductName"\r\n\r\nTest\r\n--b\r\n'
    head += b'Content-Disposition: form-data; name="upload_file_minidump"; filename="x.dmp"\r\n\r\n'
    out = [compressor.compress(head)]
    block = line * (MiB // len(line))
    out.extend(compressor.compress(block) for _ in range(inflated_mib))
    out += [compressor.compress(b"\r\n--b--\r\n"), compressor.flush()]
    return b"".join(out)


def test_a_body_over_the_parse_budget_is_refused_and_its_spool_removed(spool: Path) -> None:
    body = lookalike_gzip(64)  # ~0.3 s of CPU to parse; the budget is 10 ms
    limits = dataclasses.replace(LIMITS, collector_parse_budget=0.01)
    with pytest.raises(TooLarge) as info:
        parse("multipart/form-data; boundary=b", list(chunks(body, 64 * 1024)), spool, encoding="gzip", limits=limits)
    assert info.value.refusal is Refusal.TOO_LARGE_PARSE_TIME
    assert info.value.refusal.discarded() == "too_large_parse_time"
    assert spool_files(spool) == []
    # Without a budget the same body parses (a dump of 64 MiB of lookalikes, spooled).
    payload = parse("multipart/form-data; boundary=b", [body], spool, encoding="gzip")
    assert [dump.size for dump in payload.dumps] == [64 * MiB]
    payload_files = spool_files(spool)
    assert len(payload_files) == 1


def test_feed_steps_pauses_inside_one_chunk_and_gives_the_same_payload(spool: Path) -> None:
    # One 64 KiB gzip chunk inflating to 32 MiB: ``feed`` would run it in one go; ``feed_steps`` yields in
    # between (every ``_SLICE`` of CPU), so the collector's event loop can answer others meanwhile.
    body = lookalike_gzip(32)
    assert len(body) < 64 * 1024
    stepped = PayloadParser("multipart/form-data; boundary=b", "gzip", LIMITS, spool)
    pauses = sum(1 for _ in stepped.feed_steps(body))
    assert pauses >= 2
    whole = PayloadParser("multipart/form-data; boundary=b", "gzip", LIMITS, spool)
    whole.feed(body)
    a, b = stepped.finish(), whole.finish()
    assert (a.annotations, [(d.name, d.size, d.sha256) for d in a.dumps]) == (
        b.annotations,
        [(d.name, d.size, d.sha256) for d in b.dumps],
    )
    stepped.discard()
    whole.discard()
    assert spool_files(spool) == []


def test_abandoning_feed_steps_abandons_the_request(spool: Path) -> None:
    parser = PayloadParser("multipart/form-data; boundary=b", "gzip", LIMITS, spool)
    steps = parser.feed_steps(lookalike_gzip(32))
    for _ in steps:
        if spool_files(spool):  # the dump is being spooled (past the 1 MiB in-memory threshold)
            break
    assert len(spool_files(spool)) == 1
    steps.close()
    assert spool_files(spool) == []
    with pytest.raises(RuntimeError, match="abandoned"):
        parser.finish()
