import os
from pathlib import Path

import pytest

from crashcart.metrics import REGISTRY, Metrics, UnregisteredMetric, clear_snapshots


def test_undeclared_metric_raises() -> None:
    m = Metrics()
    with pytest.raises(UnregisteredMetric):
        m.incr("crashcart_no_such_metric_total")
    with pytest.raises(UnregisteredMetric):
        m.incr("crashcart_collector_rejected_total")  # missing its label
    with pytest.raises(UnregisteredMetric):
        m.observe("crashcart_collector_received_total", 1.0)  # wrong kind


def test_render_counts_and_histograms() -> None:
    m = Metrics()
    m.incr("crashcart_collector_received_total")
    m.incr("crashcart_collector_received_total")
    m.incr("crashcart_collector_rejected_total", reason='malformed_"x"')
    m.observe("crashcart_collector_save_seconds", 0.003)
    m.observe("crashcart_collector_save_seconds", 50)
    text = m.render()
    assert "crashcart_collector_received_total 2" in text
    assert 'crashcart_collector_rejected_total{reason="malformed_\\"x\\""} 1' in text
    assert 'crashcart_collector_save_seconds_bucket{le="0.005"} 1' in text
    assert 'crashcart_collector_save_seconds_bucket{le="+Inf"} 2' in text
    assert "crashcart_collector_save_seconds_count 2" in text
    for spec in REGISTRY.values():
        assert f"# TYPE {spec.name} {spec.kind}" in text


def test_snapshots_of_other_processes_are_merged(tmp_path: Path) -> None:
    other = Metrics(tmp_path)
    other.incr("crashcart_collector_received_total", 5)
    other.write_snapshot()
    # pretend the snapshot came from another pid
    (tmp_path / f"{os.getpid()}.json").rename(tmp_path / "999999.json")
    mine = Metrics(tmp_path)
    mine.incr("crashcart_collector_received_total", 2)
    assert "crashcart_collector_received_total 7" in mine.render()
    clear_snapshots(tmp_path)
    assert "crashcart_collector_received_total 2" in mine.render()
