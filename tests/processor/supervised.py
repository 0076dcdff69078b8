"""Worker mains for the supervisor tests (importable by spawned processes)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any


def sleepy_worker(slot: int, busy_since: Any) -> None:
    """Takes a "crash" that never finishes when ``hang`` exists in its directory; records its pid per start."""
    workdir = Path(os.environ["SUPERVISED_DIR"])
    with (workdir / f"starts-{slot}").open("a") as log:
        log.write(f"{os.getpid()}\n")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    if (workdir / "deaf").exists():  # stuck where no Python runs: the abandon request goes unanswered
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    while not stopping:
        if (workdir / "hang").exists():
            busy_since[slot] = time.time()
            while True:  # a stuck stack walk: ignores everything but SIGKILL
                time.sleep(0.05)
        if (workdir / "die").exists():
            sys.exit(3)
        if (workdir / "slow").exists():
            busy_since[slot] = time.time()
            time.sleep(0.5)  # one crash in hand when SIGTERM comes: finished, then exit
            (workdir / f"finished-{slot}").write_text("yes")
            busy_since[slot] = 0.0
        time.sleep(0.02)
