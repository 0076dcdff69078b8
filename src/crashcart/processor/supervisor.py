"""The processor supervisor: N worker processes, each one crash at a time, watched against a time budget.

Workers are separate processes (a stack walk can hang or blow up in C code inside symbolic, and the walker's
caches stay warm for the life of the process). Each worker records in shared memory (``WorkerSlots``) when
it took its current crash and which delivery it holds. A worker over ``processor_crash_budget`` is sent
``ABANDON_SIGNAL`` (again at every poll): its handler abandons the crash, *releases the message at once*
with the reason ``over budget: N s`` (the queue counts the attempt, retries after back-off and dead-letters
with that reason after the last one), and the worker exits and is replaced. The worker releases its own
message because only it can always do so: an AMQP delivery belongs to the channel it came on.

A worker still alive ``release_grace`` seconds later (stuck in C code that never returns to Python) is
SIGKILLed, and the supervisor hands the delivery the worker noted to ``on_unreleased``, as it does for a
worker that died holding a crash: a backend that still holds the delivery (SQLite) retries it at once with
the reason; one that ties deliveries to the dead worker's connection (RabbitMQ) has already put it back.
After the last attempt the message is dead-lettered: a poison crash cannot stop the node. SIGTERM (or
SIGINT) asks every worker to finish the crash in hand and exit.
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

ABANDON_SIGNAL = signal.SIGUSR1
"""Sent to a worker over budget; its handler abandons the crash (a worker without one simply dies)."""

EXIT_ABANDONED = 75
"""Exit status of a worker that abandoned its crash over budget (released its message, then stopped)."""

RELEASE_GRACE = 5.0
"""Seconds a worker asked to abandon its crash has to release the message and exit before it is SIGKILLed."""


def over_budget_reason(seconds: float) -> str:
    """The failure reason of a crash abandoned over budget: the queue's, and the dead letter's after the last."""
    return f"over budget: {seconds:.1f} s"


HELD_BYTES = 512
"""Room for one worker's note of the delivery it holds (a queue message as JSON); a longer note is not kept."""


class WorkerSlots:
    """Memory the supervisor shares with its workers, one slot per worker: since when the worker holds a crash
    (``busy_since``, ``IDLE`` when none) and a short note naming the delivery, which the supervisor needs to
    release it for a worker it had to SIGKILL. A worker writes the note before ``busy_since`` and clears it
    after, and the supervisor reads it only once the worker is dead, so no lock is needed.
    """

    def __init__(self, ctx: Any, workers: int) -> None:
        self.busy_since: Any = ctx.Array("d", [IDLE] * workers, lock=False)
        self._held: Any = ctx.Array("c", HELD_BYTES * workers, lock=False)

    def take(self, slot: int, since: float, note: bytes) -> None:
        """The worker in ``slot`` took a crash at ``since`` (epoch seconds); ``note`` names the delivery."""
        start = slot * HELD_BYTES
        self._held[start : start + HELD_BYTES] = (
            note.ljust(HELD_BYTES, b"\0") if len(note) < HELD_BYTES else bytes(HELD_BYTES)
        )
        self.busy_since[slot] = since

    def done(self, slot: int) -> None:
        self.busy_since[slot] = IDLE
        start = slot * HELD_BYTES
        self._held[start : start + HELD_BYTES] = bytes(HELD_BYTES)

    def held(self, slot: int) -> bytes:
        """The note of the delivery the worker in ``slot`` holds; empty when none (or too long to keep)."""
        start = slot * HELD_BYTES
        return bytes(self._held[start : start + HELD_BYTES]).rstrip(b"\0")


WorkerTarget = Callable[[int, WorkerSlots], None]
"""``target(slot, slots)``: a worker's main; marks its slot with ``slots.take``/``slots.done`` per crash."""


@dataclass
class _Slot:
    process: BaseProcess
    started: float
    restarts: int = 0
    abandon_asked: float | None = None  # monotonic time the worker was first asked to abandon its crash


class Supervisor:
    """Keeps ``workers`` processes running ``target`` until ``stop``; kills those over ``budget`` seconds."""

    def __init__(
        self,
        target: WorkerTarget,
        workers: int,
        budget: float,
        *,
        grace: float | None = None,
        release_grace: float = RELEASE_GRACE,
        poll: float = 0.2,
        on_kill: Callable[[int, float], None] | None = None,
        on_restart: Callable[[int], None] | None = None,
        on_unreleased: Callable[[bytes, str], None] | None = None,
    ) -> None:
        self._target = target
        self._workers = workers
        self._budget = budget
        self._grace = budget if grace is None else grace
        self._release_grace = release_grace
        self._poll = poll
        self._on_kill = on_kill
        self._on_restart = on_restart
        self._on_unreleased = on_unreleased
        self._ctx = multiprocessing.get_context("spawn")  # nothing inherited: no sockets, threads or Django state
        self.slots = WorkerSlots(self._ctx, workers)
        self.busy_since: Any = self.slots.busy_since
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
        self.slots.done(slot)
        process = self._ctx.Process(
            target=self._target, args=(slot, self.slots), name=f"crashcart-processor-{slot}", daemon=False
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
                state.process.join()
                code = state.process.exitcode
                if code == EXIT_ABANDONED:
                    LOGGER.info("processor worker %d released its crash over budget; starting another", slot)
                else:
                    LOGGER.warning("processor worker %d exited with %s; starting another", slot, code)
                    self._unreleased(slot, self._death_reason(slot, state, code))
                self._restart(slot)
                continue
            since = self.busy_since[slot]
            if state.abandon_asked is not None:
                self._abandoning(slot, state)
            elif since != IDLE and now - since > self._budget:
                LOGGER.error("processor worker %d over its %.0f s budget; abandoning its crash", slot, self._budget)
                if self._on_kill is not None:
                    self._on_kill(slot, now - since)
                self.kills += 1
                state.abandon_asked = time.monotonic()
                _signal(state.process, ABANDON_SIGNAL)

    def _abandoning(self, slot: int, state: _Slot) -> None:
        """Repeat the request (a handler can be swallowed by a broad ``except``); SIGKILL after the grace."""
        assert state.abandon_asked is not None
        if time.monotonic() - state.abandon_asked < self._release_grace:
            _signal(state.process, ABANDON_SIGNAL)
            return
        LOGGER.error("processor worker %d did not release its crash in %.0f s; killing it", slot, self._release_grace)
        _kill(state.process)
        since = self.slots.busy_since[slot]
        self._unreleased(slot, over_budget_reason(time.time() - since))
        self._restart(slot)

    def _death_reason(self, slot: int, state: _Slot, code: int | None) -> str:
        if state.abandon_asked is not None:  # died of the request itself (no handler), or on the way out
            return over_budget_reason(time.time() - self.busy_since[slot])
        if code is not None and code < 0:
            return f"worker died (signal {-code})"
        return f"worker died (exit status {code})"

    def _unreleased(self, slot: int, reason: str) -> None:
        """Hand the delivery a dead worker still noted (it died holding a crash) to ``on_unreleased``."""
        held = self.slots.held(slot)
        if held and self.slots.busy_since[slot] != IDLE and self._on_unreleased is not None:
            self._on_unreleased(held, reason)

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


def _signal(process: BaseProcess, sig: int) -> None:
    if process.pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, sig)


def _kill(process: BaseProcess) -> None:
    if process.pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
    process.join(10)
