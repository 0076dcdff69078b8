"""Turn a crash-submission request body into a ``Payload``: streaming, bounded, and never crashing.

The app feeds ``PayloadParser`` the body chunk by chunk as it arrives (already de-chunked by the server).
The parser decompresses (gzip/deflate, bounded), splits the multipart body, classifies each part the way
Antenna does, spools the large dumps to disk as they stream and hashes every dump (those kept in memory
in one call at the end). It raises ``Malformed`` (HTTP 400, ``Discarded=malformed_<code>``) or ``TooLarge``
(HTTP 413) as soon as a defect is certain, and nothing else for any input
(``tests/collector/test_payload_fuzz.py``).

Where we differ from Antenna, on purpose (see the collector protocol notes, §1.2 and §5):

* More lenient: the media type is compared case-insensitively and ``boundary`` may be any parameter;
  ``Content-Encoding`` ``gzip``/``x-gzip``/``deflate`` in any case; a body may also be a bare minidump
  (``application/octet-stream``, ``application/x-dmp``, ``application/x-minidump``) with annotations in
  the query string (Sentry/Backtrace style); Breakpad-Mac/Windows multi-file bodies parse correctly.
* Stricter, as the Socorro crash-report spec says: a JSON ``extra`` part *and* form fields →
  ``has_json_and_kv`` (Antenna only notes it); two JSON parts → ``multiple_json`` (Antenna keeps the last).
* A text part's charset is honoured only from an allow-list of text charsets (``_TEXT_CHARSETS``); a codec
  Python has that is not on it (punycode, zlib, base64, ...) → ``unsupported_charset`` without running it. An
  unknown charset name only drops the field with a note, as in Antenna.
* Bounded: wire size, decompressed size (a gzip bomb stops after ``max_decompressed_size`` bytes of output),
  annotation count and length, JSON size (and the same budget for all form-field annotations together),
  dump and part counts, part header size. Memory: dumps share one in-memory budget of
  ``dump_spool_threshold`` bytes (the dump that would pass it is spooled; what is kept may be views of the
  body's chunks, never more than 4/3 of the bytes counted), annotations stay within ``max_json_size``, and
  everything else is a few chunks.
* Bounded in CPU too: inflating and splitting one request may take ``collector_parse_budget`` seconds
  (``too_large_parse_time`` past it), and ``feed_steps`` hands the caller's event loop back every ``_SLICE`` of
  CPU, so a body crafted to be slow (a bomb of boundary lookalikes under the size limit) stalls no one else.
* Android's last field arrives with a trailing CRLF (its closing delimiter repeats one); it is stripped,
  with a note (Antenna keeps it).

The constructor never raises: a bad Content-Type or Content-Encoding is raised by the first ``feed()`` or by
``finish()``, so the caller can keep one ``try`` around the body loop.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qsl

from crashcart.collector.multipart import (
    MAX_BOUNDARY_LENGTH,
    MultipartError,
    MultipartParser,
    PartHeaders,
    WholePart,
    parse_params,
)
from crashcart.collector.refusals import Malformed, Refusal, TooLarge
from crashcart.storage.interfaces import DumpFile
from crashcart.storage.keys import MAIN_DUMP, is_dump_name

if TYPE_CHECKING:
    from crashcart.settings import Settings

__all__ = [
    "MALFORMED_CODES",
    "MULTIPART_TYPES",
    "RAW_DUMP_TYPES",
    "TOO_LARGE_LIMITS",
    "Limits",
    "Malformed",
    "Payload",
    "PayloadParser",
    "Refusal",
    "TooLarge",
    "sanitize_dump_name",
]

# Views of the refusal table (``crashcart.collector.refusals``) by family, keyed by the parser's short code.
MALFORMED_CODES: dict[str, str] = {r.code: r.description for r in Refusal if r.status == 400}
TOO_LARGE_LIMITS: dict[str, str] = {r.code: r.description for r in Refusal if r.status == 413}

MULTIPART_TYPES = frozenset({"multipart/form-data", "multipart/mixed"})
RAW_DUMP_TYPES = frozenset({"application/octet-stream", "application/x-dmp", "application/x-minidump"})

_OUT_CHUNK = 256 * 1024  # most bytes one zlib call may produce (and a step of ``feed_steps``)
# CPU seconds ``feed_steps`` may run before it yields to its caller's event loop. One step (a zlib output
# chunk, parsed) costs at most ~4 ms even on a hostile body (bench/payload/bench_lookalikes.py).
_SLICE = 0.005
_IN_CHUNK = 64 * 1024  # input slice per zlib call, so ``unconsumed_tail`` copies stay small
_MAX_NOTES = 100
_NOTE_NAME_MAX = 100
_DUMP_NAME_MAX = 30
_DUMP_NAME_RE = re.compile(r"[^A-Za-z0-9_]+")
_SURROGATE_ESCAPE_RE = re.compile(rb"\\[uU][dD][89a-fA-F]")
_GZIP_MAGIC = b"\x1f\x8b"
# Charsets a text part may name, as ``codecs.lookup(name).name`` spells them (so every alias is covered): the
# text charsets clients really send, each decoded by a C codec in linear time. Python knows other codecs that
# must never see a client's bytes: punycode and idna decode in super-linear time (1 MiB of punycode took
# ~30 s), zlib/bz2/base64/uu/hex/quopri are bytes-to-bytes (a zlib "charset" is a decompression bomb), rot13
# is str-to-str, and the escape codecs and UTF-7 can make unpaired surrogates.
_TEXT_CHARSETS = frozenset(
    {"utf-8", "utf-8-sig", "ascii", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
    | {f"iso8859-{n}" for n in (*range(1, 12), *range(13, 17))}
    | {f"cp{n}" for n in (*range(1250, 1259), 874, 932, 949, 950)}
    | {"koi8-r", "koi8-u", "shift_jis", "euc_jp", "euc_kr", "gbk", "gb2312", "gb18030", "big5"}
)
# A charset name longer than this, or with other characters, is not looked up (it is unknown).
_CHARSET_NAME_RE = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
# The Content-Type nearly every client sends, with a boundary of RFC 2046 characters (no space): what
# ``parse_params`` would make of it is then plain. Anything else takes the general path.
_FORM_DATA_RE = re.compile(rf"multipart/form-data; boundary=([0-9A-Za-z'()+_,./:=?-]{{1,{MAX_BOUNDARY_LENGTH}}})")


@dataclass(frozen=True)
class Limits:
    """The bounds one request must stay within (from ``Settings``; see there for each one's meaning)."""

    max_request_size: int
    max_decompressed_size: int
    max_annotations: int
    max_annotation_size: int
    max_json_size: int
    max_dumps: int
    max_parts: int
    dump_spool_threshold: int
    collector_parse_budget: float | None = None  # CPU seconds for inflating and splitting; None: no limit

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_request_size=settings.max_request_size,
            max_decompressed_size=settings.max_decompressed_size,
            max_annotations=settings.max_annotations,
            max_annotation_size=settings.max_annotation_size,
            max_json_size=settings.max_json_size,
            max_dumps=settings.max_dumps,
            max_parts=settings.max_parts,
            dump_spool_threshold=settings.dump_spool_threshold,
            collector_parse_budget=settings.collector_parse_budget,
        )


@dataclass
class Payload:
    """A parsed crash report. Spooled dumps (``DumpFile.path``) now belong to the caller."""

    annotations: dict[str, Any]  # text fields as str; JSON extra values as-is
    dumps: list[DumpFile]  # sanitized names, sha256 and size computed while streaming
    notes: list[str]  # collector notes: non-fatal anomalies, kept in the raw crash
    kind: str  # "multipart" | "json" | "raw"
    compressed: bool
    wire_size: int  # bytes received on the wire
    body_size: int  # bytes after decompression


def sanitize_dump_name(name: str) -> str:
    """Keep ``[A-Za-z0-9_]``, at most 30 characters (Antenna's rule): ``app.log`` → ``applog``."""
    if name.isascii() and name.isidentifier():  # only [A-Za-z0-9_] already (the common case)
        return name[:_DUMP_NAME_MAX]
    return _DUMP_NAME_RE.sub("", name)[:_DUMP_NAME_MAX]


def _short(name: str) -> str:
    return name if len(name) <= _NOTE_NAME_MAX else name[:_NOTE_NAME_MAX] + "…"


class _Notes:
    """Collector notes, bounded so a hostile body cannot grow them without limit."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.dropped = 0

    def add(self, note: str) -> None:
        if len(self.items) < _MAX_NOTES:
            self.items.append(note)
        else:
            self.dropped += 1

    def result(self) -> list[str]:
        if self.dropped:
            return [*self.items, f"{self.dropped} more collector notes omitted"]
        return list(self.items)


class _MemoryBudget:
    """Bytes of dump data held in memory across all dumps of one request (at most the spool threshold)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0


class _Spool:
    """The spool files of one request, so they can all be removed on the error path."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = directory
        self.paths: list[Path] = []

    def create(self) -> tuple[IO[bytes], Path]:
        directory = Path(self.directory)
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix="crashcart-dump-", suffix=".part")
        path = Path(name)
        self.paths.append(path)
        try:
            return os.fdopen(fd, "wb"), path
        except BaseException:
            os.close(fd)
            raise

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def remove_all(self) -> None:
        for path in self.paths:
            path.unlink(missing_ok=True)
        self.paths.clear()


class _Sink:
    """Receives one part's bytes: ``bytes``, or read-only views of immutable buffers, which may be kept."""

    def write(self, data: bytes | memoryview) -> None:
        pass

    def abort(self) -> None:
        pass


class _Skip(_Sink):
    """A part we drop (nameless, or a text field squatting on the minidump's name)."""


class _TextSink(_Sink):
    """A form-field annotation arriving in pieces: buffered up to the limit (plus a CRLF that may be
    stripped), then ignored. (A field that arrives whole needs no sink: ``_Report.whole_parts``.)"""

    def __init__(self, name: str, charset: str | None, limit: int) -> None:
        self.name = name
        self.charset = charset
        self.limit = limit + 2
        self.buf = bytearray()
        self.too_long = False

    def write(self, data: bytes | memoryview) -> None:
        if self.too_long:
            return
        if len(self.buf) + len(data) > self.limit:
            self.too_long = True
            self.buf = bytearray()
            return
        self.buf += data

    def value(self) -> bytes | None:
        """The bytes received, or None when they passed the limit."""
        return None if self.too_long else bytes(self.buf)


class _JsonSink(_Sink):
    """The JSON ``extra`` part: buffered up to ``max_json_size``, else ``TooLarge(Refusal.TOO_LARGE_JSON)`` at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.buf = bytearray()

    def write(self, data: bytes | memoryview) -> None:
        if len(self.buf) + len(data) > self.limit:
            raise TooLarge(Refusal.TOO_LARGE_JSON, f"JSON part over {self.limit} bytes")
        self.buf += data


class _DumpSink(_Sink):
    """A dump: kept in memory within the request's budget, else spooled to a file (hashed as it streams).

    In memory it is the list of pieces received (views of the body's chunks when ``multipart._slice`` could
    share them), joined once at the end (a dump that arrived in one piece is not copied at all) and hashed
    in one call.
    """

    def __init__(self, name: str, budget: _MemoryBudget, spool: _Spool) -> None:
        self.name = name
        self._budget = budget
        self._spool = spool
        self._size = 0
        self._pieces: list[bytes | memoryview] = []
        self._held = 0  # bytes in ``_pieces``, counted in the budget
        self._hash: Any = None  # the running sha256, once spooling
        self._file: IO[bytes] | None = None
        self._path: Path | None = None

    def write(self, data: bytes | memoryview) -> None:
        size = len(data)
        self._size += size
        if self._file is None:
            budget = self._budget
            if budget.used + size <= budget.limit:
                self._pieces.append(data)  # immutable: bytes, or a view of bytes (``multipart._slice``)
                self._held += size
                budget.used += size
                return
            self._file, self._path = self._spool.create()
            self._hash = hashlib.sha256()
            for piece in self._pieces:
                self._hash.update(piece)
                self._file.write(piece)
            budget.used -= self._held
            self._pieces = []
            self._held = 0
        self._hash.update(data)
        self._file.write(data)

    def close(self) -> DumpFile:
        if self._file is not None:
            self._file.close()
            assert self._path is not None
            return DumpFile(self.name, self._size, self._hash.hexdigest(), path=self._path)
        data = b"".join(self._pieces)
        self._pieces = []
        return DumpFile(self.name, self._size, hashlib.sha256(data).hexdigest(), data=data)

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._path is not None:
            self._spool.remove(self._path)
        self._budget.used -= self._held
        self._pieces = []
        self._held = 0


class _Inflater:
    """Streaming gzip/deflate with bounded output per call; concatenated gzip members are read in turn."""

    def __init__(self, encoding: str) -> None:
        self.gzip = encoding == "gzip"
        self._d: Any = None  # zlib decompressobj of the member in progress
        self._pending = b""  # bytes seen between members (or before the first), not yet classified
        self.members = 0
        self.trailing = 0  # bytes ignored after the compressed stream

    def _start(self, data: bytes) -> bool:
        """Start the next member from ``data``'s first bytes; False when more bytes are needed to decide."""
        if len(data) < 2:
            return False
        if self.gzip:
            if not data.startswith(_GZIP_MAGIC):
                if self.members == 0:
                    raise Malformed(Refusal.BAD_GZIP, "the body does not start with the gzip magic")
                self.trailing += len(data)
                return True
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:
            if self.members > 0:
                self.trailing += len(data)
                return True
            # "deflate" means a zlib stream (RFC 9110), but raw deflate is common in the wild: sniff.
            zlib_header = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._d = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        return True

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decompressed bytes, at most ``_OUT_CHUNK`` at a time, so the caller can stop a bomb early."""
        for offset in range(0, len(data), _IN_CHUNK):
            yield from self._feed_slice(data[offset : offset + _IN_CHUNK])

    def _feed_slice(self, data: bytes) -> Iterator[bytes]:
        while True:
            if self._d is None:
                if self.trailing:
                    self.trailing += len(data)
                    return
                data = self._pending + data
                self._pending = b""
                if not data:
                    return
                if not self._start(data):
                    self._pending = data
                    return
                if self._d is None:  # trailing bytes after the stream
                    return
            try:
                out = self._d.decompress(data, _OUT_CHUNK)
            except zlib.error as exc:
                raise Malformed(Refusal.BAD_GZIP, str(exc)) from None
            if out:
                yield out
            if self._d.eof:
                self.members += 1
                data = self._d.unused_data
                self._d = None
                continue
            data = self._d.unconsumed_tail
            if not data and len(out) < _OUT_CHUNK:
                return

    def finish(self) -> None:
        if self._d is not None:
            raise Malformed(Refusal.BAD_GZIP, "the compressed stream is truncated")
        if self._pending:
            if self.members == 0:
                raise Malformed(Refusal.BAD_GZIP, "the body is too short to be compressed data")
            self.trailing += len(self._pending)
            self._pending = b""


class _Report:
    """What the body says so far: annotations, dumps and notes, from its parts (or a raw dump and its query).

    This is the ``multipart.PartHandler`` that ``MultipartParser`` calls, part by part; it decides what each
    part is (the rules in the module docstring), checks the content limits and fills the payload's fields.
    """

    def __init__(self, limits: Limits, spool: _Spool) -> None:
        self.limits = limits
        self.spool = spool
        self.budget = _MemoryBudget(limits.dump_spool_threshold)
        self.notes = _Notes()
        self.annotations: dict[str, Any] = {}
        self.dumps: dict[str, DumpFile] = {}
        self.kind = "multipart"
        self.sink: _Sink | None = None  # the part being received (or the raw body's dump)
        self._json_seen = False
        self._kv_seen = False
        self._annotation_bytes = 0
        self._max_annotation_size = limits.max_annotation_size
        self._max_annotations = limits.max_annotations
        self._max_json = limits.max_json_size

    def whole_parts(self, parts: list[WholePart]) -> None:
        """Parts that arrived complete: for each, the same as ``begin_part``, ``part_data``, ``end_part``."""
        limit = self._max_annotation_size
        max_json = self._max_json
        main_dump = MAIN_DUMP
        # State the plain-field case reads, kept in locals (only ``_whole_part`` changes it on the object).
        annotations = self.annotations
        free = self._max_annotations - len(annotations)  # annotations that may still be added
        used = self._annotation_bytes
        json_seen = self._json_seen
        kv_seen = self._kv_seen
        for headers, field, data, last in parts:
            if field is not None and not last and not json_seen and field != main_dump:
                # A plain form field, the common case, without a sink: ``begin_part`` would make a
                # ``_TextSink`` (no other check applies). When the value is short enough and UTF-8, and fits
                # the limits, ``_store_text`` and ``store_annotation`` would keep it and note nothing.
                size = len(data)
                if size <= limit:
                    try:
                        value = data.decode()
                    except UnicodeDecodeError:
                        value = None  # ``_whole_part`` notes it
                    if value is not None:
                        size += used + len(field)
                        if free > 0 and size <= max_json and field not in annotations:
                            if not kv_seen:
                                self._kv_seen = kv_seen = True
                            used = size
                            annotations[field] = value
                            free -= 1
                            continue
            # Everything else, with its notes and errors.
            self._annotation_bytes = used
            self._whole_part(headers, data, last)
            annotations = self.annotations
            free = self._max_annotations - len(annotations)
            used = self._annotation_bytes
            json_seen = self._json_seen
            kv_seen = self._kv_seen
        self._annotation_bytes = used

    def _whole_part(self, headers: PartHeaders, data: bytes, last: bool) -> None:
        name = headers.name
        ctype = headers.content_type
        if (
            not name
            or headers.filename
            or name == MAIN_DUMP
            or (ctype is not None and not ctype.startswith("text/plain"))
        ):
            self.begin_part(headers)
            if data:
                self.part_data(data)
            self.end_part(last)
            return
        # A form field without a sink: ``begin_part``'s checks, then ``end_part``'s.
        if self._json_seen:
            raise Malformed(Refusal.HAS_JSON_AND_KV, f"form field {_short(name)!r} after a JSON part")
        self._kv_seen = True
        self._store_text(name, headers.charset, data, last)

    def begin_part(self, headers: PartHeaders) -> None:
        name = headers.name
        ctype = headers.content_type
        limits = self.limits
        if not name:
            self.notes.add("part without a name dropped")
            self.sink = _Skip()
        elif ctype is not None and ctype.startswith("application/json"):
            if self._json_seen:
                raise Malformed(Refusal.MULTIPLE_JSON, f"second JSON part {_short(name)!r}")
            if self._kv_seen:
                raise Malformed(Refusal.HAS_JSON_AND_KV, f"JSON part {_short(name)!r} after form fields")
            self._json_seen = True
            self.sink = _JsonSink(limits.max_json_size)
        elif (ctype is None or ctype.startswith("text/plain")) and not headers.filename:
            if name == MAIN_DUMP:
                self.notes.add(f"text field {MAIN_DUMP} dropped: that name is reserved for the minidump")
                self.sink = _Skip()
                return
            if self._json_seen:
                raise Malformed(Refusal.HAS_JSON_AND_KV, f"form field {_short(name)!r} after a JSON part")
            self._kv_seen = True
            self.sink = _TextSink(name, headers.charset, limits.max_annotation_size)
        else:
            dump_name = sanitize_dump_name(name)
            if not is_dump_name(dump_name):
                raise Malformed(Refusal.INVALID_DUMP_NAME, f"file part name {_short(name)!r}")
            if dump_name != name:
                self.notes.add(f"dump name {_short(name)!r} sanitized to {dump_name}")
            shown = ctype if ctype is not None else "text/plain"
            if shown != "application/octet-stream":
                self.notes.add(f"unknown content type: {_short(name)} {_short(shown)}")
            previous = self.dumps.pop(dump_name, None)
            if previous is not None:
                self.notes.add(f"duplicate dump {dump_name}: the last one is kept")
                if previous.path is not None:
                    self.spool.remove(previous.path)
                else:
                    self.budget.used -= previous.size
            elif len(self.dumps) >= limits.max_dumps:
                raise Malformed(Refusal.TOO_MANY_DUMPS, f"more than {limits.max_dumps} dumps")
            self.sink = _DumpSink(dump_name, self.budget, self.spool)

    def part_data(self, data: bytes | memoryview) -> None:
        assert self.sink is not None
        self.sink.write(data)

    def end_part(self, last: bool) -> None:
        sink = self.sink
        self.sink = None
        if isinstance(sink, _TextSink):
            self._store_text(sink.name, sink.charset, sink.value(), last)
        elif isinstance(sink, _JsonSink):
            self._end_json(sink)
        elif isinstance(sink, _DumpSink):
            self.end_dump(sink)

    def end_dump(self, sink: _DumpSink) -> None:
        dump = sink.close()
        self.dumps[dump.name] = dump

    def _store_text(self, name: str, charset: str | None, raw: bytes | None, last: bool) -> None:
        """A form field's bytes (None: they passed ``max_annotation_size`` + 2 while arriving) → annotation."""
        limit = self._max_annotation_size
        if raw is not None and len(raw) > limit + 2:
            raw = None  # what ``_TextSink`` makes of them
        if raw is not None and last and raw.endswith(b"\r\n"):
            # Android writes "value\r\n" then "\r\n--boundary--": the last value keeps one CRLF too many.
            raw = raw[:-2]
            self.notes.add(f"annotation {_short(name)}: trailing CRLF of the last part stripped")
        if raw is None or len(raw) > limit:
            self.notes.add(f"annotation {_short(name)} dropped: longer than {limit} bytes")
            return
        codec = _text_codec(charset) if charset is not None else "utf-8"
        if codec is None:
            assert charset is not None
            self.notes.add(f"annotation {_short(name)} dropped: unknown charset {_short(charset)}")
            return
        charset = charset or "utf-8"
        try:
            value = raw.decode(codec)
            if codec != "utf-8":
                value.encode("utf-8")  # a UTF-16/32 part can hold a surrogate code point
        except ValueError:  # UnicodeDecodeError, UnicodeEncodeError, and codec-specific errors
            self.notes.add(f"annotation {_short(name)} dropped: not valid {_short(charset)} text")
            return
        self.store_annotation(name, value, len(name) + len(raw))

    def store_annotation(self, name: str, value: str, size: int) -> None:
        """Keep one form-field annotation; ``size`` counts towards the request's annotation budget."""
        annotations = self.annotations
        if name in annotations:
            self.notes.add(f"duplicate annotation {_short(name)}: the last value is kept")
        elif len(annotations) >= self.limits.max_annotations:
            raise Malformed(Refusal.TOO_MANY_ANNOTATIONS, f"more than {self.limits.max_annotations}")
        self._annotation_bytes += size
        if self._annotation_bytes > self.limits.max_json_size:
            raise TooLarge(Refusal.TOO_LARGE_ANNOTATIONS, f"annotations over {self.limits.max_json_size} bytes in all")
        annotations[name] = value

    def _end_json(self, sink: _JsonSink) -> None:
        data = bytes(sink.buf)
        sink.buf = bytearray()
        try:
            value = json.loads(data, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
            raise Malformed(Refusal.INVALID_JSON, type(exc).__name__) from None
        if not isinstance(value, dict):
            raise Malformed(Refusal.INVALID_JSON_VALUE, type(value).__name__)
        if _SURROGATE_ESCAPE_RE.search(data):
            try:
                json.dumps(value, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise Malformed(Refusal.INVALID_JSON, "unpaired surrogate escape") from None
        if len(value) > self.limits.max_annotations:
            raise Malformed(Refusal.TOO_MANY_ANNOTATIONS, f"more than {self.limits.max_annotations}")
        self.annotations = value
        self.kind = "json"

    def discard(self) -> None:
        if self.sink is not None:
            self.sink.abort()
            self.sink = None
        self.spool.remove_all()
        self.dumps.clear()


class PayloadParser:
    """Parse one request body, fed in chunks. See the module docstring for the rules."""

    def __init__(
        self,
        content_type: str | None,
        content_encoding: str | None,
        limits: Limits,
        spool_dir: Path,
        query_string: str = "",
    ) -> None:
        self._limits = limits
        self._report = _Report(limits, _Spool(spool_dir))
        self._error: BaseException | None = None
        self._finished = False
        self._wire = 0
        self._body = 0
        self._cpu = 0.0  # CPU seconds spent in ``feed`` so far
        self._inflater: _Inflater | None = None
        self._multipart: MultipartParser | None = None
        try:
            self._setup(content_type, content_encoding, query_string)
        except (Malformed, TooLarge) as exc:
            self._error = exc

    # --- public ----------------------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        """Take the next piece of the body; raise ``Malformed``/``TooLarge`` as soon as one is certain."""
        for _ in self.feed_steps(chunk):
            pass

    def feed_steps(self, chunk: bytes) -> Iterator[None]:
        """``feed``, in steps: iterate to drive it. It yields whenever it has run ``_SLICE`` seconds of CPU since
        it started or last yielded, so a caller on an event loop can let other requests in between (a 64 KiB
        gzip chunk can inflate to 64 MiB). Raises ``TooLarge(TOO_LARGE_PARSE_TIME)`` once the request's CPU time in
        ``feed`` passes ``limits.collector_parse_budget``. Abandoning the iteration abandons the request (its spooled
        files are removed).
        """
        if self._error is not None:
            raise self._error
        if self._finished:
            raise RuntimeError("feed() after finish()")
        clock = time.thread_time  # CPU of this thread: what the event loop could not spend on others
        mark = slice_start = clock()
        try:
            if self._inflater is None:  # one step: a wire chunk's worth of parsing
                self._feed_plain(chunk)
            else:
                for _ in self._feed_compressed(chunk):
                    now = clock()
                    self._spend(now - mark)
                    mark = now
                    if now - slice_start >= _SLICE:
                        yield
                        mark = slice_start = clock()
            self._spend(clock() - mark)
        except GeneratorExit:
            self._fail(RuntimeError("feed abandoned"))
            raise
        except BaseException as exc:
            self._fail(exc)
            raise

    def _spend(self, seconds: float) -> None:
        self._cpu += seconds
        budget = self._limits.collector_parse_budget
        if budget is not None and self._cpu > budget:
            raise TooLarge(Refusal.TOO_LARGE_PARSE_TIME, f"over {budget} s of CPU inflating and splitting the body")

    def finish(self) -> Payload:
        """The body is complete: validate and return the payload (spooled files now belong to the caller)."""
        if self._error is not None:
            raise self._error
        if self._finished:
            raise RuntimeError("finish() called twice")
        try:
            payload = self._finish()
        except BaseException as exc:
            self._fail(exc)
            raise
        self._finished = True
        return payload

    def discard(self) -> None:
        """Remove every file this parser spooled, including those of a returned payload. Idempotent."""
        self._report.discard()

    def _feed_plain(self, chunk: bytes) -> None:
        """Parse ``chunk`` of an uncompressed body."""
        self._wire += len(chunk)
        if self._wire > self._limits.max_request_size:
            raise TooLarge(Refusal.TOO_LARGE_REQUEST, f"body over {self._limits.max_request_size} bytes")
        self._body += len(chunk)
        if self._multipart is not None:  # ``_content``, inlined for the common case
            try:
                self._multipart.feed_into(chunk, self._report)
            except MultipartError as exc:
                raise Malformed(exc.refusal, exc.detail) from None
        else:
            self._content(chunk)

    def _feed_compressed(self, chunk: bytes) -> Iterator[None]:
        """Parse ``chunk`` of a compressed body; yields after each piece of decompressed output (a step
        ``feed_steps`` may pause at)."""
        assert self._inflater is not None
        self._wire += len(chunk)
        if self._wire > self._limits.max_request_size:
            raise TooLarge(Refusal.TOO_LARGE_REQUEST, f"body over {self._limits.max_request_size} bytes")
        limit = self._limits.max_decompressed_size
        for out in self._inflater.feed(chunk):
            self._body += len(out)
            if self._body > limit:
                raise TooLarge(Refusal.TOO_LARGE_DECOMPRESSED, f"decompressed body over {limit} bytes")
            self._content(out)
            yield

    # --- setup -----------------------------------------------------------------------------------------

    def _setup(self, content_type: str | None, content_encoding: str | None, query_string: str) -> None:
        if content_type is None or not content_type.strip():
            raise Malformed(Refusal.NO_CONTENT_TYPE)
        common = _FORM_DATA_RE.fullmatch(content_type)
        media = "multipart/form-data" if common else content_type.partition(";")[0].strip().lower()
        if common:
            boundary = common.group(1)
            self._multipart = MultipartParser(boundary.encode("ascii"), max_parts=self._limits.max_parts)
        elif media in MULTIPART_TYPES:
            boundary = parse_params(content_type).get("boundary", "")
            if not boundary:
                raise Malformed(Refusal.NO_BOUNDARY)
            # isascii() and isprintable(): every character in " "…"~"
            if len(boundary) > MAX_BOUNDARY_LENGTH or not (boundary.isascii() and boundary.isprintable()):
                raise Malformed(Refusal.BAD_BOUNDARY)
            self._multipart = MultipartParser(boundary.encode("ascii"), max_parts=self._limits.max_parts)
        elif media in RAW_DUMP_TYPES:
            report = self._report
            report.kind = "raw"
            report.sink = _DumpSink(MAIN_DUMP, report.budget, report.spool)
            self._query_annotations(query_string)
        else:
            raise Malformed(Refusal.WRONG_CONTENT_TYPE, media)

        if not content_encoding:
            return
        encodings = [e.strip().lower() for e in content_encoding.split(",")]
        encodings = [e for e in encodings if e and e != "identity"]
        if len(encodings) > 1 or (encodings and encodings[0] not in ("gzip", "x-gzip", "deflate")):
            raise Malformed(Refusal.UNSUPPORTED_ENCODING, ", ".join(encodings))
        if encodings:
            self._inflater = _Inflater("deflate" if encodings[0] == "deflate" else "gzip")

    def _query_annotations(self, query_string: str) -> None:
        """A raw minidump's annotations come from the URL (``?product=…&version=…``)."""
        for name, value in parse_qsl(query_string, keep_blank_values=True, errors="replace"):
            if not name:
                continue
            if len(value.encode("utf-8", "surrogatepass")) > self._limits.max_annotation_size:
                self._report.notes.add(
                    f"annotation {_short(name)} dropped: longer than {self._limits.max_annotation_size} bytes"
                )
                continue
            self._report.store_annotation(name, value, len(name) + len(value))

    # --- body ------------------------------------------------------------------------------------------

    def _content(self, data: bytes) -> None:
        if self._multipart is None:
            sink = self._report.sink
            assert sink is not None
            sink.write(data if type(data) is bytes else bytes(data))  # sinks may keep what they get
            return
        try:
            self._multipart.feed_into(data, self._report)
        except MultipartError as exc:
            raise Malformed(exc.refusal, exc.detail) from None

    def _finish(self) -> Payload:
        report = self._report
        if self._wire == 0:
            raise Malformed(Refusal.EMPTY_BODY)
        if self._inflater is not None:
            self._inflater.finish()
            if self._inflater.trailing:
                report.notes.add(f"{self._inflater.trailing} bytes after the compressed body ignored")
        if self._body == 0:
            raise Malformed(Refusal.EMPTY_BODY, "the body decompresses to nothing")
        if self._multipart is not None:
            try:
                self._multipart.finish()
            except MultipartError as exc:
                raise Malformed(exc.refusal, exc.detail) from None
            if not report.annotations:
                raise Malformed(Refusal.NO_ANNOTATIONS)
        else:
            assert isinstance(report.sink, _DumpSink)
            sink = report.sink
            report.sink = None
            report.end_dump(sink)
        return Payload(
            annotations=report.annotations,
            dumps=list(report.dumps.values()),
            notes=report.notes.result(),
            kind=report.kind,
            compressed=self._inflater is not None,
            wire_size=self._wire,
            body_size=self._body,
        )

    def _fail(self, exc: BaseException) -> None:
        """Remember the error (later calls raise it again) and remove whatever was spooled."""
        self._error = exc
        self.discard()


def _text_codec(charset: str) -> str | None:
    """The codec for a text part's ``charset`` (canonical name), None when Python knows no such codec.

    Raises ``Malformed(UNSUPPORTED_CHARSET)`` for a codec Python knows but that is not on ``_TEXT_CHARSETS``:
    the lookup only finds the codec, it never runs it, so a hostile charset costs nothing.
    """
    if _CHARSET_NAME_RE.fullmatch(charset) is None:
        return None
    try:
        codec = codecs.lookup(charset).name
    except LookupError:
        return None
    if codec not in _TEXT_CHARSETS:
        raise Malformed(Refusal.UNSUPPORTED_CHARSET, f"charset {_short(charset)} ({codec})")
    return codec


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")
