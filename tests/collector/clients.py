"""Byte-exact crash-report requests, as each real crash reporter sends them.

Each builder reproduces one client's wire format from its source (see the collector protocol notes, §2):
boundary shape, part order, header spelling, name escaping, filename, CRLF quirks, compression, framing. A
``Request`` also carries what a correct collector must make of it (annotations, dumps, notes), so the same
builders drive the parser tests here and the HTTP-level tests of the app::

    from tests.collector.clients import CLIENTS, build     # or: from .clients import ...
    for client in CLIENTS:
        req = build(client)                                # defaults: SAMPLE_DUMP, client-typical fields
        send(req.headers, req.body, query=req.query, chunked=req.chunked)
        assert stored_annotations == req.expected_annotations

Builders are deterministic for a given ``seed`` (boundaries, ids).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import string
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

# A fake minidump: the MDMP header, then bytes chosen to trip naive parsers (CRLFs, dash runs that look like
# delimiters, a blank line). It does not end in CRLF: Breakpad-Mac/Windows send no CRLF after a file, and a
# collector cannot tell a file's own final CRLF from a separator (see multipart.py).
SAMPLE_DUMP = (
    b"MDMP\x93\xa7\x00\x00"
    + struct.pack("<IIII", 13, 32, 0, 1700000000)
    + b"\r\n--\r\n------------------------\r\n\r\n--not-the-boundary--\r\n"
    + bytes(range(256)) * 16
    + random.Random(1).randbytes(4096)
    + b"\x00\x01"
)
SAMPLE_LOG = b"BZh91AY&SY" + random.Random(2).randbytes(2000) + b"\x00"
SAMPLE_MEMORY_REPORT = gzip.compress(b'{"version": 1, "reports": []}', mtime=0)


@dataclass(frozen=True)
class Part:
    """One multipart part, spelled the way a client writes it."""

    name: str | None
    data: bytes
    filename: str | None = None
    content_type: str | None = None
    quote_name: bool = True  # Android writes ``name=Key`` without quotes
    crlf_after: bool = True  # Breakpad-Mac/Windows write no CRLF between a file and the next delimiter
    extra_headers: tuple[str, ...] = ()


def multipart_body(
    parts: Sequence[Part],
    boundary: str,
    *,
    preamble: bytes = b"",
    close_prefix: bytes = b"",
    close_suffix: bytes = b"\r\n",
    epilogue: bytes = b"",
) -> bytes:
    """Assemble a multipart body. ``close_prefix`` goes before the closing ``--boundary--`` (Android, Mac)."""
    out = [preamble]
    dash = b"--" + boundary.encode("ascii")
    for part in parts:
        lines = []
        disposition = "Content-Disposition: form-data"
        if part.name is not None:
            disposition += f'; name="{part.name}"' if part.quote_name else f"; name={part.name}"
        if part.filename is not None:
            disposition += f'; filename="{part.filename}"'
        lines.append(disposition)
        if part.content_type is not None:
            lines.append(f"Content-Type: {part.content_type}")
        lines.extend(part.extra_headers)
        out.append(dash + b"\r\n" + "\r\n".join(lines).encode("utf-8") + b"\r\n\r\n")
        out.append(part.data)
        if part.crlf_after:
            out.append(b"\r\n")
    out.append(close_prefix + dash + b"--" + close_suffix + epilogue)
    body = b"".join(out)
    for part in parts:
        assert dash not in part.data, "a part's data contains the boundary; pick another seed"
    return body


@dataclass(frozen=True)
class Request:
    """One client's request, and what the collector must make of it."""

    client: str
    content_type: str | None
    content_encoding: str | None
    body: bytes
    query: str = ""
    user_agent: str | None = None
    chunked: bool = False  # sent with Transfer-Encoding: chunked and no Content-Length (Crashpad)
    content_type_header: str = "Content-Type"  # Breakpad-Mac spells it ``Content-type``
    expected_annotations: Mapping[str, Any] = field(default_factory=dict)
    expected_dumps: Mapping[str, bytes] = field(default_factory=dict)
    expected_notes: tuple[str, ...] = ()
    expected_kind: str = "multipart"

    @property
    def headers(self) -> dict[str, str]:
        """The request headers the client sends (framing headers are the transport's business)."""
        headers = {}
        if self.content_type is not None:
            headers[self.content_type_header] = self.content_type
        if self.content_encoding is not None:
            headers["Content-Encoding"] = self.content_encoding
        if self.user_agent is not None:
            headers["User-Agent"] = self.user_agent
        return headers

    @property
    def expected_checksums(self) -> dict[str, str]:
        return {name: hashlib.sha256(data).hexdigest() for name, data in self.expected_dumps.items()}


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _gz(body: bytes) -> bytes:
    return gzip.compress(body, mtime=0)


def _rand8x2(rng: random.Random, high: int) -> str:
    """``%08X%08X`` of two ``rand()`` values below ``high``."""
    return f"{rng.randrange(high):08X}{rng.randrange(high):08X}"


# --- Breakpad --------------------------------------------------------------------------------------------


def breakpad_linux(dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random) -> Request:
    """``google_crashdump_uploader.cc`` over libcurl ``curl_formadd``: a std::map of fields (sorted), no part
    Content-Type, empty values sent, the dump with its basename and octet-stream, no User-Agent at all."""
    fields = (
        dict(annotations)
        if annotations is not None
        else {
            "prod": "MyApp",
            "ver": "1.0.3",
            "guid": _hex(rng, 32),
            "ptime": "4023",
            "ctime": "1732587698",
            "email": "",
            "comments_": "",  # sic
        }
    )
    boundary = "-" * 24 + _hex(rng, 16)
    parts = [Part(k, v.encode()) for k, v in sorted(fields.items())]
    parts.append(Part("upload_file_minidump", dump, f"{_uuid(rng)}.dmp", "application/octet-stream"))
    return Request(
        "breakpad_linux",
        f"multipart/form-data; boundary={boundary}",
        None,
        multipart_body(parts, boundary),
        expected_annotations=fields,
        expected_dumps={"upload_file_minidump": dump},
    )


def _breakpad_windows(
    dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random, *, legacy: bool
) -> Request:
    """``src/common/windows/http_upload.cc``: 27 dashes + ``%08X%08X`` of MSVC ``rand()`` (≤ 0x7FFF), fields
    sorted by key, the file part's filename is the full local path (backslashes, UTF-8). Since Breakpad
    commit c7acbcef (Nov 2022) no CRLF follows the file's bytes, not even before the closing delimiter;
    ``legacy`` is the older form with the CRLF."""
    fields = (
        dict(annotations)
        if annotations is not None
        else {
            "prod": "MyApp",
            "ver": "3.1.4.1592",
            "guid": _uuid(rng),
            "Comments": "It crashed when I pressed Save.\r\nTwice.",
        }
    )
    boundary = "-" * 27 + _rand8x2(rng, 0x8000)
    path = f"C:\\Users\\Jöhn Døe\\AppData\\Local\\MyApp\\Crash Reports\\{_uuid(rng)}.dmp"
    parts = [Part(k, v.encode()) for k, v in sorted(fields.items())]
    parts.append(Part("upload_file_minidump", dump, path, "application/octet-stream", crlf_after=legacy))
    return Request(
        "breakpad_windows_legacy" if legacy else "breakpad_windows",
        f"multipart/form-data; boundary={boundary}",
        None,
        multipart_body(parts, boundary),
        user_agent="Breakpad/1.0 (Windows)",
        expected_annotations=fields,
        expected_dumps={"upload_file_minidump": dump},
    )


def breakpad_windows(dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random) -> Request:
    return _breakpad_windows(dump, annotations, rng, legacy=False)


def breakpad_windows_legacy(dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random) -> Request:
    return _breakpad_windows(dump, annotations, rng, legacy=True)


_URL_QUERY_ALLOWED = "!$&'()*+,-./:;=?@_~"  # NSCharacterSet.URLQueryAllowedCharacterSet, besides alnum


def breakpad_mac(dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random) -> Request:
    """``HTTPMultipartUpload.m`` + ``HTTPRequest.m`` (server type ``google``): names percent-encoded, every
    file part named ``minidump.dmp`` and followed by no CRLF, so the ``log`` part's delimiter comes right
    after the dump's last byte; ``\\r\\n--b--\\r\\n`` at the end; the header spelled ``Content-type``."""
    fields = (
        dict(annotations)
        if annotations is not None
        else {
            "prod": "MyApp",
            "ver": "2.4",
            "guid": _hex(rng, 16).upper(),
            "ptime": "113",
            "email": "",
            "comments": "",
        }
    )
    boundary = "-" * 27 + _rand8x2(rng, 0x80000000)
    escaped = {quote(k, safe=_URL_QUERY_ALLOWED): v for k, v in fields.items()}
    parts = [Part(k, v.encode()) for k, v in escaped.items()]
    for name, data in (("upload_file_minidump", dump), ("log", SAMPLE_LOG)):
        parts.append(Part(name, data, "minidump.dmp", "application/octet-stream", crlf_after=False))
    query = urlencode({"product": fields.get("prod", ""), "version": fields.get("ver", "")})
    return Request(
        "breakpad_mac",
        f"multipart/form-data; boundary={boundary}",
        None,
        multipart_body(parts, boundary, close_prefix=b"\r\n"),
        query=query,
        user_agent="crash_report_sender/1 CFNetwork/1494.0.7 Darwin/23.4.0",
        content_type_header="Content-type",
        expected_annotations=escaped,
        expected_dumps={"upload_file_minidump": dump, "log": SAMPLE_LOG},
    )


# --- Crashpad and Electron -------------------------------------------------------------------------------


def _crashpad_escape(name: str) -> str:
    """``EncodeMIMEField``: ``\\r \\n " %`` become ``%0d %0a %22 %25``; nothing else is touched."""
    return "".join(f"%{ord(c):02x}" if c in '\r\n"%' else c for c in name)


def _crashpad_request(
    client: str,
    dump: bytes,
    fields: Mapping[str, str],
    attachments: Mapping[str, bytes],
    rng: random.Random,
) -> Request:
    """``http_multipart_builder.cc``: form fields first (std::map order), escaped names, no Content-Type;
    then attachments (``name == filename``) and the minidump (``<report uuid>.dmp``), octet-stream, each
    followed by CRLF; gzip; chunked; ``?product=&version=&guid=`` in the URL."""
    alnum = string.ascii_letters + string.digits
    boundary = "---MultipartBoundary-" + "".join(rng.choice(alnum) for _ in range(32)) + "---"
    parts = [Part(_crashpad_escape(k), v.encode()) for k, v in sorted(fields.items())]
    files = {
        name: Part(_crashpad_escape(name), data, _crashpad_escape(name), "application/octet-stream")
        for name, data in attachments.items()
    }
    files["upload_file_minidump"] = Part("upload_file_minidump", dump, f"{_uuid(rng)}.dmp", "application/octet-stream")
    parts.extend(files[key] for key in sorted(files))
    notes = []
    dumps = {"upload_file_minidump": dump}
    for name, data in sorted(attachments.items()):
        sanitized = "".join(c for c in name if c.isascii() and (c.isalnum() or c == "_"))[:30]
        dumps[sanitized] = data
        if sanitized != _crashpad_escape(name):
            notes.append(f"dump name {_crashpad_escape(name)!r} sanitized to {sanitized}")
    query = urlencode(
        {"product": fields.get("prod", ""), "version": fields.get("ver", ""), "guid": fields.get("guid", "")}
    )
    return Request(
        client,
        f"multipart/form-data; boundary={boundary}",
        "gzip",
        _gz(multipart_body(parts, boundary)),
        query=query,
        user_agent="Crashpad/0.8.0 libcurl/7.88.1 OpenSSL/3.0.15 zlib/1.2.13 Linux/6.1.0-26-amd64 (x86_64)",
        chunked=True,
        expected_annotations={_crashpad_escape(k): v for k, v in fields.items()},
        expected_dumps=dumps,
        expected_notes=tuple(notes),
    )


def crashpad(dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random) -> Request:
    fields = (
        dict(annotations)
        if annotations is not None
        else {
            "prod": "MyApp",
            "ver": "5.0.2",
            "plat": "Linux",
            "guid": _hex(rng, 32),
            "pid": "48213",
            "list_annotations": "gpu-active: 1\nnum-experiments: 3",
            'quote"and%percent': "escaped names arrive verbatim",
        }
    )
    return _crashpad_request("crashpad", dump, fields, {"app.log": b"line 1\nline 2\n"}, rng)


def electron(dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random) -> Request:
    """Electron's crashReporter on Crashpad (all platforms), ``compress: true`` (the default since v12)."""
    fields = {
        "prod": "Electron",
        "ver": "31.2.0",
        "_productName": "My Electron App",
        "_version": "1.8.0",
        "_companyName": "Example Co",
        "platform": "linux",
        "process_type": "renderer",
        "ptype": "renderer",
        "guid": _uuid(rng),
        "list_annotations": "",
    }
    fields.update(annotations if annotations is not None else {"user_id": "42", "release_stage": "beta"})
    return _crashpad_request("electron", dump, fields, {}, rng)


def chromium_linux(dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random) -> Request:
    """``components/crash/core/app/breakpad_linux.cc``: 26 dashes + 16 hex (separator lines show 28 dashes),
    quoted names, the dump as ``filename="dump"``, the whole body gzipped and posted by wget."""
    fields = (
        dict(annotations)
        if annotations is not None
        else {
            "prod": "Chrome_Linux",
            "ver": "126.0.6478.126",
            "pid": "31337",
            "ptime": "5821",
            "ptype": "browser",
            "lsb-release": "Debian GNU/Linux 12 (bookworm)",
            "oom-size": "0",
            "num-switches": "2",
        }
    )
    boundary = "-" * 26 + _hex(rng, 16)
    parts = [Part(k, v.encode()) for k, v in fields.items()]
    parts.append(Part("upload_file_minidump", dump, "dump", "application/octet-stream"))
    return Request(
        "chromium_linux",
        f"multipart/form-data; boundary={boundary}",
        "gzip",
        _gz(multipart_body(parts, boundary)),
        user_agent="Wget/1.21.3",
        expected_annotations=fields,
        expected_dumps={"upload_file_minidump": dump},
    )


# --- Mozilla ---------------------------------------------------------------------------------------------


def _mozilla_extra(annotations: Mapping[str, str] | None, rng: random.Random) -> dict[str, Any]:
    extra: dict[str, Any] = (
        dict(annotations)
        if annotations is not None
        else {
            "ProductName": "Firefox",
            "Version": "128.0.3",
            "BuildID": "20240725162350",
            "ReleaseChannel": "release",
            "CrashTime": "1732587698",
            "MozCrashReason": 'MOZ_RELEASE_ASSERT(isSome()) — "quoted" & ünïcode',
            "TelemetryEnvironment": json.dumps({"build": {"architecture": "x86-64"}}),
            "ModuleSignatureInfo": json.dumps({"Microsoft Windows": ["xul.dll"]}),
        }
    )
    return extra


def mozilla_crashreporter(dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random) -> Request:
    """The Rust crash reporter client (``net/report.rs``) through the curl CLI: ``--form
    extra=@-;filename=extra.json;type=application/json`` then the minidump, the memory report and the other
    process's minidump as curl ``@file`` parts; no gzip."""
    extra = _mozilla_extra(annotations, rng)
    extra.update({"SubmittedFrom": "Client", "Throttleable": "1"})
    crash_id = _uuid(rng)
    browser_dump = dump[::-1]
    boundary = "-" * 24 + _hex(rng, 16)
    parts = [
        Part("extra", json.dumps(extra, separators=(",", ":")).encode(), "extra.json", "application/json"),
        Part("upload_file_minidump", dump, f"{crash_id}.dmp", "application/octet-stream"),
        Part("memory_report", SAMPLE_MEMORY_REPORT, f"{crash_id}.memory.json.gz", "application/octet-stream"),
        Part(
            "upload_file_minidump_browser",
            browser_dump,
            f"{crash_id}-browser.dmp",
            "application/octet-stream",
        ),
    ]
    return Request(
        "mozilla_crashreporter",
        f"multipart/form-data; boundary={boundary}",
        None,
        multipart_body(parts, boundary),
        user_agent="crashreporter/1.0.0",
        expected_annotations=extra,
        expected_dumps={
            "upload_file_minidump": dump,
            "memory_report": SAMPLE_MEMORY_REPORT,
            "upload_file_minidump_browser": browser_dump,
        },
        expected_kind="json",
    )


def firefox(dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random) -> Request:
    """``CrashSubmit.sys.mjs`` in the browser: XHR FormData; ``extra`` is a Blob, so it is a file part
    ``filename="blob"`` of type application/json; ``memory_report`` is typed ``application/gzip``."""
    extra = _mozilla_extra(annotations, rng)
    extra.update({"SubmittedFrom": "AboutCrashes", "Throttleable": "0"})
    crash_id = _uuid(rng)
    browser_dump = dump[: len(dump) // 2]
    boundary = "----geckoformboundary" + _hex(rng, 32)
    parts = [
        Part("upload_file_minidump", dump, f"{crash_id}.dmp", "application/octet-stream"),
        Part("memory_report", SAMPLE_MEMORY_REPORT, f"{crash_id}.memory.json.gz", "application/gzip"),
        Part(
            "upload_file_minidump_browser",
            browser_dump,
            f"{crash_id}-browser.dmp",
            "application/octet-stream",
        ),
        Part("extra", json.dumps(extra).encode(), "blob", "application/json"),
    ]
    return Request(
        "firefox",
        f"multipart/form-data; boundary={boundary}",
        None,
        multipart_body(parts, boundary),
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        expected_annotations=extra,
        expected_dumps={
            "upload_file_minidump": dump,
            "memory_report": SAMPLE_MEMORY_REPORT,
            "upload_file_minidump_browser": browser_dump,
        },
        expected_notes=("unknown content type: memory_report application/gzip",),
        expected_kind="json",
    )


def android(dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random) -> Request:
    """android-components ``MozillaSocorroService.kt``: unquoted ``name=Key`` text parts, the dump quoted
    with a filename, every part ending in CRLF and then ``\\r\\n--b--\\r\\n``, so the last value arrives
    with an extra CRLF; gzip; the app id and version in the URL too."""
    fields = (
        dict(annotations)
        if annotations is not None
        else {
            "ProductName": "Fenix",
            "ProductID": "{aa3c5121-dab2-40e2-81ca-7ea25febc110}",
            "Version": "125.2.0",
            "ApplicationBuildID": "2016017047",
            "AndroidComponentVersion": "125.2.0",
            "GleanVersion": "59.0.0",
            "ApplicationServicesVersion": "125.0",
            "GeckoViewVersion": "125.0.20240419144423",
            "BuildID": "20240419144423",
            "Vendor": "Mozilla",
            "Breadcrumbs": json.dumps([{"timestamp": "2024-04-20", "message": "onStart"}]),
            "useragent_locale": "en_US",
            "DistributionID": "Mozilla",
            "CrashType": "FATAL_NATIVE_CODE_CRASH",
            "InstallTime": "1713600000",
            "ReleaseChannel": "release",
            "StartupTime": "1713609000",
            "CrashTime": "1713609123",
            "Android_PackageName": "org.mozilla.firefox",
            "Android_Manufacturer": "Google",
            "Android_Model": "Pixel 7",
            "Android_Version": "34 (REL)",
            "Android_CPU_ABI": "arm64-v8a",
            "Android_CPU_ABI2": "armeabi-v7a",
        }
    )
    items = list(fields.items())
    at = next((i for i, (k, _) in enumerate(items) if k == "CrashType"), len(items) // 2)
    parts = [Part(k, v.encode(), quote_name=False) for k, v in items[:at]]
    parts.append(Part("upload_file_minidump", dump, f"{_uuid(rng)}.dmp", "application/octet-stream"))
    parts.extend(Part(k, v.encode(), quote_name=False) for k, v in items[at:])
    boundary = "-" * 27 + _rand8x2(rng, 0x7FFFFFFF)
    notes: tuple[str, ...] = ()
    if items and at < len(items):
        notes = (f"annotation {items[-1][0]}: trailing CRLF of the last part stripped",)
    return Request(
        "android",
        f"multipart/form-data; boundary={boundary}",
        "gzip",
        _gz(multipart_body(parts, boundary, close_prefix=b"\r\n")),
        query=urlencode({"id": "org.mozilla.firefox", "version": "125.2.0", "android_component_version": "125.2.0"}),
        user_agent="Dalvik/2.1.0 (Linux; U; Android 14; Pixel 7 Build/UQ1A.240105.004)",
        expected_annotations=fields,
        expected_dumps={"upload_file_minidump": dump},
        expected_notes=notes,
    )


# --- raw bodies ------------------------------------------------------------------------------------------


def raw(dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random) -> Request:
    """A bare minidump body (Sentry/Backtrace style) with its annotations in the query string."""
    fields = (
        dict(annotations)
        if annotations is not None
        else {
            "product": "MyApp",
            "version": "1.0",
            "guid": _uuid(rng),
            "comment": "a b&c=d é",
        }
    )
    return Request(
        "raw",
        "application/octet-stream",
        None,
        dump,
        query=urlencode(fields),
        user_agent="curl/8.5.0",
        expected_annotations=fields,
        expected_dumps={"upload_file_minidump": dump},
        expected_kind="raw",
    )


def raw_dmp_gzip(dump: bytes, annotations: Mapping[str, str] | None, rng: random.Random) -> Request:
    """A bare minidump as ``application/x-dmp``, gzipped, with no query string."""
    return Request(
        "raw_dmp_gzip",
        "application/x-dmp",
        "gzip",
        _gz(dump),
        expected_annotations=dict(annotations or {}),
        expected_dumps={"upload_file_minidump": dump},
        expected_kind="raw",
    )


Builder = Callable[[bytes, Mapping[str, str] | None, random.Random], Request]

BUILDERS: dict[str, Builder] = {
    "breakpad_linux": breakpad_linux,
    "breakpad_windows": breakpad_windows,
    "breakpad_windows_legacy": breakpad_windows_legacy,
    "breakpad_mac": breakpad_mac,
    "crashpad": crashpad,
    "electron": electron,
    "chromium_linux": chromium_linux,
    "mozilla_crashreporter": mozilla_crashreporter,
    "firefox": firefox,
    "android": android,
    "raw": raw,
    "raw_dmp_gzip": raw_dmp_gzip,
}
CLIENTS = list(BUILDERS)


def build(
    client: str, dump: bytes = SAMPLE_DUMP, annotations: Mapping[str, str] | None = None, *, seed: int = 0
) -> Request:
    """The request ``client`` sends for ``dump``; ``annotations`` replaces the client's typical fields
    (clients that always add their own, like Electron and the Mozilla clients, still add them)."""
    return BUILDERS[client](dump, annotations, random.Random(f"{client}:{seed}"))
