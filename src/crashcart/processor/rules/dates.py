"""Dates and times: when the crash was submitted and happened, and the ages derived from the client's clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from crashcart.crashid import date_of, is_crash_id
from crashcart.processor.context import CrashContext
from crashcart.processor.rules._values import INT64_MAX, parse_int
from crashcart.processor.rules.base import Rule

#: Epoch seconds outside this range cannot be rendered as a date; treated as unknown.
_MIN_EPOCH = 0
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z


def _epoch(value: Any) -> int | None:
    """Socorro reads at most the first 10 characters of a time annotation; we do the same."""
    if isinstance(value, str):
        value = value.strip()[:10]
    number = parse_int(value)
    return number if number is not None and _MIN_EPOCH <= number <= _MAX_EPOCH else None


def _iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()


def submitted_at(value: Any) -> dt.datetime | None:
    """The collector's ``submitted_timestamp`` as an aware UTC datetime; None when missing or malformed."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def date_processed(raw_crash: Mapping[str, Any], crash_id: str) -> str | None:
    """The one definition of ``date_processed``, whichever ruleset runs: Socorro's, the time the collector
    accepted the report (``submitted_timestamp``), so a crash keeps its date in search and in the weekly
    partitions however often it is reprocessed. When the timestamp is missing or malformed, midnight UTC of
    the date the crash id encodes (the collector's date of the same moment); None for a malformed id.

    When a crash was *processed* is ``started_datetime``/``completed_datetime`` (the last run) and
    ``processor_history`` (every run).
    """
    submitted = submitted_at(raw_crash.get("submitted_timestamp"))
    if submitted is not None:
        return submitted.isoformat()
    if is_crash_id(crash_id):
        return dt.datetime.combine(date_of(crash_id), dt.time(), dt.UTC).isoformat()
    return None


class DatesAndTimesRule(Rule):
    """``submitted_timestamp``, ``date_processed``, ``crash_time``, ``client_crash_date``, ``install_age``,
    ``uptime`` and ``last_crash``, with Socorro's semantics:

    - ``date_processed`` is the collector's ``submitted_timestamp`` (the crash's date everywhere; see
      :func:`date_processed`, which the worker also applies after every ruleset);
    - ``crash_time`` is CrashTime, else the submission time (note ``client_crash_date is unknown``);
    - StartupTime defaults to crash_time and InstallTime to StartupTime, so a missing value gives an age of 0;
    - ``uptime`` = crash_time − StartupTime, never negative; ``install_age`` = crash_time − InstallTime;
    - ``last_crash`` is SecondsSinceLastCrash, or None.

    Unlike Socorro, a malformed time annotation is treated as absent (with a note) rather than as 0,
    which made ages equal to the whole epoch.
    """

    name: ClassVar[str] = "dates_and_times"

    def action(self, ctx: CrashContext) -> None:
        raw = ctx.raw_crash
        submitted = submitted_at(raw.get("submitted_timestamp"))
        if submitted is None:
            ctx.note("submitted_timestamp is missing or malformed")
        else:
            ctx.processed["submitted_timestamp"] = submitted.isoformat()
        when = date_processed(raw, ctx.crash_id)
        if when is not None:
            ctx.processed["date_processed"] = when
        submitted_epoch = int(submitted.timestamp()) if submitted is not None else None

        crash_time = self._read(ctx, "CrashTime")
        if crash_time is None:
            if submitted_epoch is None:
                return
            crash_time = submitted_epoch
            ctx.note("client_crash_date is unknown")
        ctx.processed["crash_time"] = crash_time
        ctx.processed["client_crash_date"] = _iso(crash_time)

        startup_time = self._read(ctx, "StartupTime")
        startup_time = crash_time if startup_time is None else startup_time
        install_time = self._read(ctx, "InstallTime")
        install_time = startup_time if install_time is None else install_time
        ctx.processed["install_age"] = crash_time - install_time
        ctx.processed["uptime"] = max(0, crash_time - startup_time)

        last_crash: int | None = None
        if "SecondsSinceLastCrash" in raw:
            last_crash = parse_int(raw["SecondsSinceLastCrash"])
            if last_crash is None or not 0 <= last_crash <= INT64_MAX:
                last_crash = None
                ctx.note('non-integer value of "SecondsSinceLastCrash"')
        ctx.processed["last_crash"] = last_crash

    @staticmethod
    def _read(ctx: CrashContext, annotation: str) -> int | None:
        if annotation not in ctx.raw_crash:
            return None
        value = _epoch(ctx.raw_crash[annotation])
        if value is None:
            ctx.note(f'non-integer value of "{annotation}"')
        return value
