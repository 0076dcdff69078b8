from __future__ import annotations

from typing import Any

import pytest

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.memory_report import MEASURES, MemoryReportExtractionRule, memory_measures
from crashcart.schemas import builtin_schemas

PID = 11620


def entry(path: str, amount: int, kind: int = 2, units: int = 0, pid: int = PID) -> dict[str, Any]:
    return {"process": f"Main Process (pid {pid})", "path": path, "kind": kind, "units": units, "amount": amount}


def report(*reports: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "hasMozMallocUsableSize": True, "reports": list(reports)}


REPORT = report(
    entry("explicit/heap-unclassified", 100, kind=1),
    entry("explicit/images/content/raster", 40, kind=1),
    entry("explicit/window-objects/top(none)/detached/window(about:blank)", 7, kind=1),
    entry("explicit/heap-overhead/bin-unused", 5, kind=1),
    entry("explicit/gfx/surfaces", 30, kind=0),
    entry("js-main-runtime/gc-heap/unused-chunks", 11),
    entry("js-main-runtime/runtime", 9),
    entry("heap-allocated", 1000),
    entry("gfx-textures", 12),
    entry("ghost-windows", 2, units=1),
    entry("host-object-urls", 1, units=1),
    entry("private", 2000),
    entry("resident", 3000),
    entry("resident-unique", 2500),
    entry("system-heap-allocated", 300),
    entry("vsize", 9000),
    entry("vsize-max-contiguous", 800),
    entry("heap-allocated", 555, pid=1),
    entry("explicit/other", 1, kind=1, pid=1),
)


def run(processed: dict[str, Any]) -> CrashContext:
    ctx = CrashContext(crash_id="id", raw_crash={}, processed=processed)
    rule = MemoryReportExtractionRule()
    if rule.predicate(ctx):
        rule.action(ctx)
    return ctx


def test_memory_measures() -> None:
    ctx = run({"memory_report": REPORT, "json_dump": {"pid": PID}})
    assert ctx.processed["memory_measures"] == {
        "explicit": 1030,
        "gfx_textures": 12,
        "ghost_windows": 2,
        "heap_allocated": 1000,
        "heap_overhead": 5,
        "heap_unclassified": 848,
        "host_object_urls": 1,
        "images": 40,
        "js_main_runtime": 20,
        "private": 2000,
        "resident": 3000,
        "resident_unique": 2500,
        "system_heap_allocated": 300,
        "top_none_detached": 7,
        "vsize": 9000,
        "vsize_max_contiguous": 800,
    }
    assert len(MEASURES) == 16
    assert not ctx.notes
    spec = builtin_schemas().processed_crash.fields["memory_measures"]
    assert spec.type == "object"
    assert spec.is_public


def test_other_pid() -> None:
    ctx = run({"memory_report": REPORT, "json_dump": {"pid": 1}})
    assert ctx.processed["memory_measures"]["heap_allocated"] == 555
    assert ctx.processed["memory_measures"]["explicit"] == 555


@pytest.mark.parametrize(
    "processed",
    [
        {},
        {"memory_report": REPORT},
        {"memory_report": REPORT, "json_dump": {}},
        {"memory_report": {"reports": []}, "json_dump": {"pid": PID}},
        {"memory_report": "junk", "json_dump": {"pid": PID}},
        {"memory_report": REPORT, "json_dump": "junk"},
    ],
)
def test_not_applicable(processed: dict[str, Any]) -> None:
    ctx = run(processed)
    assert "memory_measures" not in ctx.processed
    assert not ctx.notes


@pytest.mark.parametrize(
    ("reports", "pid", "reason"),
    [
        ("junk", PID, "reports is not a list"),
        ([entry("resident", 1)], 4, "no reports for the crashing process"),
        (["junk"], PID, "report 0 is not an object"),
        ([{"path": "x"}], PID, "report 0 has no process"),
        ([entry("resident", "1")], PID, "report 0 lacks path, kind, units or amount"),  # type: ignore[arg-type]
        ([entry("resident", True)], PID, "report 0 lacks path, kind, units or amount"),
        ([entry("resident", 2**70)], PID, "report 0 has an out-of-range amount"),
        ([entry("explicit/a", 1, kind=1, units=1)], PID, "report 0: explicit/ report not in bytes"),
        ([entry("explicit/a", 1, kind=2)], PID, "report 0: explicit/ report of an unknown kind"),
        ([entry("heap-allocated", 2**62)] * 4, PID, "a measure is out of range"),
        ([entry("resident", 1)], "11620", "json_dump.pid is not a process id"),
        ([entry("resident", 1)], -1, "json_dump.pid is not a process id"),
    ],
)
def test_malformed_reports_are_noted(reports: Any, pid: Any, reason: str) -> None:
    memory_report = {"version": 1, "hasMozMallocUsableSize": True, "reports": reports}
    ctx = run({"memory_report": memory_report, "json_dump": {"pid": pid}, "memory_measures": {"old": 1}})
    assert "memory_measures" not in ctx.processed
    assert ctx.notes == [f"memory_report_extraction: {reason}"]


def test_report_count_is_bounded() -> None:
    with pytest.raises(ValueError, match="more than 10 reports"):
        memory_measures(report(*[entry("resident", 1)] * 11), PID, max_reports=10)
