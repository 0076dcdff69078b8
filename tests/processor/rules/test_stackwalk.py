"""StackwalkRule: every upload_file_minidump* dump walked; the main one is json_dump, the others are kept under
their names; failures are statuses and notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from crashcart.crashid import create_crash_id
from crashcart.errors import CrashcartError
from crashcart.processor.app import build_pipelines, rule_config
from crashcart.processor.context import CrashContext
from crashcart.processor.rules.stackwalk import StackwalkRule
from crashcart.processor.walker import InProcessWalker, walker_config
from crashcart.settings import load_settings
from crashcart.stackwalk import WALKER_VERSION
from crashcart.stackwalk.stackwalker import Stackwalker
from tests.stackwalk.crash_dumps import shared_chain_dump

FIXTURES = Path(__file__).parents[2] / "fixtures"
CRASH_ID = "de1e7e00-0000-4000-8000-000000261126"


class RecordingWalker:
    """A real Walker that returns canned documents and records what it was asked."""

    def __init__(self, docs: Mapping[str, Any]) -> None:
        self.docs = docs
        self.calls: list[tuple[str, Mapping[str, Any]]] = []

    def __call__(self, dump_path: Path, raw_crash: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append((dump_path.name, raw_crash))
        doc = self.docs[dump_path.name]
        if isinstance(doc, Exception):
            raise doc
        return doc  # type: ignore[no-any-return]


def ok(version: str = "test 1") -> dict[str, Any]:
    return {"status": "OK", "stackwalker": {"version": version, "status": "ok", "notes": []}, "threads": []}


def dump(tmp_path: Path, name: str, data: bytes = b"MDMP....") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_main_and_additional_dumps(tmp_path: Path) -> None:
    walker = RecordingWalker({"main.dmp": ok(), "browser.dmp": ok(), "other.bin": ok()})
    raw = {"ProductName": "Widgets"}
    ctx = CrashContext(
        CRASH_ID,
        raw,
        dumps={
            "upload_file_minidump_browser": dump(tmp_path, "browser.dmp"),
            "upload_file_minidump": dump(tmp_path, "main.dmp"),
            "memory_report": dump(tmp_path, "other.bin"),
        },
    )
    rule = StackwalkRule(walker)
    assert rule.predicate(ctx)
    rule.action(ctx)
    assert [name for name, _ in walker.calls] == ["main.dmp", "browser.dmp"]  # main first, memory_report skipped
    assert walker.calls[0][1] is raw
    assert ctx.processed["json_dump"]["status"] == "OK"
    assert ctx.processed["mdsw_status_string"] == "OK"
    assert ctx.processed["success"] is True
    assert ctx.processed["stackwalk_version"] == "test 1"
    assert ctx.processed["additional_minidumps"] == ["upload_file_minidump_browser"]
    browser = ctx.processed["upload_file_minidump_browser"]
    assert browser["json_dump"]["status"] == "OK"
    assert browser["mdsw_status_string"] == "OK"
    assert ctx.notes == []


def test_no_minidump_means_no_run(tmp_path: Path) -> None:
    ctx = CrashContext(CRASH_ID, {}, dumps={"memory_report": dump(tmp_path, "m.bin")})
    assert not StackwalkRule(RecordingWalker({})).predicate(ctx)


def test_empty_dump_is_not_walked(tmp_path: Path) -> None:
    walker = RecordingWalker({})
    ctx = CrashContext(CRASH_ID, {}, dumps={"upload_file_minidump": dump(tmp_path, "e.dmp", b"")})
    StackwalkRule(walker).action(ctx)
    assert walker.calls == []
    assert ctx.processed["mdsw_status_string"] == "EmptyMinidump"
    assert ctx.processed["success"] is False
    assert "json_dump" not in ctx.processed
    assert ctx.notes == ["stackwalk: upload_file_minidump is empty--skipping minidump processing"]


def test_failed_status_is_noted(tmp_path: Path) -> None:
    doc = {"status": "ERROR_NOT_A_MINIDUMP", "stackwalker": {"version": "v", "status": "failed", "notes": []}}
    ctx = CrashContext(CRASH_ID, {}, dumps={"upload_file_minidump": dump(tmp_path, "x.dmp")})
    StackwalkRule(RecordingWalker({"x.dmp": doc})).action(ctx)
    assert ctx.processed["json_dump"] == doc
    assert ctx.processed["mdsw_status_string"] == "ERROR_NOT_A_MINIDUMP"
    assert ctx.processed["success"] is False
    assert ctx.notes == ["stackwalk: upload_file_minidump: failed: ERROR_NOT_A_MINIDUMP"]


def test_partial_walk_is_noted(tmp_path: Path) -> None:
    doc = {"status": "OK", "stackwalker": {"version": "v", "status": "partial", "notes": ["thread 3: time_budget"]}}
    ctx = CrashContext(CRASH_ID, {}, dumps={"upload_file_minidump": dump(tmp_path, "x.dmp")})
    StackwalkRule(RecordingWalker({"x.dmp": doc})).action(ctx)
    assert ctx.processed["success"] is True
    assert ctx.notes == ["stackwalk: upload_file_minidump: partial: thread 3: time_budget"]


def test_walker_error_becomes_a_status(tmp_path: Path) -> None:
    class Timeout(CrashcartError):
        code = "timeout"

    ctx = CrashContext(CRASH_ID, {}, dumps={"upload_file_minidump": dump(tmp_path, "x.dmp")})
    StackwalkRule(RecordingWalker({"x.dmp": Timeout("slow")})).action(ctx)
    assert ctx.processed["mdsw_status_string"] == "ERROR_TIMEOUT"
    assert ctx.notes == ["stackwalk: upload_file_minidump: failed: ERROR_TIMEOUT"]


def test_missing_dump_file(tmp_path: Path) -> None:
    ctx = CrashContext(CRASH_ID, {}, dumps={"upload_file_minidump": tmp_path / "gone.dmp"})
    StackwalkRule(RecordingWalker({})).action(ctx)
    assert ctx.processed["mdsw_status_string"] == "ERROR_IO_ERROR"


def test_reprocessing_keeps_additional_list_unique(tmp_path: Path) -> None:
    walker = RecordingWalker({"b.dmp": ok()})
    ctx = CrashContext(
        CRASH_ID,
        {},
        dumps={"upload_file_minidump_content": dump(tmp_path, "b.dmp")},
        processed={"additional_minidumps": ["upload_file_minidump_content"]},
    )
    StackwalkRule(walker).action(ctx)
    assert ctx.processed["additional_minidumps"] == ["upload_file_minidump_content"]


@pytest.fixture
def in_process(tmp_path: Path) -> Iterator[InProcessWalker]:
    settings = load_settings(
        {},
        symbols_urls=(FIXTURES / "symbols" / "store").resolve().as_uri(),
        symbols_cache_dir=tmp_path,
        data_dir=tmp_path,
    )
    walker = InProcessWalker(Stackwalker(walker_config(settings)))
    yield walker
    walker.close()


def test_with_the_in_process_walker(in_process: InProcessWalker, tmp_path: Path) -> None:
    garbage = dump(tmp_path, "garbage.dmp", b"\x00" * 64)
    ctx = CrashContext(
        CRASH_ID,
        {},
        dumps={
            "upload_file_minidump": FIXTURES / "minidump" / "tiny-exe-fastfail.dmp",
            "upload_file_minidump_content": garbage,
        },
    )
    StackwalkRule(in_process).action(ctx)
    assert ctx.processed["json_dump"]["crash_info"]["type"] == "FAST_FAIL_FATAL_APP_EXIT"
    assert ctx.processed["stackwalk_version"] == WALKER_VERSION
    assert ctx.processed["success"] is True
    content = ctx.processed["upload_file_minidump_content"]
    assert content["mdsw_status_string"] == "ERROR_NOT_A_MINIDUMP"
    assert ctx.notes == ["stackwalk: upload_file_minidump_content: failed: ERROR_NOT_A_MINIDUMP"]


def test_hostile_dump_processed_crash_is_bounded(tmp_path: Path) -> None:
    """Issue #9 point 5: 1,000 threads sharing one frame-pointer chain, through the default ruleset. The
    processed crash stays under the walker's 10 MiB output cap (plus the other fields), the crashing thread
    (the last one) is walked in full, and a note says what the walker cut."""
    path = dump(tmp_path, "hostile.dmp", shared_chain_dump(threads=1000, chain_bytes=64 * 1024, crashing=999))
    settings = load_settings({}, data_dir=tmp_path, symbols_cache_dir=tmp_path / "cache")
    walker = InProcessWalker(Stackwalker(walker_config(settings)))
    pipeline = build_pipelines(rule_config(settings, walker))["default"]
    now = dt.datetime.now(dt.UTC)
    raw = {"ProductName": "Test", "Version": "1.0", "submitted_timestamp": now.isoformat()}
    ctx = CrashContext(create_crash_id(now), raw, dumps={"upload_file_minidump": path})
    pipeline.run(ctx)
    walker.close()
    processed = ctx.processed
    assert len(orjson.dumps(processed)) <= 10 * (1 << 20) + 64 * 1024
    doc = processed["json_dump"]
    crashing = doc["threads"][processed["crashing_thread"]]
    assert crashing["thread_id"] == 1099
    # TruncateStacksRule keeps 500 of the walker's 1,024 frames of the crashing thread: the walk was complete.
    assert crashing["frames"][250] == {"truncated": {"msg": "525 frames truncated"}}
    assert sum(len(t["frames"]) for t in doc["threads"]) <= 20_000
    budget_notes = [n for n in ctx.notes if "frame_budget" in n]
    assert budget_notes, ctx.notes
    assert "threads not walked" in budget_notes[0]
    assert len(ctx.notes) <= 60
