"""The durable-write bound of this disk for the loadgen report, with no HTTP and no parsing.

Two processes (like the collector's two workers) store crashes the way the filesystem backend does: per crash
the dump, its dump names and the raw crash (the loadgen's 150 KiB dump and 44 annotations) written to new
files; per batch of 16 crashes a ``syncfs``, the raw crashes renamed into place, and a ``syncfs``. Crashes
per second over ``--seconds`` is what the collector could at most reach on this disk, whatever its CPU
cost: the collector's figures are read against it as well as against the no-op HTTP bound.

usage: disk_bound.py PAYLOAD_DIR WORKDIR [--seconds 20] [--processes 2] [--batch 16] [--json OUT]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import multiprocessing
import os
import time
import uuid
from pathlib import Path


def _parts(payload_dir: Path) -> tuple[bytes, bytes]:
    """The dump and a raw crash of the loadgen body's size (its annotations are most of the raw crash)."""
    meta = json.loads((payload_dir / "payload.json").read_text())
    body = (payload_dir / "payload.bin").read_bytes()
    dump_size = int(meta.get("dump_bytes", 150 * 1024))
    dump = body[-dump_size - 200 : -200] if len(body) > dump_size + 200 else body
    raw = b"x" * max(len(body) - len(dump), 1024)
    return dump, raw


def _worker(root: str, dump: bytes, raw: bytes, seconds: float, batch: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    libc = ctypes.CDLL(None, use_errno=True)
    for sub in ("dump", "dump_names", "raw_crash"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    fd_root = os.open(root, os.O_RDONLY)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        renames = []
        for _ in range(batch):
            crash_id = str(uuid.uuid4())
            for sub, data in (("dump", dump), ("dump_names", b'["upload_file_minidump"]')):
                fd = os.open(os.path.join(root, sub, crash_id), flags, 0o644)
                os.write(fd, data)
                os.close(fd)
            tmp = os.path.join(root, "raw_crash", f".{crash_id}.tmp")
            fd = os.open(tmp, flags, 0o644)
            os.write(fd, raw)
            os.close(fd)
            renames.append((tmp, os.path.join(root, "raw_crash", crash_id)))
        libc.syncfs(fd_root)
        for tmp, final in renames:
            os.rename(tmp, final)
        libc.syncfs(fd_root)
        done += batch
    out.put(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("payload_dir", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    dump, raw = _parts(args.payload_dir)
    results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    procs = [
        multiprocessing.Process(
            target=_worker, args=(str(args.workdir / f"p{i}"), dump, raw, args.seconds, args.batch, results)
        )
        for i in range(args.processes)
    ]
    start = time.monotonic()
    for proc in procs:
        proc.start()
    total = sum(results.get() for _ in procs)
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - start
    result = {
        "series": "disk-bound",
        "crashes": total,
        "seconds": round(elapsed, 2),
        "crashes_per_s": round(total / elapsed, 1),
        "bytes_per_crash": len(dump) + len(raw),
        "mb_per_s": round(total * (len(dump) + len(raw)) / elapsed / 1e6, 1),
        "processes": args.processes,
        "batch": args.batch,
    }
    print("RESULT " + json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
