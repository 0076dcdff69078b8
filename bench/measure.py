"""What the Python benchmarks share: percentiles and timing summaries, the machine a run was on, and the
benchmark's own PostgreSQL database (made fresh from an admin URL, dropped after).

Imported by ``bench/search/run.py`` and ``bench/web/run.py`` (each puts ``bench/`` on ``sys.path``).
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary(seconds: Sequence[float]) -> dict[str, Any]:
    return {
        "runs": len(seconds),
        "p50_ms": percentile(seconds, 0.5) * 1000,
        "p95_ms": percentile(seconds, 0.95) * 1000,
        "min_ms": min(seconds) * 1000,
        "max_ms": max(seconds) * 1000,
        "mean_ms": statistics.fmean(seconds) * 1000,
        "all_ms": [round(s * 1000, 3) for s in seconds],
    }


def machine_info(watched: Sequence[str]) -> dict[str, Any]:
    """CPUs, memory, Python, kernel, HEAD and which of the ``watched`` paths differ from it, load average."""
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", *watched], cwd=ROOT, capture_output=True, text=True, check=False
    )
    mem_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "git_head": head.stdout.strip(),
        "modified_files": [line[3:] for line in dirty.stdout.splitlines()],
        "loadavg_start": list(os.getloadavg()),
    }


def pg_url(admin: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``admin``."""
    return f"{admin.rsplit('/', 1)[0]}/{name}"


def pg_recreate(admin: str, name: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_url(admin, name)


def pg_drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
