"""Every way the collector refuses a report, declared once: the ``Discarded=`` reason, the HTTP status, what it means.

The parser, the multipart splitter and the request handler refuse only with a member of ``Refusal`` (the
exceptions and the handler take nothing else), ``docs/collector-refusals.md`` is rendered from this table, and
``tests/collector/test_refusals.py`` fails when a ``Discarded=`` reason is spelled anywhere else in the
collector, or when an entry is declared but never used. A client (or an operator reading metrics, where the
reason is the ``reason`` label of ``crashcart_collector_rejected_total``) can rely on this list being complete.
"""

from __future__ import annotations

from enum import Enum

from crashcart.errors import CrashcartError
from crashcart.storage.keys import RESERVED_DUMP_NAMES


class Refusal(Enum):
    """One refusal: ``reason`` (the body after ``Discarded=``), ``status`` and ``description``.

    ``THROTTLED``'s reason is a pattern, ``rule_{rule}``, filled in with the deciding rule's name.
    """

    reason: str
    status: int
    description: str

    def __init__(self, reason: str, status: int, description: str) -> None:
        self.reason = reason
        self.status = status
        self.description = description

    def discarded(self, **fields: str) -> str:
        """The reason as sent and counted (``fields`` fill a pattern reason: ``rule_{rule}``)."""
        return self.reason.format(**fields) if fields else self.reason

    @staticmethod
    def body(reason: str) -> bytes:
        """The response body for a reason ``discarded`` made: the one place the wire format is spelled."""
        return b"Discarded=" + reason.encode()

    @property
    def pattern(self) -> str:
        """The reason as documented: ``rule_<rule>`` for a pattern."""
        return self.reason.replace("{", "<").replace("}", ">")

    @property
    def code(self) -> str:
        """The reason without its ``malformed_`` / ``too_large_`` family prefix (what the parser reports)."""
        return self.reason.removeprefix("malformed_").removeprefix("too_large_")

    # --- 400: the request is not a crash report we can read (the client should not retry) -------------
    # request headers
    NO_CONTENT_TYPE = ("malformed_no_content_type", 400, "The request has no Content-Type header.")
    WRONG_CONTENT_TYPE = (
        "malformed_wrong_content_type",
        400,
        "The Content-Type is not multipart/form-data, multipart/mixed or a raw minidump type "
        "(application/octet-stream, application/x-dmp, application/x-minidump).",
    )
    NO_BOUNDARY = (
        "malformed_no_boundary",
        400,
        "The multipart Content-Type has no boundary parameter, or an empty one.",
    )
    BAD_BOUNDARY = (
        "malformed_bad_boundary",
        400,
        "The boundary is longer than 200 characters or has characters outside printable ASCII.",
    )
    UNSUPPORTED_ENCODING = (
        "malformed_unsupported_encoding",
        400,
        "The Content-Encoding is not gzip, x-gzip, deflate or identity.",
    )
    # body framing
    EMPTY_BODY = ("malformed_empty_body", 400, "The request body is empty (or decompresses to nothing).")
    BAD_GZIP = (
        "malformed_bad_gzip",
        400,
        "The body is not valid gzip/deflate data, or the compressed stream is truncated.",
    )
    BOUNDARY_NOT_FOUND = (
        "malformed_boundary_not_found",
        400,
        "The body never contains the boundary declared in the Content-Type.",
    )
    INVALID_PAYLOAD_STRUCTURE = (
        "malformed_invalid_payload_structure",
        400,
        "A multipart delimiter line does not end in CRLF (for example LF-only line endings).",
    )
    BAD_PART_HEADERS = (
        "malformed_bad_part_headers",
        400,
        "A part's header block is malformed (a line without a colon, a bare CR or LF).",
    )
    PART_HEADERS_TOO_LARGE = (
        "malformed_part_headers_too_large",
        400,
        "A part's header block is longer than 8 KiB.",
    )
    TRUNCATED = ("malformed_truncated", 400, "The body ended before the closing multipart delimiter.")
    TOO_MANY_PARTS = ("malformed_too_many_parts", 400, "The body has more multipart parts than max_parts.")
    # content
    TOO_MANY_ANNOTATIONS = (
        "malformed_too_many_annotations",
        400,
        "The report has more annotations than max_annotations.",
    )
    TOO_MANY_DUMPS = ("malformed_too_many_dumps", 400, "The report has more file parts (dumps) than max_dumps.")
    MULTIPLE_JSON = ("malformed_multiple_json", 400, "The report has more than one JSON (application/json) part.")
    HAS_JSON_AND_KV = (
        "malformed_has_json_and_kv",
        400,
        "The report has both a JSON annotations part and form-field annotations.",
    )
    INVALID_JSON = (
        "malformed_invalid_json",
        400,
        "The JSON annotations part is not valid UTF-8 JSON (NaN/Infinity and unpaired surrogates included).",
    )
    INVALID_JSON_VALUE = (
        "malformed_invalid_json_value",
        400,
        "The JSON annotations part is valid JSON but not an object.",
    )
    INVALID_DUMP_NAME = (
        "malformed_invalid_dump_name",
        400,
        "A file part's name is empty after sanitizing to [A-Za-z0-9_] or is reserved, in any case: a directory "
        f"of the storage layout ({', '.join(sorted(RESERVED_DUMP_NAMES))}), where the part would replace "
        "another key.",
    )
    NO_ANNOTATIONS = ("malformed_no_annotations", 400, "The multipart report has no annotations at all.")
    UNSUPPORTED_CHARSET = (
        "malformed_unsupported_charset",
        400,
        "A text part's charset names a codec Python has but that is not a text charset clients send "
        "(punycode, idna, base64, zlib, bz2, rot13, unicode_escape, utf-7, ...): decoding it could take "
        "super-linear time or inflate a bomb. Accepted: UTF-8, ASCII, Latin-1 and the other ISO-8859 parts, "
        "UTF-16/32, the Windows code pages, KOI8, and the Chinese, Japanese and Korean charsets. An unknown "
        "name only drops the field, with a collector note.",
    )
    # raised by the request handler
    CLIENT_DISCONNECTED = (
        "malformed_client_disconnected",
        400,
        "The client went away before sending the whole body.",
    )
    INVALID_UUID = (
        "malformed_invalid_uuid",
        400,
        "A trusted resubmitter sent a `uuid` annotation that is not a crash id.",
    )
    UUID_DATE_MISMATCH = (
        "malformed_uuid_date_mismatch",
        400,
        "A resubmitted crash's id date differs from its `submitted_timestamp` date.",
    )
    HTTP_FRAMING = (
        "malformed_http_framing",
        400,
        "The request line or header block is not valid HTTP/1.x framing: Content-Length with "
        "Transfer-Encoding: chunked, a negative, non-numeric or repeated Content-Length, a bare CR or LF, an "
        "obs-folded header line, a control character in a header. Answered before the request is routed; the "
        "connection is closed.",
    )
    UNPARSEABLE = (
        "malformed_unparseable",
        400,
        "The parser failed unexpectedly (a bug: it is logged); the same bytes would fail again.",
    )

    # --- 413: over a size or parse-time limit (the client should not retry) ---------------------------
    TOO_LARGE_REQUEST = ("too_large_request", 413, "The body on the wire is larger than max_request_size.")
    TOO_LARGE_DECOMPRESSED = (
        "too_large_decompressed",
        413,
        "The decompressed body is larger than max_decompressed_size.",
    )
    TOO_LARGE_JSON = ("too_large_json", 413, "The JSON annotations part is larger than max_json_size.")
    TOO_LARGE_ANNOTATIONS = (
        "too_large_annotations",
        413,
        "The form-field (or query-string) annotations add up to more than max_json_size bytes, the budget a "
        "JSON annotations part gets.",
    )
    TOO_LARGE_PARSE_TIME = (
        "too_large_parse_time",
        413,
        "Inflating and splitting the body took more CPU than collector_parse_budget (a body crafted to be "
        "slow to parse: near-boundary lines, a compression bomb under the size limit). A 413, like the size "
        "limits, so the client does not retry: the same bytes would take as long again.",
    )

    # --- 431: the request head is over its size limit (the client should not retry) ---------------------
    TOO_LARGE_HEADERS = (
        "too_large_headers",
        431,
        "The request line and header fields add up to more than max_header_size bytes; the connection is "
        "closed without reading the rest.",
    )

    # --- the others ------------------------------------------------------------------------------------
    THROTTLED = (
        "rule_{rule}",
        200,
        "A throttle rule rejected the report (`rule_no_match` when no rule decided and the default is reject). "
        "A 200, so the client does not retry; see docs/throttle-rules.md.",
    )
    UNAUTHORIZED_UUID = (
        "unauthorized_uuid",
        401,
        "A `uuid` annotation (a client choosing its crash id) without the resubmitter's bearer token.",
    )
    BODY_TIMEOUT = ("body_timeout", 408, "The client stopped sending its body for longer than body_timeout.")
    HEADER_TIMEOUT = (
        "header_timeout",
        408,
        "The client took longer than header_timeout to send a request's head (from the connection's start or "
        "its previous response); the connection is closed. One that sent nothing is closed without an answer.",
    )
    STORAGE_UNAVAILABLE = (
        "storage_unavailable",
        503,
        "Storage could not take the report; sent with Retry-After. The only refusal a client should retry.",
    )


class Refused(CrashcartError):
    """The request is refused for ``refusal``: its status and ``Discarded=`` reason come from the table."""

    code = "refused"

    def __init__(self, refusal: Refusal, detail: str = "") -> None:
        super().__init__(f"{refusal.code}: {detail}" if detail else refusal.code)
        self.refusal = refusal
        self.detail = detail


class Malformed(Refused):
    """The request is not a crash report we can read (HTTP 400 ``Discarded=malformed_<code>``)."""

    def __init__(self, refusal: Refusal, detail: str = "") -> None:
        if refusal.status != 400:
            raise ValueError(f"{refusal} is not a 400 refusal")
        super().__init__(refusal, detail)
        self.code = refusal.code


class TooLarge(Refused):
    """The request passes a size limit (HTTP 413 ``Discarded=too_large_<limit>``)."""

    code = "too_large"

    def __init__(self, refusal: Refusal, detail: str = "") -> None:
        if refusal.status != 413:
            raise ValueError(f"{refusal} is not a 413 refusal")
        super().__init__(refusal, detail)
        self.limit = refusal.code
