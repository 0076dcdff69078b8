"""Writes seed inputs for ``fuzz_http.py``: real clients' requests, each behind the harness's parameter bytes.

Usage: ``python fuzz/seed_http.py CORPUS_DIR``.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

#: The harness's six parameter bytes: read size 1,460 (a TCP segment), head limit 64 KiB, timeout 0.5 s, no
#: half-close.
PARAMS = (1459).to_bytes(2, "little") + (64512).to_bytes(2, "little") + b"\x09" + b"\x00"

MULTIPART = (
    b'--b\r\nContent-Disposition: form-data; name="ProductName"\r\n\r\nTest\r\n'
    b'--b\r\nContent-Disposition: form-data; name="upload_file_minidump"; filename="a.dmp"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\nMDMP\x93\xa7\x00\x00\r\n--b--\r\n"
)


def _chunked(body: bytes, size: int = 64) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size))
    return out + b"0\r\n\r\n"


SEEDS = {
    "breakpad": b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(MULTIPART), MULTIPART),
    "crashpad_gzip_chunked": b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(gzip.compress(MULTIPART, mtime=0)),
    "http10_chunked_no_host": b"POST /submit HTTP/1.0\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(MULTIPART),
    "expect_100": b"POST /submit HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
    b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n%s" % (len(MULTIPART), MULTIPART),
    "pipelined_heartbeats": b"GET /__heartbeat__ HTTP/1.1\r\nHost: x\r\n\r\nGET /__lbheartbeat__ HTTP/1.1\r\n"
    b"Host: x\r\n\r\nGET /__version__ HTTP/1.1\r\nHost: x\r\n\r\n",
    "cl_and_chunked": b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\n",
}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, request in SEEDS.items():
        (out / name).write_bytes(PARAMS + request)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
