"""The processor end to end: composition root in process, and ``crashcart processor`` as real processes."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest
from siggen.generator import SignatureGenerator  # type: ignore[import-untyped]

import crashcart
from crashcart.crashid import create_crash_id
from crashcart.errors import ConfigError
from crashcart.metrics import Metrics
from crashcart.processor.app import build_worker, prepare, record_outcome, release_held
from crashcart.processor.rules.signature import SignatureGeneratorRule
from crashcart.processor.rules.stackwalk import StackwalkRule
from crashcart.processor.signature.generator import log_rule_error
from crashcart.processor.supervisor import Supervisor
from crashcart.processor.worker import STAGES, Worker
from crashcart.queue import open_queue
from crashcart.queue.amqp import AMQPCrashQueue
from crashcart.queue.interfaces import CrashQueue, QueueDepth
from crashcart.queue.sqlite import SQLiteCrashQueue
from crashcart.search.fields import catalogue
from crashcart.settings import Settings, load_settings
from crashcart.stackwalk import WALKER_VERSION
from crashcart.storage.fs import FSCrashStorage
from crashcart.storage.interfaces import DumpFile
from tests.helpers.collector import free_port
from tests.processor.supervised import deaf_queue_worker

FIXTURES = Path(__file__).parents[1] / "fixtures"
DUMP = FIXTURES / "minidump" / "linux-mini.dmp"
SYMBOLS = FIXTURES / "symbols" / "store"
ROOT = Path(__file__).resolve().parents[2]
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def _store(settings: Settings, dump: Path = DUMP, **annotations: str) -> str:
    now = dt.datetime.now(dt.UTC)
    crash_id = create_crash_id(now)
    data = dump.read_bytes()
    raw = {"ProductName": "Test", "Version": "1.2.3", "submitted_timestamp": now.isoformat(), **annotations}
    storage = FSCrashStorage(settings.data_dir / "storage")
    storage.save_raw_crash(
        crash_id, raw, [DumpFile("upload_file_minidump", len(data), hashlib.sha256(data).hexdigest(), data=data)]
    )
    return crash_id


def test_default_ruleset_processes_a_real_minidump_in_process(tmp_path: Path, index_url: str) -> None:
    settings = load_settings(
        environ={}, data_dir=tmp_path, database_url=index_url, symbols_urls=SYMBOLS.resolve().as_uri()
    )
    queue, storage = prepare(settings)
    parts = build_worker(settings, Metrics(None))
    try:
        crash_id = _store(settings, URL="https://secret.example/private", Email="someone@example.com")
        queue.publish("standard", [crash_id])
        assert Worker(parts.queue, parts.processor).run_once()
        processed = FSCrashStorage(tmp_path / "storage").get_processed_crash(crash_id)
        assert processed["json_dump"]["crashing_thread"]["frames"], processed["processor_notes"]
        assert processed["signature"] and processed["signature"] != "EMPTY: no crashing thread identified"
        assert processed["product"] == "Test" and processed["major_version"] == 1
        assert processed["os_name"] == "Linux"
        assert processed["stackwalk_version"]
        row = parts.index.get(crash_id)
        assert row is not None and row["signature"] == processed["signature"] and row["platform"] == "Linux"
        data = row["data"]
        assert data["url"] == "https://secret.example/private"  # protected fields are indexed: search filters them
        assert set(data) <= set(catalogue().fields)  # catalogue fields only, by their Super Search names
        for not_searchable in ("email", "signature_debug", "collector_metadata", "json_dump", "os_name"):
            assert not_searchable not in data
        assert "someone@example.com" not in json.dumps(row, default=str)
        assert queue.depth()["standard"].in_flight == 0
    finally:
        parts.close()
        queue.close()
        storage.close()


def test_date_processed_and_history_of_a_real_minidump_across_rulesets(tmp_path: Path, index_url: str) -> None:
    settings = load_settings(
        environ={}, data_dir=tmp_path, database_url=index_url, symbols_urls=SYMBOLS.resolve().as_uri()
    )
    queue, storage = prepare(settings)
    parts = build_worker(settings, Metrics(None))
    try:
        crash_id = _store(settings)
        submitted = FSCrashStorage(tmp_path / "storage").get_raw_crash(crash_id)["submitted_timestamp"]
        dates = []
        for body in [crash_id, f"{crash_id}:regenerate_signature", crash_id]:
            queue.publish("reprocessing", [body])
            assert Worker(parts.queue, parts.processor).run_once()
            processed = FSCrashStorage(tmp_path / "storage").get_processed_crash(crash_id)
            dates.append(processed["date_processed"])
        assert dates == [dt.datetime.fromisoformat(submitted).isoformat()] * 3  # the submission, every time
        row = parts.index.get(crash_id)
        assert row is not None and row["date"] == dt.datetime.fromisoformat(dates[0])
        history = processed["processor_history"]
        assert [h["ruleset"] for h in history] == ["default", "regenerate_signature", "default"]
        assert {h["stackwalk_version"] for h in history} == {WALKER_VERSION}
        assert {h["processor_version"] for h in history} == {crashcart.__version__}
        assert {h["signature"] for h in history} == {processed["signature"]}
        stamps = [h["processed_at"] for h in history]
        assert stamps == sorted(stamps) and stamps[-1] == processed["completed_datetime"] > submitted
        assert processed["started_datetime"] <= processed["completed_datetime"]
    finally:
        parts.close()
        queue.close()
        storage.close()


def test_one_signature_generator_per_worker_shared_by_every_ruleset(
    tmp_path: Path, index_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path, database_url=index_url)
    built: list[SignatureGenerator] = []
    real_init = SignatureGenerator.__init__

    def counting_init(self: SignatureGenerator, *args: Any, **kwargs: Any) -> None:
        built.append(self)  # a count of constructions; the real constructor runs
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(SignatureGenerator, "__init__", counting_init)
    parts = build_worker(settings, Metrics(None))
    try:
        assert len(built) == 1  # once per worker, not per ruleset
        rules = [rule for pipeline in parts.pipelines.values() for rule in pipeline.rules]
        signs = [rule for rule in rules if isinstance(rule, SignatureGeneratorRule)]
        assert sorted(parts.pipelines) == ["default", "regenerate_signature"] and len(signs) == 2
        assert signs[0].generator is signs[1].generator is built[0]
        assert built[0].error_handler is log_rule_error
        walks = [rule for rule in rules if isinstance(rule, StackwalkRule)]
        assert [rule.walker for rule in walks] == [parts.walker]
    finally:
        parts.close()


def test_processing_a_real_crash_records_every_stage(
    tmp_path: Path, index_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(
        environ={}, data_dir=tmp_path, database_url=index_url, symbols_urls=SYMBOLS.resolve().as_uri()
    )
    queue, storage = prepare(settings)
    metrics = Metrics(None)
    parts = build_worker(settings, metrics)
    try:
        crash_id = _store(settings)
        queue.publish("standard", [crash_id])
        # Wired as ``worker_main`` wires it: the outcome goes to ``record_outcome``.
        worker = Worker(parts.queue, parts.processor, on_outcome=lambda o, p: record_outcome(metrics, o, p))
        with caplog.at_level(logging.INFO, logger="crashcart.processor.worker"):
            assert worker.run_once()
    finally:
        parts.close()
        queue.close()
        storage.close()
    hists = {(name, tuple(key)): (total, n) for name, key, _, total, n in metrics.snapshot()["hists"]}  # type: ignore[attr-defined]
    stages = {key[0]: total for (name, key), (total, n) in hists.items() if name == "crashcart_processor_stage_seconds"}
    assert set(stages) == set(STAGES), stages
    assert all(hists[("crashcart_processor_stage_seconds", (stage,))][1] == 1 for stage in STAGES)
    assert all(seconds > 0 for seconds in stages.values()), stages
    # The walk and signature stages are those rules' own times; the rest of the pipeline is ``rules``.
    assert stages["walk"] == hists[("crashcart_processor_rule_seconds", ("minidump_stackwalk",))][0]
    assert stages["signature"] == hists[("crashcart_processor_rule_seconds", ("signature_generator",))][0]
    crash_total = hists[("crashcart_processor_crash_seconds", ())][0]
    assert sum(stages.values()) - stages["ack"] == pytest.approx(crash_total, rel=1e-6)
    (logged,) = [r for r in caplog.records if r.getMessage() == "processed"]
    assert set(logged.stages) == set(STAGES)  # type: ignore[attr-defined]


def test_bad_optional_rule_stops_the_processor_at_start(tmp_path: Path, index_url: str) -> None:
    settings = load_settings(
        environ={}, data_dir=tmp_path, database_url=index_url, processor_optional_rules="no_such_rule"
    )
    with pytest.raises(ConfigError, match=r"CRASHCART_PROCESSOR_OPTIONAL_RULES.*no_such_rule"):
        prepare(settings)


# --- real processes ---------------------------------------------------------------------------


class ProcessorProcess:
    """``crashcart processor --workers 2`` in a subprocess, up once its status port answers."""

    def __init__(self, data_dir: Path, workers: int = 2, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith("CRASHCART_")}
        self.env = {
            **base,
            "CRASHCART_DATA_DIR": str(data_dir),
            "CRASHCART_SYMBOLS_URLS": SYMBOLS.resolve().as_uri(),
            "CRASHCART_QUEUE_LEASE_SECONDS": "3",
            "CRASHCART_QUEUE_RETRY_BASE_SECONDS": "0.2",
            "CRASHCART_PROCESSOR_IDLE_SECONDS": "0.05",
            **env,
        }
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = (data_dir / "processor.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crashcart.cli", "processor", "--workers", str(workers), "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/__lbheartbeat__", timeout=2):
                    break
            except OSError:
                assert self.process.poll() is None, (data_dir / "processor.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "processor did not start"
                time.sleep(0.2)

    def workers(self) -> list[psutil.Process]:
        return [p for p in psutil.Process(self.process.pid).children() if "spawn" in " ".join(p.cmdline())]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(60)
        self.log.close()
        return code


@pytest.fixture
def processor(tmp_path: Path) -> Iterator[ProcessorProcess]:
    proc = ProcessorProcess(tmp_path)
    yield proc
    if proc.process.poll() is None:
        proc.stop()


def _wait_processed(settings: Settings, ids: list[str], timeout: float = 120) -> None:
    storage = FSCrashStorage(settings.data_dir / "storage")
    deadline = time.monotonic() + timeout
    missing = list(ids)
    while missing:
        assert time.monotonic() < deadline, f"{len(missing)} crashes never processed"
        time.sleep(0.2)
        missing = [i for i in missing if not (settings.data_dir / "storage" / "v1" / "processed_crash" / i).exists()]
    assert all(storage.get_processed_crash(i)["uuid"] == i for i in ids)


class SlowSymbolServer:
    """A symbol server that holds every request for a debug file in ``hang`` until ``release`` is set (404s
    the rest): a worker asking it for symbols is provably in the middle of a crash."""

    def __init__(self, hang: str) -> None:
        self.release = threading.Event()
        self.held = threading.Event()
        self.held_from = 0  # client port of the held request
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if hang in self.path:
                    server.held_from = self.client_address[1]
                    server.held.set()
                    server.release.wait(120)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/"
        self.port = int(self._http.server_address[1])
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def holder(self, workers: list[psutil.Process]) -> psutil.Process:
        """The worker whose request the server is holding (other workers may keep idle connections to it)."""
        for worker in workers:
            for conn in worker.net_connections("tcp"):
                if conn.raddr and conn.raddr.port == self.port and conn.laddr.port == self.held_from:
                    return worker
        raise AssertionError("no worker is connected to the symbol server")

    def close(self) -> None:
        self.release.set()
        self._http.shutdown()
        self._http.server_close()


@pytest.fixture
def slow_symbols() -> Iterator[SlowSymbolServer]:
    server = SlowSymbolServer(hang="test_app.pdb")  # the main module of minidump2.dmp
    yield server
    server.close()


def _drained(queue: CrashQueue, name: str = "standard", timeout: float = 60) -> QueueDepth:
    deadline = time.monotonic() + timeout
    depth = queue.depth()[name]
    while depth.ready or depth.in_flight or depth.delayed:
        assert time.monotonic() < deadline, depth
        time.sleep(0.1)
        depth = queue.depth()[name]
    return depth


def _log_events(log: Path) -> list[dict[str, Any]]:
    events = []
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict):
                events.append(event)
    return events


def _processed_events(log: Path) -> list[dict[str, Any]]:
    return [event for event in _log_events(log) if event.get("event") == "processed"]


@pytest.mark.slow
def test_sigkill_of_a_worker_mid_crash_leaves_exactly_one_processed_crash(
    tmp_path: Path, slow_symbols: SlowSymbolServer
) -> None:
    processor = ProcessorProcess(tmp_path, CRASHCART_SYMBOLS_URLS=slow_symbols.url)
    try:
        settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path)})
        held = _store(settings, FIXTURES / "minidump" / "minidump2.dmp")
        others = [_store(settings) for _ in range(10)]
        queue = open_queue(settings)
        queue.publish("standard", [held, *others])
        assert slow_symbols.held.wait(60), "no worker asked for symbols"
        victim = slow_symbols.holder(processor.workers())
        victim.kill()  # mid-crash: symbols requested, nothing saved, message not acked
        slow_symbols.release.set()
        _wait_processed(settings, [held, *others])
        assert _drained(queue).dead == 0
        files = sorted((tmp_path / "storage" / "v1" / "processed_crash").iterdir())
        assert [f.name for f in files] == sorted([held, *others])  # one processed crash each, no strays
        events = _processed_events(tmp_path / "processor.log")
        assert sorted(e["crash_id"] for e in events) == sorted([held, *others])  # each processed exactly once
        assert [e["attempt"] for e in events if e["crash_id"] == held] == [2]  # after redelivery
        with urllib.request.urlopen(f"http://127.0.0.1:{processor.port}/metrics", timeout=10) as response:
            metrics = response.read().decode()
        assert "crashcart_processor_worker_restarts_total 1" in metrics
        assert 'crashcart_queue_depth{queue="standard",state="ready"} 0' in metrics
        queue.close()
    finally:
        assert processor.stop() == 0


def _queue_env(kind: str) -> dict[str, str]:
    """The queue settings of a processor test on ``kind``: the data directory's SQLite, or a fresh RabbitMQ prefix."""
    if kind == "sqlite":
        return {}
    return {"CRASHCART_QUEUE_URL": AMQP_URL, "CRASHCART_QUEUE_PREFIX": f"crashcart.test.{uuid.uuid4().hex[:12]}."}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("amqp", marks=pytest.mark.rabbitmq)])
def test_crash_over_its_time_budget_is_released_at_once_retried_then_dead_lettered_with_the_reason(
    tmp_path: Path, slow_symbols: SlowSymbolServer, kind: str
) -> None:
    lease = 120.0  # far longer than the test may take: a release that waited for the lease would fail it
    env = {
        **_queue_env(kind),
        "CRASHCART_SYMBOLS_URLS": slow_symbols.url,
        "CRASHCART_PROCESSOR_CRASH_BUDGET": "1.5",
        "CRASHCART_QUEUE_MAX_ATTEMPTS": "2",
        "CRASHCART_QUEUE_LEASE_SECONDS": str(lease),
    }
    processor = ProcessorProcess(tmp_path, **env)
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path), **env})
    queue = open_queue(settings)
    try:
        stuck = _store(settings, FIXTURES / "minidump" / "minidump2.dmp")  # its symbols never come
        good = [_store(settings) for _ in range(3)]
        published = time.monotonic()
        queue.publish("standard", [stuck, *good])
        _wait_processed(settings, good)  # the other worker goes on meanwhile
        deadline = published + lease / 2
        while not queue.dead_letters("standard"):
            assert time.monotonic() < deadline, "not dead-lettered before half a lease: not released at once"
            time.sleep(0.1)
        dead = queue.dead_letters("standard")
        assert [d.body for d in dead] == [stuck] and dead[0].attempts == 2
        assert re.fullmatch(r"over budget: \d+\.\d s", dead[0].reason), dead[0].reason
        assert float(dead[0].reason.split()[2]) >= 1.5
        assert not (tmp_path / "storage" / "v1" / "processed_crash" / stuck).exists()
        released = [e for e in _log_events(tmp_path / "processor.log") if str(e.get("event")).startswith("abandoned")]
        assert [(e["crash_id"], e["event"].split(")")[0]) for e in released] == [
            (stuck, "abandoned (attempt 1"),
            (stuck, "abandoned (attempt 2"),
        ]
        with urllib.request.urlopen(f"http://127.0.0.1:{processor.port}/metrics", timeout=10) as response:
            assert "crashcart_processor_worker_kills_total 2" in response.read().decode()
    finally:
        slow_symbols.release.set()
        assert processor.stop() == 0
        if kind == "amqp":
            assert isinstance(queue, AMQPCrashQueue)
            queue.delete_queues()
        queue.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("amqp", marks=pytest.mark.rabbitmq)])
def test_message_of_a_worker_killed_past_the_grace_is_released_by_the_supervisor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    lease = 120.0  # far longer than the test may take: a release that waited for the lease would fail it
    spec: dict[str, Any] = {"kind": kind, "attempts": 2, "lease": lease, "base": 0.2}
    queue: CrashQueue
    if kind == "sqlite":
        spec["path"] = str(tmp_path / "queue.sqlite3")
        queue = SQLiteCrashQueue(spec["path"], 2, lease, 0.2)
    else:
        spec |= {"url": AMQP_URL, "prefix": f"crashcart.test.{uuid.uuid4().hex[:12]}."}
        queue = AMQPCrashQueue(AMQP_URL, 2, lease, 0.2, prefix=spec["prefix"])
    queue.declare()
    monkeypatch.setenv("SUPERVISED_QUEUE", json.dumps(spec))  # spawned workers inherit the environment
    supervisor = Supervisor(
        deaf_queue_worker, 1, budget=0.3, grace=2, release_grace=0.5, on_unreleased=partial(release_held, queue)
    )
    thread = threading.Thread(target=supervisor.run, daemon=True)
    thread.start()
    try:
        queue.publish("standard", ["stuck-in-c"])
        deadline = time.monotonic() + lease / 2
        while not queue.dead_letters("standard"):
            assert time.monotonic() < deadline, "not dead-lettered before half a lease: not released at once"
            time.sleep(0.1)
        [dead] = queue.dead_letters("standard")
        assert (dead.body, dead.attempts) == ("stuck-in-c", 2)
        if kind == "sqlite":  # the supervisor's nack by receipt released it, with the reason
            assert re.fullmatch(r"over budget: \d+\.\d s", dead.reason), dead.reason
        else:  # the broker took it back when the killed worker's connection closed; the reason is the broker's
            assert dead.reason == "consumer died or overran its lease on attempt 2"
        assert supervisor.kills == 2
    finally:
        supervisor.stop()
        thread.join(30)
        if isinstance(queue, AMQPCrashQueue):
            queue.delete_queues()
        queue.close()


@pytest.mark.slow
def test_poison_crash_is_dead_lettered_and_a_misdated_crash_filed_under_its_id(processor: ProcessorProcess) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(processor.data_dir)})
    good = [_store(settings) for _ in range(3)]
    # An id dated yesterday whose submitted_timestamp says today (a resubmitter's bug; Socorro's partition bug).
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    misdated = create_crash_id(yesterday)
    data = DUMP.read_bytes()
    FSCrashStorage(processor.data_dir / "storage").save_raw_crash(
        misdated,
        {"ProductName": "Test", "Version": "1.0", "submitted_timestamp": dt.datetime.now(dt.UTC).isoformat()},
        [DumpFile("upload_file_minidump", len(data), hashlib.sha256(data).hexdigest(), data=data)],
    )
    poison = create_crash_id(dt.datetime.now(dt.UTC))  # published but never stored: fails every attempt
    queue = open_queue(settings)
    queue.publish("standard", [poison, *good, misdated])
    _wait_processed(settings, [*good, misdated])
    deadline = time.monotonic() + 60
    while not queue.dead_letters("standard"):
        assert time.monotonic() < deadline, "poison crash never dead-lettered"
        time.sleep(0.2)
    dead = queue.dead_letters("standard")
    assert [d.body for d in dead] == [poison] and dead[0].reason.startswith("crash_not_found")
    notes = FSCrashStorage(processor.data_dir / "storage").get_processed_crash(misdated)["processor_notes"]
    assert "disagrees with submitted_timestamp" in notes
    processed = FSCrashStorage(processor.data_dir / "storage").get_processed_crash(misdated)
    with sqlite3.connect(processor.data_dir / "crashcart.sqlite3") as db:
        (day,) = db.execute("SELECT date FROM search_crash WHERE uuid = ?", (misdated,)).fetchone()
    # Storage files it under its id's day; the index, as Socorro's, under date_processed (the submission).
    assert dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC) == dt.datetime.fromisoformat(
        processed["date_processed"]
    )
    assert dt.datetime.fromisoformat(day).date() != yesterday.date()
    assert processor.stop() == 0
    queue.close()


def test_beta_version_rule_reads_the_deployments_file(tmp_path: Path, index_url: str) -> None:
    from crashcart.processor.app import build_pipelines, rule_config
    from crashcart.processor.walker import failure_document

    versions = tmp_path / "betas.csv"
    versions.write_text("product,channel,build_id,version\nFirefox,beta,20261120101010,146.0b7\n")
    settings = load_settings(
        environ={},
        data_dir=tmp_path,
        database_url=index_url,
        processor_optional_rules="beta_version",
        beta_versions_file=versions,
    )
    pipeline = build_pipelines(rule_config(settings, lambda dump, raw: failure_document("no_dump")))["default"]
    from crashcart.processor.context import CrashContext

    raw = {"ProductName": "Firefox", "Version": "146.0", "ReleaseChannel": "beta", "BuildID": "20261120101010"}
    ctx = CrashContext(create_crash_id(dt.datetime.now(dt.UTC)), raw)
    pipeline.run(ctx)
    assert ctx.processed["version"] == "146.0b7"
    unset = load_settings(
        environ={}, data_dir=tmp_path, database_url=index_url, processor_optional_rules="beta_version"
    )
    with pytest.raises(ConfigError, match="CRASHCART_BETA_VERSIONS_FILE"):
        prepare(unset)
