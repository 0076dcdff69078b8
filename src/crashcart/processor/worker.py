"""One processor worker: take a message, process the crash, save, index, and only then ack.

``CrashProcessor`` does one crash (load → rules → save → index); ``Worker`` is the consume loop around it.
Both get their collaborators from the processor's composition root, so a test can run either against real
storage, queue and database with any ruleset.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from crashcart import __version__
from crashcart.crashid import date_of, is_crash_id
from crashcart.errors import CrashcartError, CrashNotFound
from crashcart.logs import crash_context
from crashcart.processor.context import CrashContext
from crashcart.processor.rules.dates import date_processed
from crashcart.processor.supervisor import over_budget_reason
from crashcart.queue.interfaces import QUEUES, CrashQueue, Message
from crashcart.storage.interfaces import ProcessedCrashWriter

LOGGER = logging.getLogger(__name__)

DEFAULT_RULESET = "default"
MAX_HISTORY = 20
"""Runs kept in ``processor_history``, newest last (a crash reprocessed daily must not grow forever)."""

# Fields every processing writes afresh rather than carrying over from the previous one.
_RECOMPUTED = frozenset(
    {"processor_notes", "processor_history", "date_processed", "started_datetime", "completed_datetime"}
)


class OverBudget(BaseException):
    """Raised in a worker's main thread when the supervisor finds its crash over the time budget.

    A ``BaseException`` so that no ``except Exception`` on the way (a rule's, the pipeline's per-rule isolation)
    can swallow it: the crash is abandoned, its message released with the reason, and the worker exits.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(over_budget_reason(seconds))
        self.seconds = seconds

    @property
    def reason(self) -> str:
        """The queue's failure reason (and the dead letter's, after the last attempt)."""
        return str(self)


class MalformedMessage(CrashcartError):
    """A queue message that is not ``<crash id>`` or ``<crash id>:<ruleset>``."""

    code = "malformed_message"


def parse_message(body: str) -> tuple[str, str]:
    """``"<id>"`` → ``(id, "default")``; ``"<id>:<ruleset>"`` → ``(id, ruleset)``."""
    crash_id, _, ruleset = body.strip().partition(":")
    if not is_crash_id(crash_id):
        raise MalformedMessage(f"not a crash id: {body[:80]!r}")
    if ruleset and not (ruleset.isascii() and ruleset.replace("_", "").isalnum()):
        raise MalformedMessage(f"bad ruleset name in {body[:80]!r}")
    return crash_id, ruleset or DEFAULT_RULESET


class Index(Protocol):
    """The crash index: keeps every Super Search field of the crash (search enforces permissions)."""

    def upsert(self, crash_id: str, processed: Mapping[str, Any]) -> None: ...


RunRules = Callable[[CrashContext], Mapping[str, float] | None]
"""Runs a named ruleset over a context (the pipeline; it never raises for a failing rule). It may return the
seconds of the stages it times apart (``walk``, ``signature``); the rest of its time is the ``rules`` stage."""

STAGES = ("load", "walk", "rules", "signature", "save", "index", "ack")
"""Where a crash's time goes, in order; ``Outcome.stages`` and ``crashcart_processor_stage_seconds`` use these."""


@dataclass(frozen=True)
class Outcome:
    crash_id: str
    ruleset: str
    seconds: float
    notes: int
    processed: Mapping[str, Any] = field(default_factory=dict, repr=False)
    stages: Mapping[str, float] = field(default_factory=dict)  # seconds per ``STAGES`` entry (ack: once acked)


class CrashProcessor:
    """Processes one crash at a time; ``rulesets`` maps a ruleset name to the pipeline that runs it."""

    def __init__(
        self,
        storage: ProcessedCrashWriter,
        index: Index,
        rulesets: Mapping[str, RunRules],
        *,
        workdir: Path | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        processor_version: str = __version__,
    ) -> None:
        self._storage = storage
        self._index = index
        self._rulesets = rulesets
        self._workdir = workdir
        self._clock = clock
        self._version = processor_version

    def process(self, crash_id: str, ruleset: str = DEFAULT_RULESET) -> Outcome:
        """Load, run ``ruleset``, save the processed crash, index it. Raises on anything not saved."""
        run_rules = self._rulesets.get(ruleset)
        if run_rules is None:
            raise MalformedMessage(f"unknown ruleset {ruleset!r}")
        started = time.perf_counter()
        started_at = self._clock()
        raw_crash = self._storage.get_raw_crash(crash_id)
        names = self._storage.get_dump_names(crash_id)
        previous = self._previous(crash_id)
        workdir = Path(tempfile.mkdtemp(prefix=f"crashcart-{crash_id}-", dir=self._workdir))
        try:
            dumps = {name: self._storage.get_dump_path(crash_id, name, workdir) for name in names}
            # As Socorro: rules update the stored processed crash, so a partial ruleset such as
            # ``regenerate_signature`` keeps everything it does not recompute (the stack, the facts).
            start = {k: v for k, v in (previous or {}).items() if k not in _RECOMPUTED}
            ctx = CrashContext(crash_id=crash_id, raw_crash=raw_crash, dumps=dumps, processed=start, ruleset=ruleset)
            self._note_date_mismatch(ctx)
            loaded = time.perf_counter()
            split = run_rules(ctx)
            ruled = time.perf_counter()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        saving = time.perf_counter()  # removing the work dir counts as loading: it holds the loaded dumps
        processed = ctx.processed
        processed["uuid"] = crash_id
        processed["crash_id"] = crash_id
        # The same meaning under every ruleset (a partial one such as regenerate_signature included).
        processed["date_processed"] = date_processed(raw_crash, crash_id)
        processed["started_datetime"] = started_at.isoformat()
        processed["completed_datetime"] = self._clock().isoformat()
        processed["processor_notes"] = "; ".join(ctx.notes)
        processed["processor_history"] = _history(previous, self._run_entry(processed, ruleset))
        self._storage.save_processed_crash(crash_id, processed)
        saved = time.perf_counter()
        self._index.upsert(crash_id, processed)
        indexed = time.perf_counter()
        apart = dict(split or {})
        stages = {
            "load": (loaded - started) + (saving - ruled),
            **apart,
            "rules": (ruled - loaded) - sum(apart.values()),
            "save": saved - saving,
            "index": indexed - saved,
        }
        return Outcome(crash_id, ruleset, indexed - started, len(ctx.notes), processed, stages)

    def _run_entry(self, processed: Mapping[str, Any], ruleset: str) -> dict[str, Any]:
        """This run in ``processor_history``: when, with which ruleset and code, and what it concluded.

        ``stackwalk_version`` is the walker's behind the ``json_dump`` this run's result rests on (a partial
        ruleset that does not walk keeps the earlier walk, and says so by repeating its version).
        """
        return {
            "processed_at": processed["completed_datetime"],
            "ruleset": ruleset,
            "processor_version": self._version,
            "stackwalk_version": processed.get("stackwalk_version"),
            "signature": processed.get("signature"),
            "processor_notes": processed["processor_notes"],
        }

    def _previous(self, crash_id: str) -> Mapping[str, Any] | None:
        try:
            return self._storage.get_processed_crash(crash_id)
        except CrashNotFound:
            return None

    @staticmethod
    def _note_date_mismatch(ctx: CrashContext) -> None:
        """Socorro once stored such crashes under the wrong partition; here the id's date always wins."""
        submitted = ctx.raw_crash.get("submitted_timestamp")
        if not isinstance(submitted, str):
            return
        try:
            when = dt.datetime.fromisoformat(submitted)
        except ValueError:
            ctx.note("submitted_timestamp is not a valid timestamp")
            return
        if when.tzinfo is not None:
            when = when.astimezone(dt.UTC)
        if when.date() != date_of(ctx.crash_id):
            ctx.note("crash id date disagrees with submitted_timestamp; stored and indexed under the id's date")


def _history(previous: Mapping[str, Any] | None, run: dict[str, Any]) -> list[dict[str, Any]]:
    """Every processing run, oldest first, this one last; at most ``MAX_HISTORY`` (the oldest are dropped).

    Entries written before runs recorded themselves (``date_processed``/``processor_notes``/``signature`` of
    the run before) are kept as they are.
    """
    earlier = previous.get("processor_history") if previous is not None else None
    history = [h for h in earlier if isinstance(h, dict)] if isinstance(earlier, list) else []
    history.append(run)
    return history[-MAX_HISTORY:]


class Worker:
    """The consume loop: priority, then standard, then reprocessing; ack only after the crash is saved."""

    def __init__(
        self,
        queue: CrashQueue,
        processor: CrashProcessor,
        *,
        stop: threading.Event | None = None,
        idle_seconds: float = 0.5,
        on_start: Callable[[Message], None] | None = None,
        on_done: Callable[[], None] | None = None,
        on_outcome: Callable[[Outcome, Mapping[str, Any]], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._queue = queue
        self._processor = processor
        self.stop = stop or threading.Event()
        self._idle = idle_seconds
        self._on_start = on_start
        self._on_done = on_done
        self._on_outcome = on_outcome
        self._on_failure = on_failure
        self._processing = False

    def abandon(self, seconds: float) -> None:
        """Give up the crash in hand (``seconds`` into it): raises ``OverBudget`` if one is being processed.

        Called from the over-budget signal handler, so it runs in the main thread between two bytecodes of
        whatever the worker is doing. Outside processing (taking, acking a message) it only asks the loop to
        stop: a half-done ack must not be torn, and the worker is replaced all the same.
        """
        if self._processing:
            raise OverBudget(seconds)
        self.stop.set()

    def run(self) -> None:
        """Process until ``stop`` is set; the crash in hand is always finished first (SIGTERM semantics)."""
        while not self.stop.is_set():
            if not self.run_once():
                self.stop.wait(self._idle)

    def run_once(self) -> bool:
        """Process one message if there is one; False when every queue is empty."""
        message = self._queue.consume(QUEUES)
        if message is None:
            return False
        self._handle(message)
        return True

    def _handle(self, message: Message) -> None:
        try:
            crash_id, ruleset = parse_message(message.body)
        except MalformedMessage as exc:
            LOGGER.warning("dropping malformed message: %s", exc)
            self._queue.nack(message, f"{exc.code}: {exc}")
            return
        with crash_context(crash_id):
            if self._on_start is not None:
                self._on_start(message)
            try:
                self._processing = True
                try:
                    outcome = self._processor.process(crash_id, ruleset)
                finally:
                    self._processing = False
            except OverBudget as exc:
                # Released now, not at lease expiry: counted as an attempt, retried after back-off, and
                # dead-lettered with this reason after the last one. The worker then exits (see ``abandon``).
                LOGGER.error("abandoned (attempt %d): %s", message.attempt, exc.reason)
                self._failed(ruleset)
                self._queue.nack(message, exc.reason)
                raise
            except CrashcartError as exc:
                LOGGER.warning("processing failed (attempt %d): %s: %s", message.attempt, exc.code, exc)
                self._failed(ruleset)
                self._queue.nack(message, f"{exc.code}: {exc}")
            except Exception as exc:
                LOGGER.exception("processing failed (attempt %d)", message.attempt)
                self._failed(ruleset)
                self._queue.nack(message, f"{type(exc).__name__}")
            else:
                acking = time.perf_counter()
                self._queue.ack(message)
                outcome = replace(outcome, stages={**outcome.stages, "ack": time.perf_counter() - acking})
                if self._on_outcome is not None:
                    self._on_outcome(outcome, outcome.processed)
                LOGGER.info(
                    "processed",
                    extra={
                        "ruleset": outcome.ruleset,
                        "seconds": round(outcome.seconds, 4),
                        "notes": outcome.notes,
                        "attempt": message.attempt,
                        "queue": message.queue,
                        "stages": {stage: round(seconds, 6) for stage, seconds in outcome.stages.items()},
                    },
                )
            finally:
                if self._on_done is not None:
                    self._on_done()

    def _failed(self, ruleset: str) -> None:
        if self._on_failure is not None:
            self._on_failure(ruleset)
