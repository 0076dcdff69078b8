"""The processor supervisor: N worker processes, each one crash at a time, watched against a time budget.

Workers are separate processes (a stack walk can hang or blow up in C code inside symbolic, and the walker's
caches stay warm for the life of the process). Each worker records in shared memory when it took its current
crash; the supervisor kills a worker that is over ``processor_crash_budget`` or replaces one that died. The
killed worker's message was never acked, so the queue redelivers it after its lease (RabbitMQ at once, when
the connection drops), counts the attempt, and dead-letters it after the last one: a poison crash cannot stop
the node. SIGTERM (or SIGINT) asks every worker to finish the crash in hand and exit.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.sharedctypes
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

LOGGER = logging.getLogger(__name__)

IDLE = 0.0
"""Value of a worker's slot when it holds no crash."""

WorkerTarget = Callable[[int, Any], None]
"""``target(slot, busy_since)``: a worker's main; sets ``busy_since[slot]`` while it holds a crash."""


@dataclass
class _Slot:
    process: BaseProcess
    started: float
    restarts: int = 0


class Supervisor:
    """Keeps ``workers`` processes running ``target`` until ``stop``; kills those over ``budget`` seconds."""

    def __init__(
        self,
        target: WorkerTarget,
        workers: int,
        budget: float,
        *,
        grace: float | None = None,
        poll: float = 0.2,
        on_kill: Callable[[int, float], None] | None = None,
        on_restart: Callable[[int], None] | None = None,
    ) -> None:
        self._target = target
        self._workers = workers
        self._budget = budget
        self._grace = budget if grace is None else grace
        self._poll = poll
        self._on_kill = on_kill
        self._on_restart = on_restart
        self._ctx = multiprocessing.get_context("spawn")  # nothing inherited: no sockets, threads or Django state
        self.busy_since: Any = self._ctx.Array("d", [IDLE] * workers, lock=False)
        self._slots: list[_Slot | None] = [None] * workers
        self.stopping = threading.Event()
        self.kills = 0
        self.restarts = 0

    def run(self) -> None:
        """Start the workers and watch them until ``stop()``; then let them finish and exit."""
        for slot in range(self._workers):
            self._start(slot)
        try:
            while not self.stopping.wait(self._poll):
                self._watch()
        finally:
            self._shutdown()

    def stop(self) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())

    def alive(self) -> int:
        return sum(1 for s in self._slots if s is not None and s.process.is_alive())

    def _start(self, slot: int) -> None:
        self.busy_since[slot] = IDLE
        process = self._ctx.Process(
            target=self._target, args=(slot, self.busy_since), name=f"crashcart-processor-{slot}", daemon=False
        )
        process.start()
        previous = self._slots[slot]
        self._slots[slot] = _Slot(process, time.monotonic(), 0 if previous is None else previous.restarts + 1)

    def _watch(self) -> None:
        now = time.time()
        for slot, state in enumerate(self._slots):
            if state is None:
                continue
            if not state.process.is_alive():
                LOGGER.warning("processor worker %d exited with %s; starting another", slot, state.process.exitcode)
                state.process.join()
                self._restart(slot)
                continue
            since = self.busy_since[slot]
            if since != IDLE and now - since > self._budget:
                LOGGER.error("processor worker %d over its %.0f s budget; killing it", slot, self._budget)
                if self._on_kill is not None:
                    self._on_kill(slot, now - since)
                self.kills += 1
                _kill(state.process)
                self._restart(slot)

    def _restart(self, slot: int) -> None:
        self.restarts += 1
        if self._on_restart is not None:
            self._on_restart(slot)
        self._start(slot)

    def _shutdown(self) -> None:
        for state in self._slots:
            if state is not None and state.process.is_alive() and state.process.pid is not None:
                os.kill(state.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self._grace
        for state in self._slots:
            if state is None:
                continue
            state.process.join(max(0.0, deadline - time.monotonic()))
            if state.process.is_alive():
                LOGGER.error("processor worker %s did not stop in time; killing it", state.process.name)
                _kill(state.process)


def _kill(process: BaseProcess) -> None:
    if process.pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
    process.join(10)
