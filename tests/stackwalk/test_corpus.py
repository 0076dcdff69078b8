"""Conformance with Breakpad's ``minidump_stackwalk`` over ../shared/corpus (issue #3 point 4).

For the crashing thread of every corpus dump with a reference output, compare each frame Breakpad found
(context, CFI, frame pointer, scan) with ours. Run with ``-s`` to see the per-dump table.

Floors asserted (reached when written): 100 % without symbols (amd64: 1,228 frames over 52 dumps; all CPUs:
1,882 frames over 82 dumps), 100 % with the corpus symbols (672 frames over 28 dumps), and the same number of
frames as Breakpad for every dump.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.stackwalk.corpus_compare import CORPUS, Comparison, compare, corpus_dumps

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").is_file(), reason=f"corpus not found at {CORPUS}"),
]


def _run(*, with_symbols: bool) -> list[Comparison]:
    return [c for d in corpus_dumps() if (c := compare(d, with_symbols=with_symbols)) is not None]


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
    results = _run(with_symbols=False)
    matched, total = _summary("without symbols", results)
    amd64 = [c for c in results if c.kind.endswith(" amd64")]
    amd64_matched = sum(c.matched for c in amd64)
    amd64_total = sum(len(c.expected) for c in amd64)
    print(f"  {'amd64':20s} {amd64_matched}/{amd64_total} over {len(amd64)} dumps")
    assert len(amd64) >= 40
    assert amd64_matched == amd64_total, [c.describe() for c in amd64 if c.matched != len(c.expected)]
    assert matched == total
    # Not only a matching prefix: we stop where Breakpad stops.
    assert [c.name for c in results if len(c.actual) != len(c.expected)] == []


def test_with_symbols_matches_breakpad() -> None:
    results = _run(with_symbols=True)
    matched, total = _summary("with the corpus symbols (SimpleSymbols)", results)
    assert total > 600
    assert matched == total, [c.describe() for c in results if c.matched != len(c.expected)]
    assert [c.name for c in results if len(c.actual) != len(c.expected)] == []
