"""The worker loop and one crash's processing, on real file storage, SQLite queue and SQLite index."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import threading
import time
from pathlib import Path

import pytest

import crashcart
from crashcart.crashid import create_crash_id
from crashcart.processor.context import CrashContext
from crashcart.processor.supervisor import ABANDON_SIGNAL
from crashcart.processor.worker import (
    MAX_HISTORY,
    STAGES,
    CrashProcessor,
    MalformedMessage,
    Outcome,
    OverBudget,
    Worker,
    parse_message,
)
from crashcart.queue.sqlite import SQLiteCrashQueue
from crashcart.search.writer import CrashIndex
from crashcart.storage.access import Role
from crashcart.storage.fs import FSCrashStorage
from crashcart.storage.interfaces import DumpFile

DUMP = b"MDMP" + bytes(200)
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


def _signature_rules(ctx: CrashContext) -> None:
    """A tiny ruleset: enough to see rules run, read dumps and write fields."""
    ctx.processed["signature"] = f"crash in {ctx.raw_crash['ProductName']}"
    ctx.processed["product"] = ctx.raw_crash["ProductName"]
    ctx.processed["dump_sizes"] = {name: path.stat().st_size for name, path in ctx.dumps.items()}
    ctx.note("signature rules ran")


def _regenerate(ctx: CrashContext) -> None:
    ctx.processed["signature"] = "regenerated"


def _broken_rules(ctx: CrashContext) -> None:
    raise RuntimeError("a rule that blows up every time")


def _slow_rules(ctx: CrashContext) -> None:
    time.sleep(30)  # a walk that does not end; the over-budget signal interrupts it


class Env:
    def __init__(self, tmp_path: Path, index: CrashIndex) -> None:
        self.workdir = tmp_path
        self.admin = FSCrashStorage(tmp_path / "storage")
        self.storage = FSCrashStorage(tmp_path / "storage", role=Role.PROCESSOR)
        self.queue = SQLiteCrashQueue(tmp_path / "queue.sqlite3", 2, 30.0, 0.0)
        self.queue.declare()
        self.index = index
        rulesets = {
            "default": _signature_rules,
            "broken": _broken_rules,
            "slow": _slow_rules,
            "regenerate_signature": _regenerate,
        }
        self.processor = CrashProcessor(self.storage, index, rulesets, workdir=tmp_path)
        self.worker = Worker(self.queue, self.processor, idle_seconds=0.01)

    def store(self, submitted: dt.datetime = NOW, *, stamp: str | None = None) -> str:
        crash_id = create_crash_id(submitted)
        raw = {
            "ProductName": "Test",
            "Version": "1.0",
            "submitted_timestamp": stamp or submitted.isoformat(),
            "uuid": crash_id,
        }
        dump = DumpFile("upload_file_minidump", len(DUMP), hashlib.sha256(DUMP).hexdigest(), data=DUMP)
        self.admin.save_raw_crash(crash_id, raw, [dump])
        return crash_id

    def drain(self) -> None:
        while self.worker.run_once():
            pass


@pytest.fixture
def env(tmp_path: Path, crash_index: CrashIndex) -> Env:
    return Env(tmp_path, crash_index)


def test_processed_crash_is_saved_indexed_then_acked(env: Env) -> None:
    crash_id = env.store()
    env.queue.publish("standard", [crash_id])
    env.drain()
    processed = env.admin.get_processed_crash(crash_id)
    assert processed["signature"] == "crash in Test"
    assert processed["dump_sizes"] == {"upload_file_minidump": len(DUMP)}
    assert processed["processor_notes"] == "signature rules ran"
    [run] = processed["processor_history"]
    assert run == {
        "processed_at": processed["completed_datetime"],
        "ruleset": "default",
        "processor_version": crashcart.__version__,
        "stackwalk_version": None,  # these rules do not walk
        "signature": "crash in Test",
        "processor_notes": "signature rules ran",
    }
    assert processed["started_datetime"] <= processed["completed_datetime"]
    assert processed["date_processed"] == NOW.isoformat()  # the submission, not the processing
    row = env.index.get(crash_id)
    assert row is not None and row["signature"] == "crash in Test"
    assert row["date"] == NOW  # date_processed, the submission
    depth = env.queue.depth()["standard"]
    assert (depth.ready, depth.in_flight, depth.dead) == (0, 0, 0)


def test_every_run_is_recorded_in_the_history_and_date_processed_never_moves(env: Env) -> None:
    crash_id = env.store()
    bodies = [crash_id, f"{crash_id}:regenerate_signature", crash_id]
    for body in bodies:
        env.queue.publish("reprocessing", [body])
        env.drain()
    processed = env.admin.get_processed_crash(crash_id)
    history = processed["processor_history"]
    assert [h["ruleset"] for h in history] == ["default", "regenerate_signature", "default"]
    assert [h["signature"] for h in history] == ["crash in Test", "regenerated", "crash in Test"]
    stamps = [dt.datetime.fromisoformat(h["processed_at"]) for h in history]
    assert stamps == sorted(stamps) and stamps[-1] == dt.datetime.fromisoformat(processed["completed_datetime"])
    assert processed["date_processed"] == NOW.isoformat()


def test_history_is_bounded_and_keeps_older_entries(env: Env) -> None:
    crash_id = env.store()
    old = [{"date_processed": f"2020-01-{day:02}T00:00:00+00:00", "processor_notes": ""} for day in range(1, 31)]
    env.processor.process(crash_id)
    env.admin.save_processed_crash(crash_id, {**env.admin.get_processed_crash(crash_id), "processor_history": old})
    history = env.processor.process(crash_id, "regenerate_signature").processed["processor_history"]
    assert len(history) == MAX_HISTORY
    assert history[:-1] == old[-(MAX_HISTORY - 1) :]  # the oldest dropped, the rest kept as they were
    assert history[-1]["ruleset"] == "regenerate_signature"


def test_missing_submitted_timestamp_dates_the_crash_by_its_id(env: Env) -> None:
    crash_id = env.store(stamp="garbage")
    processed = env.processor.process(crash_id, "regenerate_signature").processed
    assert processed["date_processed"] == "2026-11-26T00:00:00+00:00"


def test_priority_is_taken_before_standard(env: Env) -> None:
    later, urgent = env.store(), env.store()
    env.queue.publish("standard", [later])
    env.queue.publish("priority", [urgent])
    order: list[str] = []
    worker = Worker(env.queue, env.processor, on_start=lambda message: order.append(message.body))
    while worker.run_once():
        pass
    assert order == [urgent, later]


def test_id_date_disagreeing_with_submission_gets_a_note_and_the_ids_date(env: Env) -> None:
    crash_id = env.store(dt.datetime(2026, 11, 25, 23, 59, 59, tzinfo=dt.UTC), stamp="2026-11-26T00:00:00+00:00")
    env.queue.publish("standard", [crash_id])
    env.drain()
    assert "disagrees with submitted_timestamp" in env.admin.get_processed_crash(crash_id)["processor_notes"]
    row = env.index.get(crash_id)
    assert row is not None and row["date"] == dt.datetime(2026, 11, 26, tzinfo=dt.UTC)  # date_processed


def test_poison_crash_is_dead_lettered_without_stopping_other_work(env: Env) -> None:
    poison, good = env.store(), env.store()
    env.queue.publish("standard", [f"{poison}:broken", good])
    env.drain()
    assert env.admin.get_processed_crash(good)["signature"] == "crash in Test"
    dead = env.queue.dead_letters("standard")
    assert [(d.body, d.attempts) for d in dead] == [(f"{poison}:broken", 2)]
    assert dead[0].reason == "RuntimeError"
    assert env.index.get(poison) is None


def test_missing_crash_and_malformed_messages_are_dead_lettered_with_reasons(env: Env) -> None:
    missing = create_crash_id(NOW)
    env.queue.publish("standard", [missing, "not-a-crash-id", f"{env.store()}:no_such_ruleset"])
    env.drain()
    reasons = sorted(d.reason.split(":")[0] for d in env.queue.dead_letters("standard"))
    assert reasons == ["crash_not_found", "malformed_message", "malformed_message"]


def test_crash_abandoned_over_budget_is_released_at_once_with_the_reason(env: Env) -> None:
    crash_id = env.store()
    env.queue.publish("standard", [f"{crash_id}:slow"])
    previous = signal.signal(ABANDON_SIGNAL, lambda *_: env.worker.abandon(0.2))
    # The supervisor's request, from outside the main thread; the handler runs in the main thread, mid-rule.
    sender = threading.Timer(0.2, os.kill, (os.getpid(), ABANDON_SIGNAL))
    sender.start()
    try:
        with pytest.raises(OverBudget, match=r"over budget: 0\.2 s"):
            env.worker.run_once()
    finally:
        sender.join()
        signal.signal(ABANDON_SIGNAL, previous)
    depth = env.queue.depth()["standard"]
    assert (depth.in_flight, depth.ready + depth.delayed) == (0, 1)  # released, not waiting for its lease
    message = env.queue.consume()
    assert message is not None and message.attempt == 2  # the abandoned attempt counted
    env.queue.nack(message, "over budget: 0.2 s")
    assert [(d.attempts, d.reason) for d in env.queue.dead_letters("standard")] == [(2, "over budget: 0.2 s")]


def test_abandon_between_crashes_only_stops_the_loop(env: Env) -> None:
    env.worker.abandon(5.0)
    assert env.worker.stop.is_set()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("de1bb258-cbbf-4589-a673-34f800160918", ("de1bb258-cbbf-4589-a673-34f800160918", "default")),
        (
            "de1bb258-cbbf-4589-a673-34f800160918:regenerate_signature",
            ("de1bb258-cbbf-4589-a673-34f800160918", "regenerate_signature"),
        ),
    ],
)
def test_parse_message(body: str, expected: tuple[str, str]) -> None:
    assert parse_message(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "",
        "bp-de1bb258",
        "de1bb258-cbbf-4589-a673-34f800160918:../x",
        "de1bb258-cbbf-4589-a673-34f800160918:d\u00e9fault",  # isalnum() accepts non-ASCII letters
    ],
)
def test_parse_message_refuses_garbage(body: str) -> None:
    with pytest.raises(MalformedMessage):
        parse_message(body)


def test_partial_ruleset_updates_the_stored_processed_crash(env: Env) -> None:
    crash_id = env.store()
    env.queue.publish("standard", [crash_id])
    env.drain()
    env.queue.publish("reprocessing", [f"{crash_id}:regenerate_signature"])
    env.drain()
    processed = env.admin.get_processed_crash(crash_id)
    assert processed["signature"] == "regenerated"
    assert processed["dump_sizes"] == {"upload_file_minidump": len(DUMP)}  # kept from the full processing
    assert processed["processor_notes"] == ""  # this run's notes only; the earlier ones are in the history
    assert processed["processor_history"][-2]["processor_notes"] == "signature rules ran"
    row = env.index.get(crash_id)
    assert row is not None and row["signature"] == "regenerated"


def test_outcome_times_each_stage_and_the_ack(env: Env) -> None:
    def split_rules(ctx: CrashContext) -> dict[str, float]:
        _signature_rules(ctx)
        time.sleep(0.05)
        return {"walk": 0.01, "signature": 0.02}  # as the pipeline reports the stages it times apart

    outcomes: list[Outcome] = []
    processor = CrashProcessor(
        env.storage, env.index, {"default": _signature_rules, "split": split_rules}, workdir=env.workdir
    )
    worker = Worker(env.queue, processor, on_outcome=lambda outcome, processed: outcomes.append(outcome))
    first, second = env.store(), env.store()
    env.queue.publish("standard", [first, f"{second}:split"])
    while worker.run_once():
        pass
    plain, split = outcomes
    # A ruleset that does not split its time counts it all as ``rules``; the worker adds the ack.
    assert set(plain.stages) == {"load", "rules", "save", "index", "ack"}
    assert all(seconds > 0 for seconds in plain.stages.values()), plain.stages
    assert sum(v for k, v in plain.stages.items() if k != "ack") == pytest.approx(plain.seconds, rel=1e-6)
    assert set(split.stages) == set(STAGES)
    assert (split.stages["walk"], split.stages["signature"]) == (0.01, 0.02)
    assert 0.05 - 0.03 <= split.stages["rules"] < 1  # the ruleset's time less the stages timed apart
