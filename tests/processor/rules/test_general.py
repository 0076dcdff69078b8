from __future__ import annotations

from pathlib import Path
from typing import Any

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.general import (
    CollectorMetadataRule,
    CrashReportKeysRule,
    DeNoneRule,
    DeNullRule,
    IdentifierRule,
    MinidumpSha256HashRule,
    ReportTypeRule,
)

CRASH_ID = "de1bb258-cbbf-4589-a673-34f800160918"


def make(raw: dict[str, Any], **kwargs: Any) -> CrashContext:
    return CrashContext(crash_id=CRASH_ID, raw_crash=raw, **kwargs)


def test_de_null_strips_keys_and_nested_values_without_editing_the_original() -> None:
    raw = {"Pro\0duct": "Ga\0me", "n": 5, "obj": {"a\0": ["x\0"]}, "b": b"a\0b"}
    ctx = make(raw)
    DeNullRule().action(ctx)
    assert ctx.raw_crash == {"Product": "Game", "n": 5, "obj": {"a": ["x"]}, "b": b"ab"}
    assert "Pro\0duct" in raw
    assert ctx.notes == ["de_null: removed NUL characters from the raw crash"]


def test_de_null_no_nulls_no_change() -> None:
    raw = {"a": "b"}
    ctx = make(raw)
    DeNullRule().action(ctx)
    assert ctx.raw_crash is raw and not ctx.notes


def test_de_null_bounds_depth() -> None:
    deep: Any = "x\0"
    for _ in range(5000):
        deep = [deep]
    ctx = make({"deep": deep})
    DeNullRule().action(ctx)  # must not raise RecursionError


def test_de_none() -> None:
    ctx = make({"a": None, "b": "", "c": 0})
    DeNoneRule().action(ctx)
    assert ctx.raw_crash == {"b": "", "c": 0}


def test_crash_report_keys() -> None:
    ctx = make({"ProductName": "x", "bad key!": "y", "a" * 101: "z"}, dumps={"upload_file_minidump": Path("/d")})
    CrashReportKeysRule().action(ctx)
    assert ctx.processed["crash_report_keys"] == ["ProductName", "upload_file_minidump"]
    assert ctx.notes == ["invalidkeys: Crash report contains invalid keys"]


def test_crash_report_keys_bounded() -> None:
    ctx = make({f"k{i:05}": "" for i in range(1500)})
    CrashReportKeysRule().action(ctx)
    assert len(ctx.processed["crash_report_keys"]) == 1000
    assert "list truncated" in ctx.notes[0]


def test_collector_metadata_is_copied() -> None:
    metadata = {"collector_notes": ["Removed X"], "dump_checksums": {}}
    ctx = make({"metadata": metadata})
    CollectorMetadataRule().action(ctx)
    assert ctx.processed["collector_metadata"] == metadata
    ctx.processed["collector_metadata"]["collector_notes"].append("changed")
    assert metadata["collector_notes"] == ["Removed X"]
    assert not ctx.notes  # collector notes stay in the protected metadata


def test_collector_metadata_bad_or_missing() -> None:
    ctx = make({"metadata": "junk"})
    CollectorMetadataRule().action(ctx)
    assert ctx.processed["collector_metadata"] == {}
    assert ctx.notes == ["collector_metadata: metadata is not an object"]
    ctx = make({})
    CollectorMetadataRule().action(ctx)
    assert ctx.processed["collector_metadata"] == {}


def test_identifier() -> None:
    ctx = make({"uuid": CRASH_ID})
    IdentifierRule().action(ctx)
    assert ctx.processed == {"crash_id": CRASH_ID, "uuid": CRASH_ID}
    assert not ctx.notes
    ctx = make({"uuid": "other"})
    IdentifierRule().action(ctx)
    assert ctx.processed["crash_id"] == CRASH_ID
    assert ctx.notes == ["identifier: uuid annotation does not match the crash id"]


def test_minidump_sha256_hash() -> None:
    digest = "AB" * 32
    ctx = make({"metadata": {"dump_checksums": {"upload_file_minidump": digest}}})
    MinidumpSha256HashRule().action(ctx)
    assert ctx.processed["minidump_sha256_hash"] == digest.lower()
    metadata: Any
    for metadata in ({}, "x", {"dump_checksums": []}):
        ctx = make({"metadata": metadata})
        MinidumpSha256HashRule().action(ctx)
        assert ctx.processed["minidump_sha256_hash"] is None and not ctx.notes
    ctx = make({"metadata": {"dump_checksums": {"upload_file_minidump": "zz"}}})
    MinidumpSha256HashRule().action(ctx)
    assert ctx.processed["minidump_sha256_hash"] is None
    assert ctx.notes == ["minidump_sha256_hash: checksum is not a SHA-256 hex digest"]


def report_type(raw: dict[str, Any], processed: dict[str, Any] | None = None) -> str:
    ctx = make(raw, processed=processed or {})
    ReportTypeRule().action(ctx)
    return str(ctx.processed["report_type"])


def test_report_type() -> None:
    assert report_type({}) == "crash"
    assert report_type({"Hang": "1"}) == "hang"
    assert report_type({"Hang": "0"}) == "crash"
    assert report_type({}, {"ipc_channel_error": "x"}) == "hang"
    assert report_type({}, {"async_shutdown_timeout": "{}"}) == "hang"
    dump = {
        "crash_info": {"crashing_thread": 1},
        "threads": [{"frames": []}, {"frames": [{"function": "a::RunWatchdog"}]}],
    }
    assert report_type({}, {"json_dump": dump}) == "hang"
    assert report_type({}, {"json_dump": {"crash_info": {"crashing_thread": 9}, "threads": "x"}}) == "crash"
    assert (
        report_type({}, {"json_dump": {"crash_info": None, "threads": [{"frames": [None, {"function": 3}]}]}})
        == "crash"
    )
