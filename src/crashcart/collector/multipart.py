"""An incremental ``multipart/form-data`` (and ``multipart/mixed``) parser, tolerant of real crash reporters.

The parser is fed the request body in chunks of any size and yields events: ``PartBegin`` (the part's
headers), ``PartData`` (a slice of the part's bytes), ``PartEnd``; a defect is raised in its place among
them, so errors come in body order whatever the chunking. It only ever keeps a short tail between feeds (a
partial delimiter, or an unfinished header block of at most ``max_header_size`` bytes), so memory does not
grow with the body, and it scans with ``bytes.find`` from where the previous scan stopped, so a body is
scanned once.

Folklore (what real clients send, see the collector protocol notes):

* The delimiter is searched as ``--boundary`` alone, not ``CRLF--boundary``: Breakpad-Mac (``HTTPRequest.m``)
  and Breakpad-Windows since 2022 (``http_upload.cc``, commit c7acbcef "Fix Windows native symbol uploads")
  write a file's bytes and the next ``--boundary`` with no CRLF between them. A CRLF right before the
  delimiter is stripped when present, so both forms parse and a dump never swallows the next part. The
  price: a file whose last two bytes really are CRLF, sent by such a client, loses them (a minidump's
  directory records its own stream sizes, so readers do not care).
* ``--boundary`` followed by anything other than ``--``, optional spaces/tabs and CRLF is content, not a
  delimiter (the RFC forbids it in content, but a tolerant reader loses nothing by reading on).
* Preamble and epilogue junk is ignored; a missing CRLF after the closing ``--boundary--`` is fine.
* ``Content-Disposition`` parameters: quoted values end at the next ``"`` and backslashes are literal
  (Windows Breakpad sends ``filename="C:\\Users\\me\\x.dmp"``); Crashpad and browsers escape ``"`` as
  ``%22`` and that escape is kept verbatim; unquoted ``name=Key`` (Android) works; ``filename*=`` (RFC 5987)
  wins over ``filename``. Header names are case-insensitive.
* Header blocks are decoded as UTF-8 (Windows Breakpad's non-ASCII paths), falling back to Latin-1, so a
  header never fails to decode.
* Line endings must be CRLF, as in Antenna: a delimiter followed by a bare LF is a structure error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

MAX_HEADER_SIZE = 8192  # bytes in one part's header block (Falcon's default, which Antenna keeps)
MAX_BOUNDARY_LENGTH = 200  # RFC 2046 says 70; real clients use up to 56; leave room for odd ones
_MAX_PADDING = 256  # spaces/tabs allowed between a delimiter and its CRLF (RFC 2046 "transport padding")

# One parameter of a header value: ``; key=value`` or ``; key="value"`` (no backslash escapes, see above).
_PARAM_RE = re.compile(r';\s*([^\s;=]+)\s*(?:=\s*(?:"([^"]*)"|([^;]*)))?')
_PADDING_RE = re.compile(rb"[ \t]*")
# The header blocks nearly every client writes, read in one match; anything else takes the general path.
_COMMON_HEADERS_RE = re.compile(
    rb'Content-Disposition: form-data; name=(?:"([^"\r\n]*)"|([^";\s]+))'
    rb'(?:; filename="([^"\r\n]*)")?(?:\r\nContent-Type: ([!-:<-~]+))?'
)


class MultipartError(Exception):
    """The body is not a multipart body we can read; ``code`` is a ``payload.MALFORMED_CODES`` key."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class PartHeaders(NamedTuple):
    """What a part's headers say, already interpreted."""

    name: str | None  # Content-Disposition ``name`` (None when absent)
    filename: str | None  # ``filename*`` decoded, else ``filename`` verbatim (None when absent)
    content_type: str | None  # media type, lowercased, without parameters (None when absent)
    charset: str | None  # the Content-Type ``charset`` parameter, lowercased


class PartBegin(NamedTuple):
    headers: PartHeaders


class PartData(NamedTuple):
    data: bytes


class PartEnd(NamedTuple):
    last: bool  # closed by the final ``--boundary--`` delimiter


Event = PartBegin | PartData | PartEnd

_PREAMBLE, _HEADERS, _DATA, _EPILOGUE = range(4)
# Results of looking at a ``--boundary`` occurrence.
_NONE, _MORE, _PART, _CLOSE = range(4)


def parse_params(value: str) -> dict[str, str]:
    """Parameters of a header value (``form-data; name="x"; filename*=UTF-8''a%20b``), keys lowercased.

    The first occurrence of a key wins. ``key*`` parameters (RFC 5987) are decoded and stored under ``key``,
    replacing the plain one.
    """
    start = value.find(";")
    if start < 0:
        return {}
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    for match in _PARAM_RE.finditer(value, start):
        key = match.group(1).lower()
        quoted = match.group(2)
        text = quoted if quoted is not None else (match.group(3) or "").strip()
        if key.endswith("*"):
            decoded = _decode_rfc5987(text)
            if decoded is not None:
                extended.setdefault(key[:-1], decoded)
        else:
            params.setdefault(key, text)
    params.update(extended)
    return params


def _decode_rfc5987(text: str) -> str | None:
    """``UTF-8''%e2%82%ac.dmp`` → ``€.dmp``; None when it is not in that form or does not decode."""
    charset, sep, rest = text.partition("'")
    _, sep2, encoded = rest.partition("'")
    charset = charset.strip().lower() or "utf-8"
    if not sep or not sep2 or charset not in ("utf-8", "iso-8859-1", "us-ascii"):
        return None  # the charsets RFC 5987 defines; others could decode to unpaired surrogates
    try:
        return unquote_to_bytes(encoded).decode(charset)
    except ValueError:
        return None


def parse_part_headers(block: bytes) -> PartHeaders:
    """Interpret one part's header block (the bytes between the delimiter line and the blank line)."""
    common = _COMMON_HEADERS_RE.fullmatch(block)
    if common is not None and block.isascii():
        quoted, bare, filename, ctype = common.groups()
        return PartHeaders(
            (quoted if quoted is not None else bare).decode("ascii"),
            filename.decode("ascii") if filename is not None else None,
            ctype.decode("ascii").lower() if ctype is not None else None,
            None,
        )
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text = block.decode("latin-1")
    headers: list[tuple[str, str]] = []
    if text:
        for line in text.split("\r\n"):
            if not line or "\r" in line or "\n" in line:
                raise MultipartError("bad_part_headers", "blank line, bare CR or LF in a part header block")
            if line[0] in " \t":  # obsolete line folding: continues the previous header
                if not headers:
                    raise MultipartError("bad_part_headers", "part header block starts with a continuation")
                name, value = headers[-1]
                headers[-1] = (name, f"{value} {line.strip()}")
                continue
            name, sep, value = line.partition(":")
            name = name.strip().lower()
            if not sep or not name:
                raise MultipartError("bad_part_headers", "part header line without a name and a colon")
            headers.append((name, value.strip()))
    disposition = content_type = None
    for name, value in headers:
        if name == "content-disposition" and disposition is None:
            disposition = value
        elif name == "content-type" and content_type is None:
            content_type = value
    dparams = parse_params(disposition) if disposition is not None else {}
    media = charset = None
    if content_type is not None:
        media = content_type.partition(";")[0].strip().lower() or None
        cparams = parse_params(content_type)
        charset = cparams["charset"].strip().lower() if "charset" in cparams else None
    return PartHeaders(dparams.get("name"), dparams.get("filename"), media, charset)


class MultipartParser:
    """Feed it the body and iterate over the events each chunk completes; ``finish()`` checks the end.

    Raises ``MultipartError`` as soon as a defect is certain. After an error the parser must not be used,
    nor may an iteration be abandoned half-way (the parser's position lives in the running iteration).
    """

    def __init__(
        self, boundary: bytes, *, max_header_size: int = MAX_HEADER_SIZE, max_parts: int | None = None
    ) -> None:
        if not boundary:
            raise ValueError("empty boundary")
        self._dash = b"--" + boundary
        # Kept between feeds in data/preamble: a CRLF plus all but one byte of a partial ``--boundary``.
        self._keep = len(self._dash) + 1
        self._max_header = max_header_size
        self._max_parts = max_parts
        self._state = _PREAMBLE
        self._tail = b""
        self._hscan = 0  # where the search for the end of the header block resumes, relative to the tail
        self.parts = 0

    @property
    def complete(self) -> bool:
        """True once the closing delimiter has been read."""
        return self._state == _EPILOGUE

    def feed(self, chunk: bytes) -> Iterator[Event]:
        """The events ``chunk`` completes, lazily: iterate to drive the parser.

        A defect is raised by the iteration at its place in the stream, after every event before it, so the
        caller meets errors in body order whatever the chunking.
        """
        if self._state == _EPILOGUE:
            return
        buf = self._tail + chunk if self._tail else chunk
        self._tail = b""
        n = len(buf)
        pos = 0
        while True:
            state = self._state
            if state == _HEADERS:
                if n - pos < 2:
                    break
                if buf[pos] == 0x0D and buf[pos + 1] == 0x0A:  # empty header block
                    block_end, data_start = pos, pos + 2
                else:
                    block_end = buf.find(b"\r\n\r\n", pos + self._hscan)
                    if block_end < 0:
                        if n - pos > self._max_header:
                            raise MultipartError("part_headers_too_large", "part header block over 8 KiB")
                        self._hscan = max(0, n - pos - 3)
                        break
                    data_start = block_end + 4
                if block_end - pos > self._max_header:
                    raise MultipartError("part_headers_too_large", "part header block over 8 KiB")
                self._hscan = 0
                self.parts += 1
                if self._max_parts is not None and self.parts > self._max_parts:
                    raise MultipartError("too_many_parts", f"more than {self._max_parts} parts")
                headers = parse_part_headers(buf[pos:block_end])
                pos = data_start
                self._state = _DATA
                yield PartBegin(headers)
                continue

            # _PREAMBLE or _DATA: look for the next delimiter.
            found, kind, after = self._find_delimiter(buf, pos)
            if kind in (_NONE, _MORE):
                hold = max(pos, n - self._keep) if kind == _NONE else max(pos, found - 2)
                start, pos = pos, hold
                if state == _DATA and hold > start:
                    yield PartData(buf[start:hold])
                break
            start, pos = pos, after
            self._state = _EPILOGUE if kind == _CLOSE else _HEADERS
            if state == _DATA:
                end = found
                if end - start >= 2 and buf[end - 2] == 0x0D and buf[end - 1] == 0x0A:
                    end -= 2
                if end > start:
                    yield PartData(buf[start:end])
                yield PartEnd(kind == _CLOSE)
            if kind == _CLOSE:
                break
        self._tail = buf[pos:] if self._state != _EPILOGUE else b""

    def _find_delimiter(self, buf: bytes, start: int) -> tuple[int, int, int]:
        """(index, kind, end of the delimiter line) of the first real delimiter at or after ``start``.

        ``_MORE`` means the bytes after a ``--boundary`` occurrence are not all here yet; every decision
        depends only on bytes already seen, so the result never depends on how the body was chunked.
        """
        dash = self._dash
        n = len(buf)
        while True:
            i = buf.find(dash, start)
            if i < 0:
                return -1, _NONE, 0
            j = i + len(dash)
            if j == n:
                return i, _MORE, 0
            c = buf[j]
            if c in (0x2D, 0x0D):  # "--" closes, CRLF ends a delimiter line
                if j + 1 == n:
                    return i, _MORE, 0
                if c == 0x2D and buf[j + 1] == 0x2D:
                    return i, _CLOSE, j + 2
                if c == 0x0D and buf[j + 1] == 0x0A:
                    return i, _PART, j + 2
            elif c == 0x0A:
                raise MultipartError("invalid_payload_structure", "delimiter line ends in a bare LF")
            elif c in (0x20, 0x09):  # transport padding before the CRLF
                pad = _PADDING_RE.match(buf, j, min(n, j + _MAX_PADDING + 1))
                assert pad is not None  # the pattern matches the empty string
                k = pad.end()
                if k - j > _MAX_PADDING:
                    raise MultipartError("invalid_payload_structure", "long padding after a delimiter")
                if k == n or (k + 1 == n and buf[k] == 0x0D):
                    return i, _MORE, 0
                if buf[k] == 0x0D and buf[k + 1] == 0x0A:
                    return i, _PART, k + 2
                if buf[k] == 0x0A:
                    raise MultipartError("invalid_payload_structure", "delimiter line ends in a bare LF")
            start = i + 1  # ``--boundary`` followed by something else: content, read on

    def finish(self) -> None:
        """The body ended: raise unless the closing delimiter was seen."""
        if self._state == _EPILOGUE:
            return
        if self._state == _PREAMBLE:
            raise MultipartError("boundary_not_found", "the body never contains the declared boundary")
        raise MultipartError("truncated", "the body ended before the closing delimiter")
