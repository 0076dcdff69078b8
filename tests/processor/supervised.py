"""Worker mains for the supervisor tests (importable by spawned processes)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from crashcart.processor.supervisor import ABANDON_SIGNAL, WorkerSlots


def sleepy_worker(slot: int, slots: WorkerSlots) -> None:
    """Takes a "crash" that never finishes when ``hang`` exists in its directory; records its pid per start."""
    workdir = Path(os.environ["SUPERVISED_DIR"])
    with (workdir / f"starts-{slot}").open("a") as log:
        log.write(f"{os.getpid()}\n")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    if (workdir / "deaf").exists():  # stuck where no Python runs: the abandon request goes unanswered
        signal.signal(ABANDON_SIGNAL, signal.SIG_IGN)
    while not stopping:
        if (workdir / "hang").exists():
            slots.take(slot, time.time(), b"")
            while True:  # a stuck stack walk: ignores everything but SIGKILL
                time.sleep(0.05)
        if (workdir / "die").exists():
            sys.exit(3)
        if (workdir / "slow").exists():
            slots.take(slot, time.time(), b"")
            time.sleep(0.5)  # one crash in hand when SIGTERM comes: finished, then exit
            (workdir / f"finished-{slot}").write_text("yes")
            slots.done(slot)
        time.sleep(0.02)


def deaf_queue_worker(slot: int, slots: WorkerSlots) -> None:
    """Takes one message from the queue described by ``SUPERVISED_QUEUE`` (JSON), notes it in its slot as the
    processor's workers do, then hangs deaf to the abandon request (as in C code that never returns)."""
    from crashcart.processor.app import held_note
    from crashcart.queue.amqp import AMQPCrashQueue
    from crashcart.queue.interfaces import CrashQueue
    from crashcart.queue.sqlite import SQLiteCrashQueue

    signal.signal(ABANDON_SIGNAL, signal.SIG_IGN)
    spec = json.loads(os.environ["SUPERVISED_QUEUE"])
    queue: CrashQueue
    if spec["kind"] == "sqlite":
        queue = SQLiteCrashQueue(spec["path"], spec["attempts"], spec["lease"], spec["base"])
    else:
        queue = AMQPCrashQueue(spec["url"], spec["attempts"], spec["lease"], spec["base"], prefix=spec["prefix"])
    while (message := queue.consume()) is None:
        time.sleep(0.05)
    slots.take(slot, time.time(), held_note(message))
    while True:
        time.sleep(0.05)
