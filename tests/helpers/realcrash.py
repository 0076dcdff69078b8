"""Crash a program of ours under Google Crashpad's real handler and collect the minidump it uploads.

The corpus has no dump of a null dereference through a field offset, and a synthetic dump only proves the walker
agrees with the test's idea of a dump. This produces the real thing at test time: ``crashpad_upload.sh`` (in
``../shared/tools/realclient``) compiles a crasher from ``tests/fixtures/crashers/``, crashes it, and lets the
unmodified ``crashpad_handler`` write the minidump and upload it to our collector; the dump is then read back
from the collector's storage, so what a test walks is exactly what a deployment would have received.

No dump is kept in the repository: a Crashpad dump carries the crasher's environment, so the crasher runs with a
minimal one (``PATH``, ``HOME`` and the script's own variables) and its dump lives only in the test's tmp dir.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crashcart.settings import load_settings
from crashcart.storage import open_storage
from tests.helpers.collector import running_collector
from tests.helpers.shared import REALCLIENT, REPO

CRASHPAD_UPLOAD = REALCLIENT / "crashpad_upload.sh"
#: Our crashers (sources and their ``programs.tsv``); ``crashgen.h`` comes from the shared tool at test time.
CRASHERS = REPO / "tests" / "fixtures" / "crashers"
#: The variables of ``crashpad_upload.sh`` passed through from the test's environment (none carries a secret).
_PASSED = ("PATH", "HOME", "REALCLIENT_CACHE", "CRASHPAD_WHEEL", "CRASHPAD_HANDLER")


def crashpad_unavailable() -> str | None:
    """Why a real Crashpad crash cannot be produced on this machine, or None when it can (the skip reason)."""
    if not CRASHPAD_UPLOAD.is_file():
        return f"../shared/tools/realclient absent (no {CRASHPAD_UPLOAD.name} at {REALCLIENT})"
    if shutil.which("g++") is None:
        return "the crasher needs g++"
    if platform.machine() != "x86_64":
        return f"the crashpad_handler wheel is x86_64 only, this machine is {platform.machine()}"
    return None


@dataclass(frozen=True)
class RealCrash:
    """One crash as the collector stored it, and the dump Crashpad kept in its own database."""

    crash_id: str
    raw_crash: dict[str, Any]
    #: The minidump as the collector stored it, written to a file for the walker.
    dump: Path
    #: The same report in Crashpad's database (``completed/<uuid>.dmp``).
    crashpad_dump: Path


def crash_with_crashpad(program: str, workdir: Path, timeout: float = 240.0) -> RealCrash:
    """Run ``program`` (a row of ``tests/fixtures/crashers/programs.tsv``) under Crashpad, uploading to a collector.

    The sources are copied (new mtimes) so the script recompiles them rather than trust a binary a checkout with
    a different source of the same name left in the shared cache.
    """
    src = workdir / "crashers"
    src.mkdir(parents=True)
    for path in CRASHERS.iterdir():
        if path.suffix in {".cc", ".h", ".tsv"}:
            shutil.copy(path, src / path.name)
    shutil.copy(REALCLIENT / "crashers" / "crashgen.h", src / "crashgen.h")
    env = {name: os.environ[name] for name in _PASSED if name in os.environ}
    env.update(CRASHGEN_SRC=str(src), CRASHGEN_PROGRAMS=str(src / "programs.tsv"), CRASHPAD_PROGRAM=program)
    outdir = workdir / "crashpad"
    with running_collector(workdir / "collector") as collector:
        out = subprocess.run(
            [str(CRASHPAD_UPLOAD), f"{collector.url}/submit", str(outdir), f"prod={program}", "ver=1.0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        assert "CrashID=bp-" in out.stdout, out.stdout
        crash_id = out.stdout.split("CrashID=bp-")[1].split()[0]
        storage = open_storage(load_settings({"CRASHCART_DATA_DIR": str(collector.data_dir)}), None)
        raw_crash = storage.get_raw_crash(crash_id)
        dump = workdir / f"{crash_id}.dmp"
        dump.write_bytes(storage.get_dump(crash_id, "upload_file_minidump"))
    completed = sorted((outdir / "database" / "completed").glob("*.dmp"))
    assert len(completed) == 1, completed
    return RealCrash(crash_id, raw_crash, dump, completed[0])
