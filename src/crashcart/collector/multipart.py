"""An incremental ``multipart/form-data`` (and ``multipart/mixed``) parser, tolerant of real crash reporters.

The parser is fed the request body in chunks of any size and yields events: ``PartBegin`` (the part's
headers), ``PartData`` (a slice of the part's bytes), ``PartEnd``; a defect is raised in its place among
them, so errors come in body order whatever the chunking. It only ever keeps a short tail between feeds (a
partial delimiter, or an unfinished header block of at most ``max_header_size`` bytes), so memory does not
grow with the body, and it scans with ``bytes.find`` from where the previous scan stopped, so a body is
scanned once. Lookalikes (``--boundary`` followed by other bytes: content) are skipped inside C searches for
the forms a delimiter can take, never one Python loop turn each: a body inflating to lines of ``--bX`` under
boundary ``b`` cost ~0.25 s per MiB that way (issue #9; ``bench/payload/bench_lookalikes.py``).

``feed_into`` does the same for a ``PartHandler`` (the collector's payload parser), cheaply: a crash report
is mostly a few dozen small text fields, and per-part Python work is what costs. So header blocks are
interpreted once per process (a bounded memo); a run of parts that are complete in the buffer is found
with one ``bytes.split`` and handed over in one ``whole_parts`` call; large data is handed over as views of
the caller's chunk; and the bytes held back between feeds are not copied again when they turn out to be
data. None of this changes what the handler is told or where an error is raised (``_SHORTCUTS`` turns it
off, and ``tests/collector/test_multipart.py`` and ``test_payload_fuzz.py`` compare).

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

import itertools
import re
from collections.abc import Callable, Iterator
from typing import NamedTuple, Protocol
from urllib.parse import unquote_to_bytes

from crashcart.collector.refusals import Refusal

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
    """The body is not a multipart body we can read, for one of the table's ``refusal`` reasons."""

    def __init__(self, refusal: Refusal, detail: str) -> None:
        super().__init__(f"{refusal.code}: {detail}")
        self.refusal = refusal
        self.detail = detail

    @property
    def code(self) -> str:
        return self.refusal.code


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
                raise MultipartError(Refusal.BAD_PART_HEADERS, "blank line, bare CR or LF in a part header block")
            if line[0] in " \t":  # obsolete line folding: continues the previous header
                if not headers:
                    raise MultipartError(Refusal.BAD_PART_HEADERS, "part header block starts with a continuation")
                name, value = headers[-1]
                headers[-1] = (name, f"{value} {line.strip()}")
                continue
            name, sep, value = line.partition(":")
            name = name.strip().lower()
            if not sep or not name:
                raise MultipartError(Refusal.BAD_PART_HEADERS, "part header line without a name and a colon")
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


# A part that arrived complete: (headers, field, data, last). ``field`` is the part's name when its headers
# give nothing else (no filename, content type or charset): a plain text form field (RFC 7578 §4.4), the
# bulk of a crash report; else None.
WholePart = tuple[PartHeaders, str | None, bytes, bool]


def _field(headers: PartHeaders) -> str | None:
    """The ``field`` of a ``WholePart`` with these headers."""
    name, filename, content_type, charset = headers
    return name if name and filename is None and content_type is None and charset is None else None


def _slice(buf: bytes, start: int, end: int) -> bytes | memoryview:
    """``buf[start:end]``, as a view (``buf`` is immutable) when that saves copying most of ``buf``.

    Keeping the view keeps ``buf`` alive, so it is only used for at least 3/4 of it: a holder of such slices
    never holds more than 4/3 of their bytes.
    """
    if 4 * (end - start) >= 3 * len(buf):
        return memoryview(buf)[start:end]
    return buf[start:end]


class PartHandler(Protocol):
    """Receives the parts of a body from ``MultipartParser.feed_into``, in body order.

    ``whole_parts`` is a shortcut for a run of parts that arrived complete: for each ``(headers, field, data,
    last)`` in turn it must act exactly like ``begin_part(headers)``, then ``part_data(data)`` (only when
    ``data`` is not empty), then ``end_part(last)``, including where it raises.
    """

    def begin_part(self, headers: PartHeaders) -> None: ...

    def part_data(self, data: bytes | memoryview) -> None:
        """The next bytes of the part: a read-only ``memoryview`` of an immutable buffer, or ``bytes``."""

    def end_part(self, last: bool) -> None: ...

    def whole_parts(self, parts: list[WholePart]) -> None: ...


class _EventList:
    """A ``PartHandler`` that records events, for ``MultipartParser.feed``."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def begin_part(self, headers: PartHeaders) -> None:
        self.events.append(PartBegin(headers))

    def part_data(self, data: bytes | memoryview) -> None:
        self.events.append(PartData(bytes(data)))

    def end_part(self, last: bool) -> None:
        self.events.append(PartEnd(last))

    def whole_parts(self, parts: list[WholePart]) -> None:
        for headers, _, data, last in parts:
            self.events.append(PartBegin(headers))
            if data:
                self.events.append(PartData(data))
            self.events.append(PartEnd(last))


# Interpreted header blocks, by their bytes: a collector sees the same few dozen blocks (one per annotation
# name its clients send) over and over. ``_PIECE_MEMO`` holds the same under the key a piece of a body split
# at ``--boundary`` starts with: CRLF + block (b"" for an empty block), with the block's ``field``. Only
# short blocks are kept, and the memos are emptied when full: a hostile stream of distinct blocks costs at
# most ~1 MB.
_HEADER_MEMO: dict[bytes, PartHeaders] = {}
_PIECE_MEMO: dict[bytes, tuple[PartHeaders, str | None]] = {}
_HEADER_MEMO_SIZE = 1024
_HEADER_MEMO_BLOCK = 256
# The shortcuts of ``feed_into``: complete parts handed over in runs, held-back bytes not copied again. They
# never change what the handler is told, only how fast; tests turn them off to compare.
_SHORTCUTS = True
_WINDOW = 16 * 1024  # bytes split at a time when looking for complete parts
# Bytes one body may have split or searched that way. CPython searches a haystack under 30,000 bytes without
# a linear-time guarantee: a hostile boundary and body can make a window cost ~30 ns a byte. Past this, the
# general path (``bytes.find`` over the whole buffer) does the rest. Real reports use a few dozen KiB.
_WINDOW_BUDGET = 1024 * 1024


def _part_headers(block: bytes) -> PartHeaders:
    """``parse_part_headers(block)``, memoized (the memo never holds a failure)."""
    headers = _HEADER_MEMO.get(block)
    if headers is None:
        headers = parse_part_headers(block)
        if len(block) <= _HEADER_MEMO_BLOCK:
            if len(_HEADER_MEMO) >= _HEADER_MEMO_SIZE:
                _HEADER_MEMO.clear()
                _PIECE_MEMO.clear()
            _HEADER_MEMO[block] = headers
            _PIECE_MEMO[b"\r\n" + block if block else b""] = headers, _field(headers)
    return headers


def _delimiter_searches(dash: bytes) -> list[Callable[[bytes, int], int]]:
    """Searches, each for one form of ``dash`` that is not content (``MultipartParser._classify``): followed by
    CRLF, by ``--``, by a bare LF (an error), or by padding that ends in CR?LF, CR? at the end of the buffer, or
    runs past ``_MAX_PADDING`` (an error). Each returns the form's first index at or after a position, or -1.
    """

    def find(needle: bytes) -> Callable[[bytes, int], int]:
        return lambda buf, start: buf.find(needle, start)

    def padded(first: bytes) -> Callable[[bytes, int], int]:
        more = _MAX_PADDING - 1
        pattern = re.compile(re.escape(dash + first) + rb"(?:[ \t]{%d}|[ \t]{0,%d}+(?:\r?\n|\r?\Z))" % (more + 1, more))

        def search(buf: bytes, start: int) -> int:
            match = pattern.search(buf, start)
            return match.start() if match is not None else -1

        return search

    return [find(dash + b"\r\n"), find(dash + b"--"), find(dash + b"\n"), padded(b" "), padded(b"\t")]


class MultipartParser:
    """Feed it the body and iterate over the events each chunk completes; ``finish()`` checks the end.

    ``feed_into`` does the same work but calls a ``PartHandler`` instead of building events; a part whose
    headers, bytes and closing delimiter are all in the buffer (most text fields) then costs one call.

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
        self._window_budget = _WINDOW_BUDGET
        self.parts = 0
        # ``_scan_delimiter``'s searches (made at the first lookalike: most bodies have none), and their last
        # hits in ``_scan_buf`` (-2: not searched yet).
        self._scans: list[Callable[[bytes, int], int]] | None = None
        self._scan_buf: bytes | None = None
        self._scan_hits: list[int] = []

    @property
    def complete(self) -> bool:
        """True once the closing delimiter has been read."""
        return self._state == _EPILOGUE

    def feed(self, chunk: bytes) -> Iterator[Event]:
        """The events ``chunk`` completes, lazily: iterate to drive the parser.

        A defect is raised by the iteration at its place in the stream, after every event before it, so the
        caller meets errors in body order whatever the chunking.
        """
        recorder = _EventList()
        try:
            self.feed_into(chunk, recorder)
        except MultipartError:
            yield from recorder.events
            raise
        yield from recorder.events

    def feed_into(self, chunk: bytes, handler: PartHandler) -> None:
        """Parse ``chunk`` and tell ``handler`` about the parts it completes, in body order.

        A defect is raised at its place in the stream, after the calls for everything before it; an exception
        from the handler propagates (the parser must not be used afterwards).
        """
        if self._state == _EPILOGUE:
            return
        if type(chunk) is not bytes:
            chunk = bytes(chunk)  # a caller's bytearray: ours from here on (keys of the memo, views, the tail)
        dash = self._dash
        dash_len = len(dash)
        tail = self._tail
        self._tail = b""
        pending = b""  # held-back bytes of the part's data, due at this feed's first ``part_data``
        shortcuts = _SHORTCUTS
        if not tail:
            buf = chunk
        elif (
            shortcuts
            and self._state != _HEADERS
            and len(chunk) >= dash_len + 2
            and not 0 <= (tail + chunk[: dash_len + 2]).find(dash) < len(tail) + 2
        ):
            # No ``--boundary`` starts in the bytes held back from the last feed, nor in the two after them
            # (a CRLF there would be stripped): every decision is the same in ``chunk`` alone, and the held
            # bytes are data, handed over when ``tail + chunk`` would have been. This saves copying ``chunk``.
            buf = chunk
            if self._state == _DATA:
                pending = tail
        else:
            buf = tail + chunk
        n = len(buf)
        pos = 0
        first = -2  # the first ``--boundary`` at or after ``pos`` when already searched for, else -2
        clear = 0  # no ``--boundary`` starts in [pos, clear): known from ``_whole_parts``
        while True:
            state = self._state
            if state == _HEADERS:
                if shortcuts and self._hscan == 0 and pos >= 2:
                    pos, clear = self._whole_parts(buf, pos, handler)
                    if self._state == _EPILOGUE:
                        break
                if n - pos < 2:
                    break
                if buf[pos] == 0x0D and buf[pos + 1] == 0x0A:  # empty header block
                    block_end, data_start = pos, pos + 2
                else:
                    block_end = buf.find(b"\r\n\r\n", pos + self._hscan)
                    if block_end < 0:
                        if n - pos > self._max_header:
                            raise MultipartError(Refusal.PART_HEADERS_TOO_LARGE, "part header block over 8 KiB")
                        self._hscan = max(0, n - pos - 3)
                        break
                    data_start = block_end + 4
                if block_end - pos > self._max_header:
                    raise MultipartError(Refusal.PART_HEADERS_TOO_LARGE, "part header block over 8 KiB")
                self._hscan = 0
                self.parts += 1
                if self._max_parts is not None and self.parts > self._max_parts:
                    raise MultipartError(Refusal.TOO_MANY_PARTS, f"more than {self._max_parts} parts")
                headers = _part_headers(buf[pos:block_end])
                pos = data_start
                self._state = _DATA
                if first == -2:
                    first = buf.find(dash, max(pos, clear))
                clear = 0
                if shortcuts and first >= 0:
                    # The whole part may be here: when its first ``--boundary`` is a plain delimiter (CRLF or
                    # ``--`` after it; anything else takes the general path below), hand it over in one call.
                    j = first + dash_len
                    after = buf[j : j + 2]
                    if after in (b"\r\n", b"--"):
                        end = first - 2 if buf.endswith(b"\r\n", pos, first) else first
                        last = after == b"--"
                        self._state = _EPILOGUE if last else _HEADERS
                        handler.whole_parts([(headers, _field(headers), buf[pos:end], last)])
                        pos = j + 2
                        first = -2
                        if last:
                            break
                        continue
                handler.begin_part(headers)
                continue

            # _PREAMBLE or _DATA: look for the next delimiter.
            found, kind, after_end = self._find_delimiter(buf, pos, first)
            first = -2
            if kind in (_NONE, _MORE):
                hold = max(pos, n - self._keep) if kind == _NONE else max(pos, found - 2)
                start, pos = pos, hold
                if state == _DATA:
                    if pending:
                        handler.part_data(pending)
                        pending = b""
                    if hold > start:
                        handler.part_data(_slice(buf, start, hold))
                break
            start, pos = pos, after_end
            self._state = _EPILOGUE if kind == _CLOSE else _HEADERS
            if state == _DATA:
                end = found
                if end - start >= 2 and buf[end - 2] == 0x0D and buf[end - 1] == 0x0A:
                    end -= 2
                if pending:
                    handler.part_data(pending)
                    pending = b""
                if end > start:
                    handler.part_data(_slice(buf, start, end))
                handler.end_part(kind == _CLOSE)
            if kind == _CLOSE:
                break
        self._tail = buf[pos:] if self._state != _EPILOGUE else b""
        self._scan_buf = None

    def _whole_parts(self, buf: bytes, pos: int, handler: PartHandler) -> tuple[int, int]:
        """From ``pos`` (just after a delimiter line in ``buf``), hand ``handler`` the run of complete parts
        whose header blocks are memoized and whose first ``--boundary`` is a plain delimiter (CRLF or ``--``
        after it); return where the first other part starts, for the general path, and how far from there
        no ``--boundary`` starts (when that is known, else the same position).

        Works on windows of the buffer split at ``--boundary``: one C call finds every delimiter in a window,
        instead of two searches per part. Each part gets the general path's checks, in its order (header block
        size, part count), and the same bytes.
        """
        room = self._max_parts - self.parts if self._max_parts is not None else len(buf)
        run: list[WholePart] = []
        get = _PIECE_MEMO.get
        dash = self._dash
        dash_len = len(dash)
        # A memoized block is at most _HEADER_MEMO_BLOCK bytes: only a smaller limit needs checking here.
        max_head = self._max_header + 2 if self._max_header < _HEADER_MEMO_BLOCK else 0
        append = run.append
        at = pos - 2  # the CRLF ending the delimiter line: each piece then starts with CRLF + header block
        clear = 0
        while room > 0 and self._window_budget > 0:
            if run:
                self._window_budget -= _WINDOW
                if buf.find(dash, at + 2, at + _WINDOW) < 0:
                    clear = min(at + _WINDOW, len(buf)) - dash_len + 1
                    break  # no part ends in the next window (nor does a ``--boundary`` start before ``clear``)
            window = buf[at : at + _WINDOW]
            self._window_budget -= len(window)
            pieces = window.split(dash)
            before = len(run)
            closed = False
            piece = pieces[0]
            for following in itertools.islice(pieces, 1, room + 1):
                head, sep, data = piece.partition(b"\r\n\r\n")
                memo = get(head) if sep else None
                if memo is None or (max_head and len(head) > max_head):
                    break
                headers, field = memo
                if following.startswith(b"\r\n"):
                    append((headers, field, data.removesuffix(b"\r\n"), False))
                    piece = following
                    continue
                if following.startswith(b"--"):
                    append((headers, field, data.removesuffix(b"\r\n"), True))
                    closed = True
                break  # else padding, a lookalike, or not all here: the general path decides
            taken = len(run) - before
            if taken == len(pieces) - 1:  # every delimiter in the window read
                at += len(window) - len(pieces[-1])
            else:
                at += sum(map(len, itertools.islice(pieces, taken))) + taken * dash_len
            room -= taken
            if closed:
                self._state = _EPILOGUE
                break
            if taken < len(pieces) - 1 or not taken:
                break  # stopped at a part for the general path
        if run:
            self.parts += len(run)
            handler.whole_parts(run)
        return at + 2, clear

    def _find_delimiter(self, buf: bytes, start: int, first: int = -2) -> tuple[int, int, int]:
        """(index, kind, end of the delimiter line) of the first real delimiter at or after ``start``.

        ``first``, when not -2, is the result of ``buf.find(dash, start)``, already known. ``_MORE`` means the
        bytes after a ``--boundary`` occurrence are not all here yet; every decision depends only on bytes
        already seen, so the result never depends on how the body was chunked.

        The first occurrence is looked at here; once one is a lookalike (content), ``_scan_delimiter`` takes
        over, so a body of lookalikes costs C searches, not a Python loop turn each.
        """
        dash = self._dash
        while True:
            i = buf.find(dash, start) if first == -2 else first
            first = -2
            if i < 0:
                return -1, _NONE, 0
            found = self._classify(buf, i)
            if found is not None:
                return found
            start = i + 1
            if _SHORTCUTS:
                return self._scan_delimiter(buf, start)

    def _classify(self, buf: bytes, i: int) -> tuple[int, int, int] | None:
        """What the ``--boundary`` at ``i`` is: (i, kind, end of the delimiter line), or None for content.

        Raises for a delimiter line that ends in a bare LF or has too much padding.
        """
        n = len(buf)
        j = i + len(self._dash)
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
            raise MultipartError(Refusal.INVALID_PAYLOAD_STRUCTURE, "delimiter line ends in a bare LF")
        elif c in (0x20, 0x09):  # transport padding before the CRLF
            pad = _PADDING_RE.match(buf, j, min(n, j + _MAX_PADDING + 1))
            assert pad is not None  # the pattern matches the empty string
            k = pad.end()
            if k - j > _MAX_PADDING:
                raise MultipartError(Refusal.INVALID_PAYLOAD_STRUCTURE, "long padding after a delimiter")
            if k == n or (k + 1 == n and buf[k] == 0x0D):
                return i, _MORE, 0
            if buf[k] == 0x0D and buf[k + 1] == 0x0A:
                return i, _PART, k + 2
            if buf[k] == 0x0A:
                raise MultipartError(Refusal.INVALID_PAYLOAD_STRUCTURE, "delimiter line ends in a bare LF")
        return None  # ``--boundary`` followed by something else: content, read on

    def _scan_delimiter(self, buf: bytes, start: int) -> tuple[int, int, int]:
        """``_find_delimiter`` past lookalikes: each form of ``--boundary`` that ``_classify`` does not call
        content is searched for by itself (``bytes.find``, or a regex whose literal prefix includes the first
        padding byte), and the earliest wins. A hit stays valid while later searches in the same buffer start
        before it, so each form's search moves through a buffer once: linear, with C's constant.
        """
        scans = self._scans
        if scans is None:
            scans = self._scans = _delimiter_searches(self._dash)
        if self._scan_buf is not buf:
            self._scan_buf = buf
            self._scan_hits = [-2] * len(scans)
        hits = self._scan_hits
        best = -1
        for k, search in enumerate(scans):
            hit = hits[k]
            if hit == -2 or 0 <= hit < start:
                hits[k] = hit = search(buf, start)
            if hit >= 0 and (best < 0 or hit < best):
                best = hit
        # ``--boundary`` with the bytes deciding it not all here (at the very end; padding is searched above).
        n = len(buf)
        dash = self._dash
        i = buf.find(dash, max(start, n - len(dash) - 1))
        while i >= 0 and (best < 0 or i < best):
            if self._classify(buf, i) is not None:
                best = i
                break
            i = buf.find(dash, i + 1)
        if best < 0:
            return -1, _NONE, 0
        found = self._classify(buf, best)
        assert found is not None  # every form searched for is a delimiter (or an error)
        return found

    def finish(self) -> None:
        """The body ended: raise unless the closing delimiter was seen."""
        if self._state == _EPILOGUE:
            return
        if self._state == _PREAMBLE:
            raise MultipartError(Refusal.BOUNDARY_NOT_FOUND, "the body never contains the declared boundary")
        raise MultipartError(Refusal.TRUNCATED, "the body ended before the closing delimiter")
