"""The processor's composition root: the only place processor objects are built.

``serve_processor`` runs in the supervisor process: it validates everything a deployment configures (schemas
file, signature lists, optional rules) so a mistake stops the node at start, applies database migrations and
declares queues (idempotent, no post-deploy step), serves the status port, and supervises the workers.
``worker_main`` runs in each spawned worker: it builds its own backends, the in-process walker (whose symbol
caches stay warm for the worker's life) and the rulesets, then consumes until SIGTERM.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from siggen.generator import SignatureGenerator  # type: ignore[import-untyped]

from crashcart import database as db
from crashcart.errors import ConfigError, CrashcartError, MessageNotFound
from crashcart.logs import setup_logging
from crashcart.metrics import Metrics, clear_snapshots
from crashcart.processor.context import CrashContext
from crashcart.processor.pipeline import Pipeline, PipelineResult
from crashcart.processor.registry import RuleConfig, RulesetError
from crashcart.processor.rules.signature import SignatureGeneratorRule
from crashcart.processor.rules.stackwalk import StackwalkRule
from crashcart.processor.rulesets import build_ruleset, ruleset_names
from crashcart.processor.signature import build_signature_generator, load_signature_lists
from crashcart.processor.supervisor import ABANDON_SIGNAL, EXIT_ABANDONED, IDLE, Supervisor, WorkerSlots
from crashcart.processor.walker import InProcessWalker, Walker, walker_config
from crashcart.processor.worker import CrashProcessor, Outcome, OverBudget, RunRules, Worker
from crashcart.queue import open_queue
from crashcart.queue.interfaces import CrashQueue, Message
from crashcart.schemas import load_schemas
from crashcart.search.writer import CrashIndex
from crashcart.service import Check, Heartbeat, Status, open_backends, version_document
from crashcart.service.http import StatusServer
from crashcart.settings import Settings
from crashcart.stackwalk.stackwalker import Stackwalker
from crashcart.storage import Role, open_storage
from crashcart.storage.interfaces import ProcessedCrashWriter

LOGGER = logging.getLogger(__name__)


def rule_config(settings: Settings, walker: Walker | None = None) -> RuleConfig:
    """The rules' typed configuration from settings, with the worker's collaborators: ``walker`` (given: the
    composition root builds it) and the signature generator, built here once for every ruleset. Raises
    ``ConfigError`` naming the setting that is wrong."""
    try:
        schemas = load_schemas(settings.schema_extra_fields)
    except ValueError as exc:
        raise ConfigError(f"CRASHCART_SCHEMA_EXTRA_FIELDS: {exc}") from exc
    optional = frozenset(name.strip() for name in settings.processor_optional_rules.split(",") if name.strip())
    return RuleConfig(
        schemas=schemas,
        optional_rules=optional,
        beta_versions_file=settings.beta_versions_file,
        walker=walker,
        signature_generator=signature_generator(settings),
    )


def signature_generator(settings: Settings) -> SignatureGenerator:
    """siggen with the deployment's lists and its error handler; raises ``ConfigError`` naming the setting for
    a bad list."""
    try:
        lists = load_signature_lists(
            settings.signature_lists_dir, include_defaults=settings.signature_lists_include_defaults
        )
    except ConfigError as exc:
        raise ConfigError(f"CRASHCART_SIGNATURE_LISTS_DIR: {exc}") from exc
    return build_signature_generator(lists)


def build_pipelines(config: RuleConfig) -> dict[str, Pipeline]:
    """Every named ruleset as a pipeline, all from one configuration (so they share its walker and generator);
    raises ``ConfigError`` for a bad deployment choice."""
    try:
        return {name: Pipeline(build_ruleset(name, config)) for name in ruleset_names()}
    except RulesetError as exc:
        raise ConfigError(f"CRASHCART_PROCESSOR_OPTIONAL_RULES: {exc}") from exc


# The rules whose time is a stage of its own (``crashcart_processor_stage_seconds``); the others are ``rules``.
_RULE_STAGES = {StackwalkRule.name: "walk", SignatureGeneratorRule.name: "signature"}


def stage_split(result: PipelineResult) -> dict[str, float]:
    """The stages timed apart inside the pipeline (the stack walk, the signature); the worker counts the rest
    of the pipeline's time, its own overhead included, as ``rules``."""
    stages: dict[str, float] = {}
    for rule, seconds in result.durations.items():
        stage = _RULE_STAGES.get(rule)
        if stage is not None:
            stages[stage] = stages.get(stage, 0.0) + seconds
    return stages


def observed(pipeline: Pipeline, metrics: Metrics) -> RunRules:
    """The pipeline as the worker's ``run_rules``, recording per-rule time and failures; returns its stages."""

    def run(ctx: CrashContext) -> dict[str, float]:
        result = pipeline.run(ctx)
        for rule, seconds in result.durations.items():
            metrics.observe("crashcart_processor_rule_seconds", seconds, rule=rule)
        for failure in result.failures:
            metrics.incr("crashcart_processor_rule_failures_total", rule=failure.rule)
        return stage_split(result)

    return run


@dataclass
class WorkerParts:
    queue: CrashQueue
    processor: CrashProcessor
    metrics: Metrics
    walker: InProcessWalker
    index: CrashIndex
    pipelines: dict[str, Pipeline]

    def close(self) -> None:
        self.walker.close()
        self.index.close()
        self.queue.close()


def build_worker(settings: Settings, metrics: Metrics) -> WorkerParts:
    """Backends, walker and rulesets of one worker process."""
    storage = open_storage(settings, Role.PROCESSOR)
    queue = open_queue(settings)
    index = CrashIndex(settings)
    walker = InProcessWalker(Stackwalker(walker_config(settings)))
    config = rule_config(settings, walker)
    pipelines = build_pipelines(config)

    rulesets = {name: observed(pipeline, metrics) for name, pipeline in pipelines.items()}
    processor = CrashProcessor(storage, index, rulesets)
    return WorkerParts(queue, processor, metrics, walker, index, pipelines)


def record_outcome(metrics: Metrics, outcome: Outcome, processed: Mapping[str, Any] | None) -> None:
    """Per-crash metrics: time, walker status, and how far behind submission processing runs."""
    metrics.incr("crashcart_processor_crashes_total", ruleset=outcome.ruleset, outcome="processed")
    metrics.observe("crashcart_processor_crash_seconds", outcome.seconds)
    for stage, seconds in outcome.stages.items():
        metrics.observe("crashcart_processor_stage_seconds", seconds, stage=stage)
    if processed is None:
        return
    status = processed.get("mdsw_status_string")
    if isinstance(status, str):
        metrics.incr("crashcart_processor_walker_total", status=status[:40])
    submitted = processed.get("submitted_timestamp")
    if isinstance(submitted, str):
        try:
            when = dt.datetime.fromisoformat(submitted)
        except ValueError:
            return
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        latency = (dt.datetime.now(dt.UTC) - when).total_seconds()
        if latency >= 0:
            metrics.observe("crashcart_processor_ingestion_seconds", latency)


def worker_main(settings: Settings, slot: int, slots: WorkerSlots) -> None:
    """A spawned worker: build, then consume until SIGTERM (the crash in hand is finished first)."""
    setup_logging(settings.log_format, settings.log_level, secrets=settings.secret_values())
    metrics = Metrics(_metrics_dir(settings))
    metrics.start_snapshots()
    parts = build_worker(settings, metrics)
    # Start-up objects (schemas, lists, rules, imported modules) live as long as the worker: keep them out of
    # every later collection, which otherwise rescans them on each full GC in the middle of a stack walk.
    gc.freeze()

    def started(message: Message) -> None:
        slots.take(slot, dt.datetime.now(dt.UTC).timestamp(), held_note(message))

    def done() -> None:
        slots.done(slot)

    worker = Worker(
        parts.queue,
        parts.processor,
        idle_seconds=settings.processor_idle_seconds,
        on_start=started,
        on_done=done,
        on_outcome=lambda outcome, processed: record_outcome(metrics, outcome, processed),
        on_failure=lambda ruleset: metrics.incr("crashcart_processor_crashes_total", ruleset=ruleset, outcome="failed"),
    )

    def over_budget(*_: object) -> None:
        since = slots.busy_since[slot]
        worker.abandon(dt.datetime.now(dt.UTC).timestamp() - since if since != IDLE else 0.0)

    signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides; Ctrl-C reaches it
    signal.signal(ABANDON_SIGNAL, over_budget)
    LOGGER.info("processor worker %d ready", slot)
    try:
        worker.run()
    except OverBudget:
        # The message is released already; the interrupted walk may have left caches or connections
        # half-way, so this process ends and the supervisor starts a fresh one.
        raise SystemExit(EXIT_ABANDONED) from None
    finally:
        parts.close()
        metrics.write_snapshot()
        metrics.stop_snapshots()


def held_note(message: Message) -> bytes:
    """The note a worker leaves in shared memory about the delivery it holds (see ``release_held``)."""
    return json.dumps(dataclasses.asdict(message)).encode()


def release_held(queue: CrashQueue, note: bytes, reason: str) -> None:
    """Release, from the supervisor, the delivery a worker held when it was SIGKILLed or died.

    A backend that still holds the delivery for that consumer (SQLite, until someone else claims it) retries
    it after back-off, or dead-letters it, with ``reason``, instead of waiting out the lease; one that ties
    deliveries to the consumer's connection (RabbitMQ) put it back when the connection closed, and answers
    ``MessageNotFound``. Never raises: the supervisor's watch loop must go on.
    """
    try:
        message = Message(**json.loads(note))
    except (ValueError, TypeError):
        LOGGER.error("unreadable note of a dead worker's delivery: %r", note[:120])
        return
    try:
        queue.nack(message, reason)
    except MessageNotFound:
        LOGGER.info("%s: the queue already took back the dead worker's delivery (%s)", message.body, reason)
    except CrashcartError as exc:
        LOGGER.error("%s: cannot release the dead worker's delivery (%s): %s", message.body, reason, exc)
    else:
        LOGGER.warning("%s: released the dead worker's delivery: %s", message.body, reason)


def _metrics_dir(settings: Settings) -> Any:
    assert settings.metrics_dir is not None
    return settings.metrics_dir / "processor"


def validate_configuration(settings: Settings) -> None:
    """Build every ruleset once, so a bad schema file, signature list or optional rule stops the node at start
    (``ConfigError`` naming the setting) instead of crash-looping its workers."""
    walker = InProcessWalker(Stackwalker(walker_config(settings)))
    try:
        build_pipelines(rule_config(settings, walker))
    finally:
        walker.close()


def prepare(settings: Settings) -> tuple[CrashQueue, ProcessedCrashWriter]:
    """Start-up steps, once per node and idempotent: validate configuration, migrate, then the backends'
    shared start-up (``crashcart.service.open_backends``: declare queues, check storage)."""
    validate_configuration(settings)
    db.migrate(settings)
    backends = open_backends(settings, Role.PROCESSOR)
    return backends.queue, backends.storage


def serve_processor(settings: Settings, host: str, port: int | None = None, workers: int | None = None) -> None:
    """Run the processor until SIGTERM/SIGINT: status port plus ``workers`` supervised worker processes."""
    queue, storage = prepare(settings)
    index = CrashIndex(settings)
    clear_snapshots(_metrics_dir(settings))
    metrics = Metrics(_metrics_dir(settings))
    heartbeat = Heartbeat(
        [Check("storage", storage.check), Check("queue", queue.check), Check("index", index.check)], metrics
    )
    status = StatusServer(
        host,
        settings.processor_status_port if port is None else port,
        Status(heartbeat, version_document(settings), metrics, queue.depth),
        thread_name="processor-status",
    )
    status.start()
    count = workers or settings.processor_workers
    supervisor = Supervisor(
        functools.partial(worker_main, settings),
        count,
        settings.processor_crash_budget,
        on_kill=lambda slot, seconds: metrics.incr("crashcart_processor_worker_kills_total"),
        on_restart=lambda slot: metrics.incr("crashcart_processor_worker_restarts_total"),
        on_unreleased=functools.partial(release_held, queue),
    )
    supervisor.install_signal_handlers()
    LOGGER.info(
        "processor running", extra={"workers": count, "status_port": status.port, "storage": settings.storage_url}
    )
    try:
        supervisor.run()
    finally:
        status.stop()
        heartbeat.close()
        index.close()
        queue.close()
        storage.close()


def _end_with_parent(parent: int) -> None:
    """Have the kernel send SIGTERM (a graceful stop) when ``run`` ends, however it ends (Linux).

    In a process group of its own the child no longer gets the terminal's signals with ``run``; if ``run`` is
    killed outright, this keeps its processor from living on without it.
    """
    if sys.platform == "linux":
        import ctypes  # noqa: PLC0415  (Linux only)

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # ``run`` was gone before the request took effect
        raise SystemExit(1)


class ProcessorProcess:
    """The processor supervisor in a child process, for ``crashcart run`` (which serves the collector itself).

    ``watch`` tells ``run`` when the child ends by itself (a database down at start, an OOM kill later), so
    ``run`` can stop the collector with it rather than accept crashes nothing will process.
    """

    def __init__(self, settings: Settings, host: str) -> None:
        import multiprocessing  # noqa: PLC0415  (only ``run`` needs it)

        self._stopping = threading.Event()
        #: True once the child is found ended without ``stop`` having asked it to.
        self.stopped_by_itself = False
        self._process = multiprocessing.get_context("spawn").Process(
            target=_processor_child, args=(settings, host, os.getpid()), name="crashcart-processor", daemon=False
        )
        self._process.start()

    @property
    def exitcode(self) -> int | None:
        """The child's exit status (negative: the signal that killed it); ``None`` while it runs."""
        return self._process.exitcode

    def watch(self, on_exit: Callable[[int], None]) -> None:
        """Call ``on_exit(exitcode)`` from a daemon thread if the child ends before ``stop`` is called."""

        def wait() -> None:
            self._process.join()
            self._kill_leftovers()
            if not self._stopping.is_set():
                self.stopped_by_itself = True
                on_exit(self._process.exitcode if self._process.exitcode is not None else -1)

        threading.Thread(target=wait, name="processor-watch", daemon=True).start()

    def stop(self, timeout: float = 60.0) -> None:
        if not self._stopping.is_set() and not self._process.is_alive():
            self.stopped_by_itself = True
        self._stopping.set()
        if self._process.is_alive() and self._process.pid is not None:
            os.kill(self._process.pid, signal.SIGTERM)
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(10)
        self._kill_leftovers()

    def _kill_leftovers(self) -> None:
        """SIGKILL whatever is left of the child's process group: the workers of a supervisor that was killed
        would otherwise live on as orphans, consuming the queue for a ``run`` that has stopped."""
        if self._process.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)


def _processor_child(settings: Settings, host: str, parent: int) -> None:
    os.setpgid(0, 0)  # a group of its own, so ``ProcessorProcess`` can end the workers along with it
    _end_with_parent(parent)
    setup_logging(settings.log_format, settings.log_level, secrets=settings.secret_values())
    try:
        serve_processor(settings, host)
    except CrashcartError as exc:
        # One line, as ``crashcart processor`` would print it, rather than multiprocessing's traceback.
        LOGGER.error("the processor cannot run: %s: %s", exc.code, exc)
        raise SystemExit(1) from None
