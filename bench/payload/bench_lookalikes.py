"""Parsing cost of hostile near-boundary bodies (issue #9): ms per inflated MiB, next to a plain body's.

A gzip body whose single text part inflates to lines that start like the delimiter (``--bX`` under boundary
``b``, and the other lookalike forms: ``--b-X``, ``--b\\rX``, ``--b X``, long padding) is parsed the way the
collector does it (64 KiB wire chunks, gzip), and the CPU time per inflated MiB is reported for each, with a
reference body of the same size holding no ``--`` at all (what inflating and storing the bytes costs).

``--src DIR`` times another checkout's ``src`` (e.g. ``git archive <commit> src | tar -x -C DIR``) for a
before/after comparison; each run adds its label to the results file rather than replacing it.

usage: .venv/bin/python bench/payload/bench_lookalikes.py [--mib N] [--repeat N] [--src DIR --label NAME]
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# In the worker these come from ``--src`` (PYTHONPATH); the parent only starts it.
from crashcart.collector.payload import Limits, PayloadParser
from crashcart.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
CHUNK = 64 * 1024
MiB = 1024 * 1024
LINES = {
    "no lookalike (reference)": b"abcdefgh\r\n",
    "--bX": b"--bX",
    "--bX CRLF": b"--bX\r\n",
    "--b-X": b"--b-X",
    "--b CR X": b"--b\rX",
    "--b SP X": b"--b X",
    "--b + 200 SP + X": b"--b" + b" " * 200 + b"X",
}


def body_of(line: bytes, mib: int) -> bytes:
    head = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n'
    return (
        head
        + line * (mib * MiB // len(line))
        + b'\r\n--b\r\nContent-Disposition: form-data; name="k"\r\n\r\nv\r\n--b--\r\n'
    )


def worker(mib: int, repeat: int) -> dict[str, Any]:
    """CPU seconds per inflated MiB for each line, in this process (best of ``repeat``)."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        limits = Limits.from_settings(load_settings({}, data_dir=Path(tmp)))
        for label, line in LINES.items():
            body = body_of(line, mib)
            gz = gzip.compress(body, 9)
            pieces = [gz[i : i + CHUNK] for i in range(0, len(gz), CHUNK)]
            best = float("inf")
            for _ in range(repeat):
                parser = PayloadParser("multipart/form-data; boundary=b", "gzip", limits, Path(tmp) / "spool")
                started = time.process_time()
                for piece in pieces:
                    parser.feed(piece)
                parser.finish()
                best = min(best, time.process_time() - started)
                parser.discard()
            out[label] = {"ms_per_mib": round(best * 1000 * MiB / len(body), 2), "gzip_bytes": len(gz)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=16, help="inflated size of each body")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="the src tree to time")
    ap.add_argument("--label", default="this tree")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "payload-lookalikes.json")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.mib, args.repeat)))
        return
    cmd = [sys.executable, __file__, "--worker", "--mib", str(args.mib), "--repeat", str(args.repeat)]
    env = {"PYTHONPATH": str(args.src.resolve()), "PATH": "/usr/bin:/bin"}
    result = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True).stdout)
    reference = result["no lookalike (reference)"]["ms_per_mib"]
    print(f"{args.label}: {args.mib} MiB inflated per body, gzip, {CHUNK // 1024} KiB chunks; CPU ms per inflated MiB")
    for label, row in result.items():
        row["x_reference"] = round(row["ms_per_mib"] / reference, 1)
        print(f"  {label:26} {row['ms_per_mib']:8.2f}  ×{row['x_reference']:6.1f}   ({row['gzip_bytes']} B gzip)")
    report: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {"runs": {}}
    report.update(python=platform.python_version(), machine=platform.machine(), mib=args.mib)
    report["runs"][args.label] = result
    report["worst_ms_per_mib"] = {
        label: max(row["ms_per_mib"] for row in run.values()) for label, run in report["runs"].items()
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
