"""What the report page shows of a crash: summary, frames (inlined calls, trust), modules, annotations."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crashcart.web.pages.report import MAX_FRAMES, MAX_TEXT, build_report, frames

PROCESSED: dict[str, Any] = {
    "signature": "MainWindow::on_pushButton_clicked",
    "product": "myQtCrasher",
    "version": "1.0",
    "reason": "SIGSEGV /SEGV_MAPERR",
    "address": "0x0",
    "crashing_thread": 0,
    "processor_notes": "note one\nnote two",
    "json_dump": {
        "threads": [
            {
                "thread_name": "main",
                "frames": [
                    {
                        "frame": 0,
                        "module": "app",
                        "function": "outer()",
                        "file": "git:github.com/org/app:src/main.cpp:abc123",
                        "line": 18,
                        "module_offset": "0x10",
                        "trust": "context",
                        "inlines": [{"function": "inner()", "file": "src/inner.h", "line": 7}],
                    },
                    {
                        "frame": 1,
                        "module": "libc.so.6",
                        "module_offset": "0x2a",
                        "trust": "cfi",
                        "missing_symbols": True,
                    },
                ],
            },
            {"thread_name": "worker", "frames": [{"frame": 0, "module": "libc.so.6", "trust": "context"}]},
        ],
        "modules": [
            {"filename": "app", "debug_id": "ABC", "version": "1.0", "missing_symbols": False},
            {"filename": "libc.so.6", "debug_id": "DEF", "missing_symbols": True},
        ],
    },
}


def test_the_crashing_thread_shows_inlined_calls_above_their_frame() -> None:
    report = build_report("id", PROCESSED, {}, sees_protected=False)
    assert report.crashing_thread is not None
    shown = [(f.number, f.function, f.trust, f.inlined) for f in report.crashing_thread.frames]
    assert shown == [(0, "inner()", "inlined", True), (0, "outer()", "context", False), (1, "", "cfi", False)]
    first_real = report.crashing_thread.frames[1]
    assert first_real.source_url == "https://github.com/org/app/blob/abc123/src/main.cpp#L18"
    assert report.crashing_thread.frames[2].missing_symbols and report.crashing_thread.frames[2].offset == "0x2a"
    assert [t.name for t in report.other_threads] == ["worker"]


def test_summary_modules_notes_and_annotations() -> None:
    raw = {"ProductName": "myQtCrasher", "metadata": {"user_agent": "x"}, "Version": "1.0"}
    report = build_report("id", PROCESSED, raw, sees_protected=True, dump_names=["upload_file_minidump"])
    assert ("Signature", "MainWindow::on_pushButton_clicked") in report.summary
    assert ("Crash address", "0x0") in report.summary
    assert "Email" not in dict(report.summary)  # absent fields are not shown as empty rows
    assert [(m.filename, m.missing_symbols) for m in report.modules] == [("app", False), ("libc.so.6", True)]
    assert report.notes == ["note one", "note two"]
    assert report.annotations == [("ProductName", "myQtCrasher"), ("Version", "1.0")]  # metadata apart


def test_without_a_thread_list_the_walkers_crashing_thread_is_shown() -> None:
    processed = {"json_dump": {"crashing_thread": {"thread_name": "t", "frames": [{"function": "f"}]}}}
    report = build_report("id", processed, {}, sees_protected=False)
    assert report.crashing_thread is not None and [f.function for f in report.crashing_thread.frames] == ["f"]


def test_lists_and_texts_are_bounded() -> None:
    many = [{"frame": n, "function": "x" * (MAX_TEXT + 10)} for n in range(MAX_FRAMES + 7)]
    shown, left = frames(many)
    assert len(shown) == MAX_FRAMES and left == 7
    assert len(shown[0].function) == MAX_TEXT + 1  # cut, with an ellipsis


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from(["json_dump", "crashing_thread", "signature", "processor_notes"]), json_values))
def test_any_shape_of_document_builds_a_report_or_shows_less_never_raises(processed: dict[str, Any]) -> None:
    build_report("id", processed, {"a": processed.get("signature")}, sees_protected=False)


def test_registers_of_the_crashing_thread_only_where_the_document_keeps_them() -> None:
    from crashcart.schemas import builtin_schemas, public_view

    processed = {**PROCESSED, "json_dump": {**PROCESSED["json_dump"]}}
    threads = [dict(t) for t in processed["json_dump"]["threads"]]
    threads[0]["frames"] = [{**threads[0]["frames"][0], "registers": {"rip": "0x1", "rsp": "0x2"}}]
    processed["json_dump"]["threads"] = threads
    full = build_report("id", processed, {}, sees_protected=True)
    assert full.registers == [("rip", "0x1"), ("rsp", "0x2")]
    public = public_view(processed, builtin_schemas()["processed_crash"])
    assert build_report("id", public, {}, sees_protected=False).registers == []
