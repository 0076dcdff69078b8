"""Microbenchmark of the collector's payload parser on the load-test body.

Parses the realistic loadgen body (44 text annotations incl. an 8.8 KB JSON value, one 150 KB minidump),
plain and gzip, fed in one chunk and in 64 KiB chunks (as uvicorn delivers it), and reports µs per parse
next to a floor measured in the same process: the work no parser can skip (sha256 of the dump and
``bytes.split`` of the body on the delimiter, plus the decompression for gzip). Writes
``bench/results/payload-parse.json``.

Timings of this size move by ~10% with the process's memory layout alone (the size of the environment is
enough to shift it), so each worker process gets a different amount of environment padding and the report
gives the median over the workers (and their range).

usage: .venv/bin/python bench/payload/bench_parse.py [--workers N] [--repeat N] [--number N] [--out FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crashcart.collector.payload import Limits, PayloadParser
from crashcart.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
CHUNK = 64 * 1024
CASES = [("plain", "1 chunk"), ("plain", "64 KiB chunks"), ("gzip", "1 chunk"), ("gzip", "64 KiB chunks")]


def best_of(fn: Callable[[], object], repeat: int, number: int) -> float:
    """Seconds per call: the best of ``repeat`` rounds of ``number`` calls (noise only ever adds time)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - started) / number)
    return best


def worker(payload_dir: Path, repeat: int, number: int) -> dict[str, Any]:
    """Time every case in this process; µs per parse, and the floors."""
    body = (payload_dir / "payload.bin").read_bytes()
    gz = (payload_dir / "payload.gz.bin").read_bytes()
    content_type = (payload_dir / "content-type.txt").read_text().strip()
    meta = json.loads((payload_dir / "payload.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        limits = Limits.from_settings(load_settings({}, data_dir=Path(tmp)))
        spool = Path(tmp) / "spool"

        def parse(data: bytes, encoding: str | None, size: int) -> Callable[[], Any]:
            pieces = [data[i : i + size] for i in range(0, len(data), size)]

            def run() -> Any:
                parser = PayloadParser(content_type, encoding, limits, spool)
                for piece in pieces:
                    parser.feed(piece)
                payload = parser.finish()
                parser.discard()
                return payload

            return run

        for data, encoding in ((body, None), (gz, "gzip")):  # check the parser before timing it
            result = parse(data, encoding, CHUNK)()
            assert len(result.annotations) == meta["annotation_count"]
            (dump,) = result.dumps
            assert (dump.size, dump.sha256) == (meta["dump_bytes"], meta["dump_sha256"])
        dump_data = dump.read()
        delimiter = b"--" + content_type.partition("boundary=")[2].encode()

        def floor_plain() -> object:
            hashlib.sha256(dump_data).hexdigest()
            return body.split(delimiter)

        def floor_gzip() -> object:
            plain = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(gz)
            hashlib.sha256(dump_data).hexdigest()
            return plain.split(delimiter)

        floors = {"plain": best_of(floor_plain, repeat, number), "gzip": best_of(floor_gzip, repeat, number)}
        inputs = {"plain": (body, None), "gzip": (gz, "gzip")}
        times = {}
        for mode, label in CASES:
            data, encoding = inputs[mode]
            size = len(data) if label == "1 chunk" else CHUNK
            times[f"{mode}/{label}"] = best_of(parse(data, encoding, size), repeat, number)
        hash_only = best_of(lambda: hashlib.sha256(dump_data).hexdigest(), repeat, number)
    return {
        "us": {case: round(t * 1e6, 2) for case, t in times.items()},
        "floor_us": {mode: round(t * 1e6, 2) for mode, t in floors.items()},
        "sha256_dump_us": round(hash_only * 1e6, 2),
        "body_bytes": len(body),
        "gzip_bytes": len(gz),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loadgen", type=Path, default=ROOT.parent / "shared" / "tools" / "loadgen")
    ap.add_argument("--workers", type=int, default=5, help="processes, each with its own memory layout")
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--number", type=int, default=25)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "payload-parse.json")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)  # internal: time in this process
    args = ap.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.repeat, args.number)))
        return

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        payload_dir = Path(tmp)
        build = [sys.executable, str(args.loadgen / "build_payload.py"), str(payload_dir)]
        subprocess.run(build, check=True, capture_output=True)
        for i in range(args.workers):
            env = {**os.environ, "BENCH_LAYOUT_PAD": "x" * (i * 1531)}
            cmd = [sys.executable, __file__, "--worker", str(payload_dir), "--repeat", str(args.repeat)]
            out = subprocess.run([*cmd, "--number", str(args.number)], env=env, check=True, capture_output=True)
            runs.append(json.loads(out.stdout))

    rows = []
    for mode, label in CASES:
        us = [run["us"][f"{mode}/{label}"] for run in runs]
        ratios = [run["us"][f"{mode}/{label}"] / run["floor_us"][mode] for run in runs]
        rows.append(
            {
                "mode": mode,
                "chunking": label,
                "us_per_parse": round(statistics.median(us), 1),
                "us_range": [min(us), max(us)],
                "floor_us": round(statistics.median(run["floor_us"][mode] for run in runs), 1),
                "ratio_to_floor": round(statistics.median(ratios), 2),
            }
        )
    sha = statistics.median(run["sha256_dump_us"] for run in runs)
    print(f"body {runs[0]['body_bytes']} bytes ({runs[0]['gzip_bytes']} gzip); sha256 of the dump alone {sha:.1f} µs")
    print(f"median of {len(runs)} processes   µs/parse (range)        floor µs  × floor")
    for row in rows:
        low, high = row["us_range"]
        print(
            f"{row['mode']:6} {row['chunking']:14} {row['us_per_parse']:9.1f} ({low:6.1f}–{high:6.1f})"
            f" {row['floor_us']:9.1f} {row['ratio_to_floor']:8.2f}"
        )
    report = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "workers": len(runs),
        "sha256_dump_us": sha,
        "floor": "sha256 of the dump + bytes.split of the body on the delimiter (+ zlib decompress for gzip)",
        "results": rows,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
