"""Coverage-guided fuzzing of the collector's payload parser with atheris (libFuzzer for Python).

    pip install atheris
    python fuzz/fuzz_payload.py -max_total_time=600 [corpus_dir]

The first input bytes choose the Content-Type, Content-Encoding, limits and chunking; the rest is the body,
optionally gzipped first so the fuzzer also reaches the multipart parser behind the decompressor. Anything
but a ``Payload``, ``Malformed`` or ``TooLarge`` is a crash, and so is a spool file left after ``discard()``.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-not-found,import-untyped,unused-ignore]

with atheris.instrument_imports():
    from crashcart.collector.payload import Limits, Malformed, PayloadParser, TooLarge

CONTENT_TYPES = [
    "multipart/form-data; boundary=b0undary",
    "multipart/mixed; boundary=b0undary",
    'multipart/form-data; charset=utf-8; boundary="b0undary"',
    "application/octet-stream",
    "multipart/form-data",
    "text/plain",
]
ENCODINGS = [None, "gzip", "deflate", "x-gzip", "br"]
SPOOL = Path(tempfile.mkdtemp(prefix="fuzz-payload-"))


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    content_type = CONTENT_TYPES[fdp.ConsumeIntInRange(0, len(CONTENT_TYPES) - 1)]
    encoding = ENCODINGS[fdp.ConsumeIntInRange(0, len(ENCODINGS) - 1)]
    compress_first = fdp.ConsumeBool()
    small = fdp.ConsumeBool()
    chunk = fdp.ConsumeIntInRange(1, 4096)
    limits = Limits(
        max_request_size=100_000 if small else 10**8,
        max_decompressed_size=200_000 if small else 10**9,
        max_annotations=fdp.ConsumeIntInRange(1, 50),
        max_annotation_size=fdp.ConsumeIntInRange(1, 4096),
        max_json_size=fdp.ConsumeIntInRange(1, 65536),
        max_dumps=fdp.ConsumeIntInRange(1, 8),
        max_parts=fdp.ConsumeIntInRange(1, 100),
        dump_spool_threshold=fdp.ConsumeIntInRange(0, 4096),
    )
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    if compress_first and encoding in ("gzip", "x-gzip"):
        body = gzip.compress(body, mtime=0)
    parser = PayloadParser(content_type, encoding, limits, SPOOL, "a=1&b=2")
    try:
        for i in range(0, len(body), chunk):
            parser.feed(body[i : i + chunk])
        payload = parser.finish()
    except (Malformed, TooLarge):
        pass
    else:
        for dump in payload.dumps:
            content = dump.read()
            if len(content) != dump.size or hashlib.sha256(content).hexdigest() != dump.sha256:
                raise AssertionError(f"dump {dump.name} does not match its size or checksum")
    finally:
        parser.discard()
    leftovers = list(SPOOL.iterdir())
    if leftovers:
        raise AssertionError(f"spool files left behind: {leftovers}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
