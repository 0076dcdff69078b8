"""Index rows from processed crashes (pure), and writing them on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crashcart.crashid import create_crash_id
from crashcart.search.fields import catalogue
from crashcart.search.writer import (
    COLUMN_ORDER,
    KEYWORD_MAX_CHARS,
    TEXT_MAX_BYTES,
    crash_date,
    date_window,
    index_row,
)
from tests.search.scenarios import run_scenario

UTC = dt.UTC
DAY = dt.datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
CRASH_ID = create_crash_id(DAY)


def test_every_catalogue_field_is_read_from_its_source_key() -> None:
    processed = {
        "uuid": CRASH_ID,
        "date_processed": DAY.isoformat(),
        "product": "Firefox",
        "version": "140.0b3",
        "os_name": "Windows NT",
        "os_version": "10.0.19045",
        "os_pretty_version": "Windows 10",
        "build": "20261120101010",
        "major_version": 140,
        "signature": "OOM | small",
        "memory_measures": {"explicit": 123, "vsize_max_contiguous": 4096},
        "collector_metadata": {"collector_notes": ["note one", "note two"]},
        "user_comments": "my secret",
        "url": "https://private.example/",
        "startup_crash": "1",
        "safe_mode": False,
        "uptime_ts": 12.5,
        "crash_report_keys": ["ProductName", "URL"],
        "modules_in_stack": "xul.dll/ABC;ntdll.dll/DEF;",
        "json_dump": {"threads": []},
    }
    row = index_row(CRASH_ID, processed)
    assert set(row) == set(COLUMN_ORDER)
    assert row["uuid"] == CRASH_ID and row["date"] == DAY
    assert (row["platform"], row["platform_version"], row["build_id"]) == ("Windows NT", "10.0.19045", 20261120101010)
    data = row["data"]
    assert data["platform_pretty_version"] == "Windows 10"
    assert data["memory_explicit"] == 123 and data["memory_vsize_max_contiguous"] == 4096
    assert data["user_comments"] == "my secret" and data["url"] == "https://private.example/"  # protected kept
    assert data["startup_crash"] is True and data["safe_mode"] is False and data["uptime_ts"] == 12.5
    assert data["crash_report_keys"] == ["ProductName", "URL"]
    assert data["modules_in_stack"] == ["xul.dll/ABC", "ntdll.dll/DEF"]
    assert "collector_notes" not in data  # a list is not a string: dropped, not stringified
    assert set(data) <= {name for name, f in catalogue().fields.items() if f.column is None}
    assert "json_dump" not in data and "os_name" not in data


def test_a_processed_crash_with_few_fields_is_indexed_with_what_it_has() -> None:
    row = index_row(CRASH_ID, {"signature": "x", "ProductName": "raw only"})
    assert row["signature"] == "x" and row["data"] == {}
    assert row["date"] == dt.datetime(2026, 11, 25, tzinfo=UTC)  # no date_processed: the id's date
    assert all(row[c] is None for c in COLUMN_ORDER if c not in ("uuid", "date", "signature", "data"))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("uptime", 2**63, None),
        ("uptime", -(2**63), -(2**63)),
        ("uptime", True, None),
        ("uptime", "42", 42),
        ("uptime", 3.0, 3),
        ("uptime", 3.5, None),
        ("uptime", "1e400", None),
        ("major_version", 2**31, None),
        ("build_id", "2026112010101020261120", None),
        ("uptime_ts", float("nan"), None),
        ("uptime_ts", float("-inf"), None),
        ("uptime_ts", "0.25", 0.25),
        ("startup_crash", 1, True),
        ("startup_crash", "true", True),
        ("startup_crash", "0", False),
        ("startup_crash", "maybe", None),
        ("startup_crash", 2, None),
        ("product", {"a": 1}, None),
        ("product", ["Firefox"], None),
        ("product", 12, "12"),
        ("reason", "a\x00b", "ab"),
        ("addons", "single:1", ["single:1"]),
        ("addons", [1, None, "", "a:1", ["x"]], ["1", "a:1"]),
        ("addons", 5, None),
        ("missing_symbols", ";;", None),
    ],
)
def test_values_are_normalised_or_dropped(field: str, value: object, expected: object) -> None:
    source = catalogue().fields[field].source_key
    row = index_row(CRASH_ID, {source: value})
    got = row[field] if field in COLUMN_ORDER else row["data"].get(field)
    assert got == expected


def test_text_is_bounded_like_socorro() -> None:
    row = index_row(
        CRASH_ID,
        {
            "java_stack_trace": "€" * 20_000,  # text (has a full version): 32,766 UTF-8 bytes
            "process_type": "x" * 50_000,  # a typed, indexed column: 2,000 bytes
            "hang": "y" * 50_000,  # keyword: 10,000 characters
            "addons": ["z" * 20_000] * 5_000,  # items bounded and counted
        },
    )
    assert len(row["data"]["java_stack_trace"].encode()) <= TEXT_MAX_BYTES
    assert row["data"]["java_stack_trace"] == "€" * (TEXT_MAX_BYTES // 3)
    assert len(row["process_type"]) == 2_000
    assert len(row["data"]["hang"]) == KEYWORD_MAX_CHARS
    assert len(row["data"]["addons"]) == 1_000 and len(row["data"]["addons"][0]) == KEYWORD_MAX_CHARS


def test_date_falls_back_to_the_crash_id() -> None:
    midnight = dt.datetime(2026, 11, 25, tzinfo=UTC)
    assert crash_date(CRASH_ID, "2026-11-26T23:00:00") == dt.datetime(2026, 11, 26, 23, tzinfo=UTC)  # naive: UTC
    assert crash_date(CRASH_ID, "2026-11-25T10:00:00+02:00") == dt.datetime(2026, 11, 25, 8, tzinfo=UTC)
    for bad in (None, "", "yesterday", 1_700_000_000, "2026-12-30T00:00:00+00:00", "1970-01-01T00:00:00"):
        assert crash_date(CRASH_ID, bad) == midnight, bad


def test_upsert_and_signatures_on_sqlite(tmp_path: Path) -> None:
    result = run_scenario("upsert_and_signatures", f"sqlite://{tmp_path}/index.sqlite3", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_upsert_and_signatures_on_postgresql(pg_database: str, tmp_path: Path) -> None:
    result = run_scenario("upsert_and_signatures", pg_database, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_date_window_holds_every_date_a_row_can_have() -> None:
    low, high = date_window([CRASH_ID])
    for date_processed in ("2026-11-23T00:00:00+00:00", "2026-11-27T00:00:00+00:00", "2026-11-25T23:59:59+00:00"):
        assert low <= crash_date(CRASH_ID, date_processed) < high
    other = create_crash_id(dt.datetime(2026, 12, 1, tzinfo=UTC))
    assert date_window([CRASH_ID, other]) == (low, date_window([other])[1])


def test_every_catalogue_field_reaches_the_row() -> None:
    """A processed crash with a value for every source key indexes every catalogue field, by its name."""
    samples = {"string": "text", "enum": "value", "integer": 7, "float": 1.5, "bool": True}
    processed: dict[str, object] = {}
    for field in catalogue().fields.values():
        value: object = ["a", "b"] if field.is_list else samples.get(field.query_type, DAY.isoformat())
        if field.validation_type == "bool":
            value = True
        top, _, rest = field.source_key.partition(".")
        if rest:
            processed.setdefault(top, {})[rest] = value  # type: ignore[index]
        else:
            processed[top] = value
    row = index_row(CRASH_ID, processed)
    found = {name for name in COLUMN_ORDER if row[name] is not None} - {"data"} | set(row["data"])
    assert found == set(catalogue().fields)
