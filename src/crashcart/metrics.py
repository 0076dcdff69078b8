"""The metrics registry: every metric Crashcart emits is declared once here, and rendered as Prometheus text.

Why not ``prometheus_client``: its multi-process mode must be switched on through an environment variable
before the library is imported and keeps one mmap file per metric per pid; our collector runs several
uvicorn workers and wants registration enforced (emitting an undeclared metric raises) and a docs table from
the declarations. So each process keeps plain in-memory counters and histograms, snapshots them to
``<metrics_dir>/<pid>.json`` every few seconds, and ``/metrics`` merges the snapshots of all processes.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

LOGGER = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Most processing rules and stages take well under a millisecond: without sub-millisecond bounds every one of
# them would land in the first bucket and their quantiles would say nothing.
STAGE_BUCKETS = (0.0001, 0.00025, 0.0005, *LATENCY_BUCKETS)
SIZE_BUCKETS = (1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9)
AGE_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0, 7 * 86400.0)


@dataclass(frozen=True)
class MetricSpec:
    """One declared metric: its name, kind, help text, label names and (histograms) bucket bounds."""

    name: str
    kind: Literal["counter", "histogram", "gauge"]
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


REGISTRY: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec("crashcart_collector_received_total", "counter", "Submissions received (any outcome)."),
        MetricSpec(
            "crashcart_collector_accepted_total",
            "counter",
            "Submissions stored (accept or defer).",
            ("result",),
        ),
        MetricSpec(
            "crashcart_collector_rejected_total",
            "counter",
            "Submissions refused, by reason (malformed_*, too_large, storage_unavailable, ...).",
            ("reason",),
        ),
        MetricSpec(
            "crashcart_collector_throttled_total",
            "counter",
            "Throttle decisions by rule and result.",
            ("rule", "result"),
        ),
        MetricSpec(
            "crashcart_collector_bytes_total",
            "counter",
            "Request body bytes received, on the wire and after decompression.",
            ("kind",),
        ),
        MetricSpec(
            "crashcart_collector_request_seconds",
            "histogram",
            "Time to handle a submission.",
            (),
            LATENCY_BUCKETS,
        ),
        MetricSpec("crashcart_collector_save_seconds", "histogram", "Time to store a raw crash.", (), LATENCY_BUCKETS),
        MetricSpec(
            "crashcart_collector_publish_seconds",
            "histogram",
            "Time to publish a crash id.",
            (),
            LATENCY_BUCKETS,
        ),
        MetricSpec(
            "crashcart_collector_publish_failures_total",
            "counter",
            "Crash ids stored but not published at once (the sweep publishes them later).",
        ),
        MetricSpec(
            "crashcart_collector_swept_total",
            "counter",
            "Crash ids published by the sweep after their first publish failed.",
        ),
        MetricSpec("crashcart_collector_dump_bytes", "histogram", "Size of each stored dump.", (), SIZE_BUCKETS),
        MetricSpec(
            "crashcart_health_checks_total",
            "counter",
            "Heartbeat checks by check and outcome.",
            ("check", "outcome"),
        ),
        MetricSpec(
            "crashcart_processor_crashes_total",
            "counter",
            "Crashes a worker finished, by ruleset and outcome (processed, failed).",
            ("ruleset", "outcome"),
        ),
        MetricSpec(
            "crashcart_processor_crash_seconds",
            "histogram",
            "Time to process one crash (load, rules, save, index).",
            (),
            LATENCY_BUCKETS,
        ),
        MetricSpec(
            "crashcart_processor_rule_seconds",
            "histogram",
            "Time spent in each processing rule.",
            ("rule",),
            STAGE_BUCKETS,
        ),
        MetricSpec(
            "crashcart_processor_stage_seconds",
            "histogram",
            "Time per crash in each stage: load, walk, rules (all but the walk and the signature), signature, "
            "save, index, ack.",
            ("stage",),
            STAGE_BUCKETS,
        ),
        MetricSpec(
            "crashcart_processor_rule_failures_total",
            "counter",
            "Rules that raised (the crash goes on with a processor note).",
            ("rule",),
        ),
        MetricSpec(
            "crashcart_processor_ingestion_seconds",
            "histogram",
            "Processed time minus submitted time: how far behind processing runs.",
            (),
            AGE_BUCKETS,
        ),
        MetricSpec(
            "crashcart_processor_walker_total",
            "counter",
            "Stack walks by outcome (the walker's status: ok, partial, failed, ...).",
            ("status",),
        ),
        MetricSpec(
            "crashcart_processor_worker_kills_total",
            "counter",
            "Workers killed for running over the per-crash time budget.",
        ),
        MetricSpec(
            "crashcart_processor_worker_restarts_total",
            "counter",
            "Workers started again after dying or being killed.",
        ),
        MetricSpec(
            "crashcart_queue_depth",
            "gauge",
            "Messages waiting in each queue (for autoscaling), sampled at scrape.",
            ("queue", "state"),
        ),
    )
}


class UnregisteredMetric(KeyError):
    """A metric was emitted that is not declared in ``REGISTRY``."""


LabelKey = tuple[str, ...]


@dataclass
class _Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.buckets) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1


class Metrics:
    """This process's metric values. Thread-safe; cheap enough for the request path."""

    def __init__(self, snapshot_dir: Path | None = None, registry: Mapping[str, MetricSpec] = REGISTRY):
        self._registry = registry
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, LabelKey], float] = {}
        self._gauges: dict[tuple[str, LabelKey], float] = {}
        self._hists: dict[tuple[str, LabelKey], _Histogram] = {}
        self._snapshot_dir = snapshot_dir
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _spec(self, name: str, kind: str, labels: Mapping[str, str]) -> tuple[MetricSpec, LabelKey]:
        spec = self._registry.get(name)
        if spec is None or spec.kind != kind:
            raise UnregisteredMetric(f"{kind} {name!r} is not declared in crashcart.metrics.REGISTRY")
        if set(labels) != set(spec.labels):
            raise UnregisteredMetric(f"{name!r} takes labels {spec.labels}, got {tuple(labels)}")
        return spec, tuple(str(labels[k]) for k in spec.labels)

    def incr(self, name: str, value: float = 1, **labels: str) -> None:
        _, key = self._spec(name, "counter", labels)
        with self._lock:
            self._counters[(name, key)] = self._counters.get((name, key), 0) + value

    def observe(self, name: str, value: float, **labels: str) -> None:
        spec, key = self._spec(name, "histogram", labels)
        with self._lock:
            hist = self._hists.get((name, key))
            if hist is None:
                hist = self._hists[(name, key)] = _Histogram(spec.buckets)
            hist.observe(value)

    def gauge(self, name: str, value: float, **labels: str) -> None:
        _, key = self._spec(name, "gauge", labels)
        with self._lock:
            self._gauges[(name, key)] = value

    @contextlib.contextmanager
    def timer(self, name: str, **labels: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.observe(name, time.perf_counter() - start, **labels)

    def counter_value(self, name: str, **labels: str) -> float:
        """Current value of one counter in this process (for tests and the CLI)."""
        _, key = self._spec(name, "counter", labels)
        with self._lock:
            return self._counters.get((name, key), 0)

    # --- snapshots: how several worker processes share one /metrics -------------------------------------
    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "counters": [[n, list(k), v] for (n, k), v in self._counters.items()],
                "gauges": [[n, list(k), v] for (n, k), v in self._gauges.items()],
                "hists": [[n, list(k), h.counts, h.total, h.n] for (n, k), h in self._hists.items()],
            }

    def write_snapshot(self) -> None:
        if self._snapshot_dir is None:
            return
        self._snapshot_dir.mkdir(parents=True, exist_ok=True)
        path = self._snapshot_dir / f"{os.getpid()}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.snapshot()))
        tmp.replace(path)

    def start_snapshots(self, interval: float = 2.0) -> None:
        """Write this process's snapshot every ``interval`` seconds from a daemon thread."""
        if self._snapshot_dir is None or self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.write_snapshot()
                except OSError as exc:
                    LOGGER.warning("could not write metrics snapshot: %s", exc)

        self._thread = threading.Thread(target=loop, name="metrics-snapshot", daemon=True)
        self._thread.start()

    def stop_snapshots(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.write_snapshot()

    def render(self) -> str:
        """Prometheus text for this process merged with the snapshots of the other processes."""
        snaps: list[Mapping[str, object]] = [self.snapshot()]
        if self._snapshot_dir is not None and self._snapshot_dir.is_dir():
            mine = f"{os.getpid()}.json"
            for path in sorted(self._snapshot_dir.glob("*.json")):
                if path.name == mine:
                    continue
                try:
                    snaps.append(json.loads(path.read_text()))
                except (OSError, ValueError):
                    continue  # a snapshot being replaced; the next scrape sees it
        return render_prometheus(self._registry, snaps)


def record_queue_depths(metrics: Metrics, depths: Mapping[str, object]) -> None:
    """Set ``crashcart_queue_depth`` from a queue's ``depth()`` (sampled at scrape time by every component)."""
    for name, depth in depths.items():
        for state in ("ready", "in_flight", "delayed", "dead"):
            metrics.gauge("crashcart_queue_depth", getattr(depth, state), queue=name, state=state)


def clear_snapshots(snapshot_dir: Path | None) -> None:
    """Forget snapshots of earlier runs; a supervisor calls this once before starting its workers."""
    if snapshot_dir is None or not snapshot_dir.is_dir():
        return
    for path in snapshot_dir.glob("*.json"):
        with contextlib.suppress(OSError):
            path.unlink()


def _fmt_labels(names: Iterable[str], values: Iterable[str], extra: str = "") -> str:
    pairs = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        pairs.append(extra)
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


@dataclass
class MergedSnapshots:
    """Every process's snapshot added up: counters and histograms summed, the last gauge value kept."""

    counters: dict[tuple[str, LabelKey], float] = field(default_factory=dict)
    gauges: dict[tuple[str, LabelKey], float] = field(default_factory=dict)
    #: (name, label values) -> (bucket counts, sum, count)
    hists: dict[tuple[str, LabelKey], tuple[list[int], float, int]] = field(default_factory=dict)


def merge_snapshots(snaps: Iterable[Mapping[str, object]]) -> MergedSnapshots:
    """The snapshots of all processes as one set of metrics (what ``/metrics`` serves, and what benchmarks read)."""
    merged = MergedSnapshots()
    counters, gauges, hists = merged.counters, merged.gauges, merged.hists
    for snap in snaps:
        for name, key, value in snap.get("counters", []):  # type: ignore[attr-defined]
            counters[(name, tuple(key))] = counters.get((name, tuple(key)), 0) + value
        for name, key, value in snap.get("gauges", []):  # type: ignore[attr-defined]
            gauges[(name, tuple(key))] = value
        for name, key, counts, total, n in snap.get("hists", []):  # type: ignore[attr-defined]
            old = hists.get((name, tuple(key)))
            if old is None:
                hists[(name, tuple(key))] = (list(counts), total, n)
            else:
                hists[(name, tuple(key))] = (
                    [a + b for a, b in zip(old[0], counts, strict=True)],
                    old[1] + total,
                    old[2] + n,
                )
    return merged


def render_prometheus(registry: Mapping[str, MetricSpec], snaps: Iterable[Mapping[str, object]]) -> str:
    merged = merge_snapshots(snaps)
    counters, gauges, hists = merged.counters, merged.gauges, merged.hists
    lines: list[str] = []
    for spec in registry.values():
        lines.append(f"# HELP {spec.name} {spec.help}")
        lines.append(f"# TYPE {spec.name} {spec.kind}")
        if spec.kind == "counter":
            rows = sorted((k, v) for (n, k), v in counters.items() if n == spec.name)
            if not rows and not spec.labels:
                rows = [((), 0.0)]
            lines.extend(f"{spec.name}{_fmt_labels(spec.labels, k)} {v:g}" for k, v in rows)
        elif spec.kind == "gauge":
            rows = sorted((k, v) for (n, k), v in gauges.items() if n == spec.name)
            lines.extend(f"{spec.name}{_fmt_labels(spec.labels, k)} {v:g}" for k, v in rows)
        else:
            for (name, key), (counts, total, n) in sorted(hists.items()):
                if name != spec.name:
                    continue
                running = 0
                for bound, count in zip((*spec.buckets, float("inf")), counts, strict=True):
                    running += count
                    le = "+Inf" if bound == float("inf") else f"{bound:g}"
                    le_label = f'le="{le}"'
                    lines.append(f"{spec.name}_bucket{_fmt_labels(spec.labels, key, le_label)} {running}")
                lines.append(f"{spec.name}_sum{_fmt_labels(spec.labels, key)} {total:g}")
                lines.append(f"{spec.name}_count{_fmt_labels(spec.labels, key)} {n}")
    return "\n".join(lines) + "\n"
