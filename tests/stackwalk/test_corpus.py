"""Conformance with Breakpad's ``minidump_stackwalk`` over ../shared/corpus (issue #3 points 4 and 6).

Every dump Breakpad processed is walked once per mode (without symbols, with the corpus symbols, with each
alternative symbol set; all threads, Breakpad's frame limit) and the results are shared by the tests below.
Run with ``-s`` to see the crashing-thread table.

Asserted:

* crashing thread (point 4, floors reached when written): 100 % of frames without symbols (amd64 over at least
  40 dumps) and with the corpus symbols (now module + function + offset), same frame count per dump;
* all threads (point 6, the issue's target): ≥ 99 % of the frames Breakpad found by context, CFI or frame
  pointer, with and without symbols; crash reason, address, crashing thread and module list 100 %;
* the only disagreements are the explained ones (``conformance_report.KNOWN``), so a regression in any
  thread fails even while the totals stay above target;
* ``docs/conformance/stackwalk.md`` is what a fresh run renders (a stale committed report fails).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import pytest
from devtools.corpus_compare import (
    CORPUS,
    Comparison,
    DumpComparison,
    corpus_dumps,
    crashing_thread,
    run_mode,
    unprocessable,
)

from devtools import conformance_report

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").is_file(), reason=f"corpus not found at {CORPUS}"),
]


@cache
def _results(mode: str) -> tuple[DumpComparison, ...]:
    """One walk per dump and mode for the whole module (a few seconds in all)."""
    return tuple(run_mode(mode))


@cache
def _report() -> conformance_report.Report:
    committed = conformance_report.REPORT.read_text(encoding="utf-8") if conformance_report.REPORT.is_file() else ""
    date = conformance_report.committed_date(committed) or "unknown"
    report = conformance_report.Report(date, {mode: list(_results(mode)) for mode in conformance_report.MODES})
    compared = {c.name for c in report.results["nosym"]}
    report.unprocessable = [(d.name, *unprocessable(d)) for d in corpus_dumps() if d.name not in compared]
    return report


def _summary(title: str, results: list[Comparison]) -> tuple[int, int]:
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    print(f"\n== {title}: crashing-thread frames agreeing with Breakpad ==")
    for c in results:
        print(c.describe())
        by_kind[c.kind][0] += c.matched
        by_kind[c.kind][1] += len(c.expected)
    matched = sum(v[0] for v in by_kind.values())
    total = sum(v[1] for v in by_kind.values())
    for kind, (m, t) in sorted(by_kind.items()):
        if t:
            print(f"  {kind:20s} {m}/{t} = {100 * m / t:.1f} %")
    print(f"  {'overall':20s} {matched}/{total} = {100 * matched / max(total, 1):.1f} %")
    return matched, total


def test_without_symbols_matches_breakpad() -> None:
    results = [crashing_thread(c) for c in _results("nosym")]
    matched, total = _summary("without symbols", results)
    amd64 = [c for c in results if c.kind.endswith(" amd64")]
    amd64_matched = sum(c.matched for c in amd64)
    amd64_total = sum(len(c.expected) for c in amd64)
    print(f"  {'amd64':20s} {amd64_matched}/{amd64_total} over {len(amd64)} dumps")
    assert len(amd64) >= 40
    assert amd64_matched == amd64_total, [c.describe() for c in amd64 if c.matched != len(c.expected)]
    assert matched == total
    assert total > 1800
    # Not only a matching prefix: we stop where Breakpad stops.
    assert [c.name for c in results if len(c.actual) != len(c.expected)] == []


def test_with_symbols_matches_breakpad() -> None:
    results = [crashing_thread(c) for c in _results("sym")]
    matched, total = _summary("with the corpus symbols (crashcart.symbols, through Stackwalker)", results)
    assert total > 600
    assert matched == total, [c.describe() for c in results if c.matched != len(c.expected)]
    assert [c.name for c in results if len(c.actual) != len(c.expected)] == []


@pytest.mark.parametrize("mode", ["nosym", "sym", "alt"])
def test_all_threads_meet_the_issue_target(mode: str) -> None:
    results = _results(mode)
    strong = [sum(c.count(strong=True)[i] for c in results) for i in (0, 1)]
    print(f"\n{mode}: context/CFI/frame-pointer frames {strong[0]}/{strong[1]}")
    assert strong[1] > (5000 if mode != "alt" else 10)
    assert strong[0] >= conformance_report.TARGET * strong[1], strong
    headers = {
        c.name: c.header
        for c in results
        if not (c.header.reason_ok and c.header.address_ok and c.header.thread_ok and c.header.modules_ok)
    }
    assert headers == {}


@pytest.mark.parametrize("mode", ["nosym", "sym", "alt"])
def test_every_disagreement_is_explained(mode: str) -> None:
    disagreeing = {
        (c.name, t.thread, r.index, r.expected, r.actual)
        for c in _results(mode)
        for t in c.disagreeing_threads
        for r in t.rows
        if not r.agrees
    }
    unexplained = sorted(d for d in disagreeing if d[0] not in conformance_report.KNOWN)
    assert unexplained == []
    # The explained ones are all frames Breakpad never produced (it read no context): none of its frames differ.
    assert all(expected is None for _, _, _, expected, _ in disagreeing)


def test_explanations_are_not_stale() -> None:
    disagreeing = {c.name for mode in conformance_report.MODES for c in _results(mode) if c.disagreeing_threads}
    assert set(conformance_report.KNOWN) == disagreeing


def test_committed_report_is_current() -> None:
    path = conformance_report.REPORT
    assert path.is_file(), f"{path} is missing: run `make conformance`"
    committed = path.read_text(encoding="utf-8")
    report = _report()
    assert conformance_report.committed_totals(committed) == report.totals(), "stale report: run `make conformance`"
    assert committed == conformance_report.render(report), "stale report: run `make conformance`"
