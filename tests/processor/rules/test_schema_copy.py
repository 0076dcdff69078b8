from __future__ import annotations

from typing import Any

import pytest

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.schema_copy import MAX_STRING_CHARS, CopyFromRawCrashRule
from crashcart.schemas import builtin_schemas


def copy_raw(raw: dict[str, Any]) -> CrashContext:
    ctx = CrashContext(crash_id="id", raw_crash=raw)
    CopyFromRawCrashRule(builtin_schemas().processed_crash).action(ctx)
    return ctx


def test_copies_and_normalizes_types() -> None:
    ctx = copy_raw(
        {
            "ProductName": "Game  ",
            "SafeMode": "1",
            "StartupCrash": "false",
            "TotalPhysicalMemory": "17179869184",
            "UptimeTS": "12.5",
            "URL": "https://example.com",
            "Unknown": "kept out",
        }
    )
    p = ctx.processed
    assert p["product"] == "Game"
    assert p["safe_mode"] is True
    assert p["startup_crash"] is False
    assert p["total_physical_memory"] == 17179869184
    assert p["uptime_ts"] == 12.5
    assert p["url"] == "https://example.com"
    assert "Unknown" not in p and "unknown" not in p
    assert p["marionette"] is False  # schema default when absent
    assert not ctx.notes


@pytest.mark.parametrize(
    ("annotation", "value", "note"),
    [
        ("SafeMode", "yes-secret", "SafeMode has a non-boolean value; safe_mode not set"),
        (
            "TotalPhysicalMemory",
            "12abc-secret",
            "TotalPhysicalMemory has a non-integer value; total_physical_memory not set",
        ),
        ("TotalPhysicalMemory", "9" * 30, "TotalPhysicalMemory has a non-integer value; total_physical_memory not set"),
        ("UptimeTS", "nan", "UptimeTS has a non-numeric value; uptime_ts not set"),
        ("ProductName", {"a": 1}, "ProductName has a non-string value; product not set"),
        ("SafeMode", True, None),
        ("TotalPhysicalMemory", 12, None),
    ],
)
def test_bad_values_dropped_with_note_naming_field_not_value(annotation: str, value: Any, note: str | None) -> None:
    ctx = copy_raw({annotation: value})
    if note is None:
        assert not ctx.notes
    else:
        assert ctx.notes == [note]
        assert all(
            spec.name not in ctx.processed
            for spec in builtin_schemas().processed_crash.copied_fields()
            if spec.source_annotation == annotation
        )


def test_long_strings_are_bounded() -> None:
    ctx = copy_raw({"Notes": "x" * (MAX_STRING_CHARS + 10)})
    assert len(ctx.processed["app_notes"]) == MAX_STRING_CHARS
    assert ctx.notes == [f"Notes is longer than {MAX_STRING_CHARS} characters; app_notes truncated"]


def test_object_fields_decode_json(tmp_path: Any) -> None:
    from crashcart.schemas import load_schemas

    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "processed_crash:\n  fields:\n"
        "    game_state: {type: object, permission: public, description: s, source_annotation: GameState}\n"
        "    seen_at: {type: datetime, permission: public, description: s, source_annotation: SeenAt}\n"
    )
    rule = CopyFromRawCrashRule(load_schemas(extra).processed_crash)
    ctx = CrashContext(crash_id="id", raw_crash={"GameState": '{"level": 3}', "SeenAt": "2020-01-01T00:00:00"})
    rule.action(ctx)
    assert ctx.processed["game_state"] == {"level": 3}
    assert ctx.processed["seen_at"] == "2020-01-01T00:00:00+00:00"
    for bad in ("[1]", "{", "[" * 100000):
        ctx = CrashContext(crash_id="id", raw_crash={"GameState": bad})
        rule.action(ctx)
        assert "game_state" not in ctx.processed
        assert ctx.notes == ["GameState has a malformed object value; game_state not set"]
