"""Optional Mozilla rule ``memory_report_extraction``: key measurements from the memory report.

The ``memory_report`` (decoded by ``out_of_memory_binary``) holds about:memory reports of every process;
this sums the crashing process's (``json_dump.pid``) into ``memory_measures``: sixteen integers in bytes
(or counts, for ``ghost_windows``). Reports are hostile data: a malformed report, or no report for the
pid, leaves ``memory_measures`` unset with a public note giving the reason (never a value).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeGuard

from crashcart.processor.context import CrashContext
from crashcart.processor.rules._values import INT64_MAX, INT64_MIN
from crashcart.processor.rules.base import Rule

#: nsIMemoryReporter kinds and units (xpcom/base/nsIMemoryReporter.idl).
KIND_NONHEAP = 0
KIND_HEAP = 1
UNITS_BYTES = 0

#: Reports read directly, by path (dashes become underscores in the measure's name).
MEASURED: tuple[str, ...] = (
    "gfx-textures",
    "ghost-windows",
    "heap-allocated",
    "host-object-urls",
    "private",
    "resident",
    "resident-unique",
    "system-heap-allocated",
    "vsize",
    "vsize-max-contiguous",
)
#: Measures derived from several reports.
DERIVED: tuple[str, ...] = (
    "explicit",
    "heap_overhead",
    "heap_unclassified",
    "images",
    "js_main_runtime",
    "top_none_detached",
)
MEASURES: tuple[str, ...] = tuple(sorted({name.replace("-", "_") for name in MEASURED} | set(DERIVED)))


class MalformedMemoryReport(ValueError):
    """The memory report cannot be summarised; the message is a public reason without values."""


def memory_measures(report: Mapping[str, Any], pid: int, max_reports: int = 500_000) -> dict[str, int]:
    """The sixteen measures of process ``pid``; raises ``MalformedMemoryReport``."""
    reports = report.get("reports")
    if not isinstance(reports, list):
        raise MalformedMemoryReport("reports is not a list")
    if len(reports) > max_reports:
        raise MalformedMemoryReport(f"more than {max_reports} reports")
    measures = dict.fromkeys(MEASURES, 0)
    explicit_heap = explicit_nonheap = 0
    pid_marker = f"(pid {pid})"
    found = False
    for index, item in enumerate(reports):
        if not isinstance(item, dict):
            raise MalformedMemoryReport(f"report {index} is not an object")
        process = item.get("process")
        if not isinstance(process, str):
            raise MalformedMemoryReport(f"report {index} has no process")
        if pid_marker not in process:
            continue
        found = True
        path, kind, units, amount = item.get("path"), item.get("kind"), item.get("units"), item.get("amount")
        if not (isinstance(path, str) and _is_int(kind) and _is_int(units) and _is_int(amount)):
            raise MalformedMemoryReport(f"report {index} lacks path, kind, units or amount")
        if not INT64_MIN <= amount <= INT64_MAX:
            raise MalformedMemoryReport(f"report {index} has an out-of-range amount")
        if path.startswith("explicit/"):
            if units != UNITS_BYTES:
                raise MalformedMemoryReport(f"report {index}: explicit/ report not in bytes")
            if kind == KIND_NONHEAP:
                explicit_nonheap += amount
            elif kind == KIND_HEAP:
                explicit_heap += amount
            else:
                raise MalformedMemoryReport(f"report {index}: explicit/ report of an unknown kind")
            if path.startswith("explicit/images/"):
                measures["images"] += amount
            elif "top(none)/detached" in path:
                measures["top_none_detached"] += amount
            elif path.startswith("explicit/heap-overhead/"):
                measures["heap_overhead"] += amount
        elif path.startswith("js-main-runtime/"):
            measures["js_main_runtime"] += amount
        elif path in MEASURED:
            measures[path.replace("-", "_")] += amount
    if not found:
        raise MalformedMemoryReport("no reports for the crashing process")
    # heap-unclassified can come out negative from bogus measurements; it is kept as is (as Socorro does).
    measures["heap_unclassified"] = measures["heap_allocated"] - explicit_heap
    measures["explicit"] = measures["heap_allocated"] + explicit_nonheap
    if not all(INT64_MIN <= value <= INT64_MAX for value in measures.values()):
        raise MalformedMemoryReport("a measure is out of range")
    return measures


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


class MemoryReportExtractionRule(Rule):
    """``memory_measures`` from ``memory_report`` and ``json_dump.pid`` (after ``out_of_memory_binary``)."""

    name: ClassVar[str] = "memory_report_extraction"
    REQUIRED_KEYS: ClassVar[tuple[str, ...]] = ("version", "reports", "hasMozMallocUsableSize")

    def predicate(self, ctx: CrashContext) -> bool:
        report = ctx.processed.get("memory_report")
        json_dump = ctx.processed.get("json_dump")
        return (
            isinstance(report, dict)
            and all(key in report for key in self.REQUIRED_KEYS)
            and isinstance(json_dump, dict)
            and "pid" in json_dump
        )

    def action(self, ctx: CrashContext) -> None:
        ctx.processed.pop("memory_measures", None)
        pid = ctx.processed["json_dump"]["pid"]
        if not _is_int(pid) or pid < 0:
            ctx.note("memory_report_extraction: json_dump.pid is not a process id")
            return
        try:
            measures = memory_measures(ctx.processed["memory_report"], pid)
        except MalformedMemoryReport as exc:
            ctx.note(f"memory_report_extraction: {exc}")
            return
        ctx.processed["memory_measures"] = measures
