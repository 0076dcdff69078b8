"""Every dump of the shared corpus against Google Breakpad's reference output (``shared/corpus/reference``).

For each dump: it parses (or, where Breakpad could not process it either, fails cleanly), and the crash reason,
crash address, crashing thread, OS and CPU lines, thread count and module list (count and every ``Module|``
line) agree with Breakpad's ``-m`` output without symbols. Every stream and context is also read, and no
reader bug may hide behind a MinidumpError.
"""

from __future__ import annotations

import csv

import pytest

from crashcart.minidump import Minidump, MinidumpError, ThreadList
from devtools import breakpad_reference
from tests.helpers.shared import CORPUS
from tests.minidump.exercise import assert_no_parser_bugs, read_everything

pytestmark = pytest.mark.corpus


def _cases() -> list[tuple[str, str]]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    with manifest.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    cases = []
    for row in rows:
        path = row["path"]
        owner_repo, _, file = path.partition("/dumps/")
        cases.append((f"{owner_repo}__{file.rsplit('.', 1)[0]}", path))
    return cases


def _summary() -> dict[str, dict[str, str]]:
    with (CORPUS / "reference" / "SUMMARY.tsv").open(newline="") as f:
        return {row["id"]: row for row in csv.DictReader(f, delimiter="\t")}


CASES = _cases()


@pytest.mark.skipif(not CASES, reason=f"the shared corpus is not at {CORPUS}")
@pytest.mark.parametrize(("case_id", "path"), CASES or [("none", "none")], ids=[c[0] for c in CASES] or ["none"])
def test_dump_agrees_with_breakpad(case_id: str, path: str) -> None:
    summary = _summary()[case_id]
    reference_path = CORPUS / "reference" / f"{case_id}.nosym.m"
    reference = breakpad_reference.parse(reference_path.read_text()) if reference_path.exists() else None
    try:
        dump = Minidump.from_path(CORPUS / path)
    except MinidumpError as exc:
        assert summary["rc"] != "0", f"{case_id}: we refuse a dump Breakpad processed: {exc}"
        return
    with dump:
        read_everything(dump)
        assert_no_parser_bugs(dump)
        if summary["rc"] != "0":
            # Breakpad gives up without a thread list; so must the walker.
            assert dump.get_stream(ThreadList) is None, f"{case_id}: Breakpad could not process this dump"
            return
        assert reference is not None
        ours = breakpad_reference.ours(dump)
        problems = []
        for what in ("crash_reason", "crash_address", "crashing_thread", "os", "os_version", "cpu", "cpu_info"):
            if getattr(ours, what) != getattr(reference, what):
                problems.append(f"{what}: ours {getattr(ours, what)!r}, Breakpad {getattr(reference, what)!r}")
        if ours.cpu_count != reference.cpu_count:
            problems.append(f"cpu count: ours {ours.cpu_count}, Breakpad {reference.cpu_count}")
        if len(ours.modules) != len(reference.modules):
            problems.append(f"module count: ours {len(ours.modules)}, Breakpad {len(reference.modules)}")
        problems += [
            f"module: ours {mine}, Breakpad {theirs}"
            for mine, theirs in zip(ours.modules, reference.modules, strict=False)
            if mine != theirs
        ]
        threads = len(ours.threads_with_frames)
        if str(threads) != summary["threads"]:
            problems.append(f"threads: ours {threads}, Breakpad {summary['threads']}")
        assert not problems, f"{case_id} disagrees with Breakpad:\n  " + "\n  ".join(problems)
