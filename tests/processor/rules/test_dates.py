from __future__ import annotations

from typing import Any

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.dates import DatesAndTimesRule, date_processed

SUBMITTED = "2016-09-18T10:00:00+00:00"
EPOCH = 1474192800


def run(raw: dict[str, Any]) -> CrashContext:
    ctx = CrashContext(crash_id="id", raw_crash={"submitted_timestamp": SUBMITTED, **raw})
    DatesAndTimesRule().action(ctx)
    return ctx


def test_all_times_present() -> None:
    ctx = run(
        {
            "CrashTime": str(EPOCH),
            "StartupTime": str(EPOCH - 60),
            "InstallTime": str(EPOCH - 3600),
            "SecondsSinceLastCrash": "86400",
        }
    )
    assert ctx.processed == {
        "submitted_timestamp": SUBMITTED,
        "date_processed": SUBMITTED,
        "crash_time": EPOCH,
        "client_crash_date": SUBMITTED,
        "install_age": 3600,
        "uptime": 60,
        "last_crash": 86400,
    }
    assert not ctx.notes


def test_crash_time_falls_back_to_submitted() -> None:
    ctx = run({})
    assert ctx.processed["crash_time"] == EPOCH
    assert ctx.processed["uptime"] == 0
    assert ctx.processed["install_age"] == 0
    assert ctx.processed["last_crash"] is None
    assert ctx.notes == ["client_crash_date is unknown"]


def test_install_time_defaults_to_startup_time() -> None:
    ctx = run({"CrashTime": str(EPOCH), "StartupTime": str(EPOCH - 10)})
    assert ctx.processed["install_age"] == 10


def test_uptime_never_negative() -> None:
    assert run({"CrashTime": str(EPOCH), "StartupTime": str(EPOCH + 50)}).processed["uptime"] == 0


def test_crash_time_reads_first_ten_characters() -> None:
    assert run({"CrashTime": f"{EPOCH}123"}).processed["crash_time"] == EPOCH


def test_malformed_values_noted_without_values() -> None:
    ctx = run({"CrashTime": "soon", "StartupTime": "x-secret", "SecondsSinceLastCrash": "9" * 40})
    assert ctx.processed["crash_time"] == EPOCH
    assert ctx.processed["last_crash"] is None
    assert ctx.notes == [
        'non-integer value of "CrashTime"',
        "client_crash_date is unknown",
        'non-integer value of "StartupTime"',
        'non-integer value of "SecondsSinceLastCrash"',
    ]
    assert not any("secret" in note for note in ctx.notes)


def test_missing_submitted_timestamp() -> None:
    ctx = CrashContext(crash_id="id", raw_crash={"CrashTime": str(EPOCH)})
    DatesAndTimesRule().action(ctx)
    assert "date_processed" not in ctx.processed
    assert ctx.processed["crash_time"] == EPOCH
    assert ctx.notes == ["submitted_timestamp is missing or malformed"]
    ctx = CrashContext(crash_id="id", raw_crash={"submitted_timestamp": ["junk"]})
    DatesAndTimesRule().action(ctx)
    assert ctx.processed == {}


def test_missing_submitted_timestamp_dates_the_crash_by_its_id() -> None:
    ctx = CrashContext(crash_id="de1bb258-cbbf-4589-a673-34f800160918", raw_crash={"submitted_timestamp": "soon"})
    DatesAndTimesRule().action(ctx)
    assert ctx.processed["date_processed"] == "2016-09-18T00:00:00+00:00"
    assert date_processed(ctx.raw_crash, ctx.crash_id) == ctx.processed["date_processed"]


def test_naive_submitted_timestamp_is_utc() -> None:
    ctx = CrashContext(crash_id="id", raw_crash={"submitted_timestamp": "2016-09-18T10:00:00"})
    DatesAndTimesRule().action(ctx)
    assert ctx.processed["date_processed"] == SUBMITTED
