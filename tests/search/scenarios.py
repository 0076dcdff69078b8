"""Crash-index scenarios that need their own process (Django is configured once per process, for one database).

``python -m tests.search.scenarios NAME URL DATA_DIR`` migrates the database at URL, runs the scenario NAME and
prints ``ok``; ``run_scenario`` does that from a test, so each scenario runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from crashcart import database as db
from crashcart.crashid import create_crash_id
from crashcart.search.writer import CrashIndex
from crashcart.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.UTC

SCENARIOS: dict[str, Callable[[Settings], None]] = {}


def scenario(fn: Callable[[Settings], None]) -> Callable[[Settings], None]:
    SCENARIOS[fn.__name__] = fn
    return fn


def run_scenario(name: str, url: str, data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRASHCART_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "tests.search.scenarios", name, url, str(data_dir), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _vendor() -> str:
    from django.db import connection

    return str(connection.vendor)


def _rows_by_table(table: str = "search_crash") -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text, count(*) FROM {table} GROUP BY 1")
        return dict(cursor.fetchall())


@scenario
def partitions_and_retention(settings: Settings) -> None:
    """Weekly partitions on demand, the default partition as a safety net, retention by dropping weeks."""
    from django.db import connection

    from crashcart.search.models import Crash, CrashData
    from crashcart.search.partitions import DEFAULT_PARTITION, drop_partitions_before, list_partitions

    index = CrashIndex(settings)
    weeks = [dt.datetime(2026, 11, 2, 10, tzinfo=UTC) + dt.timedelta(weeks=n) for n in range(4)]  # Mondays
    ids = {}
    for moment in weeks:
        for offset in (dt.timedelta(0), dt.timedelta(days=6, hours=13)):  # Monday and Sunday of one week
            crash_id = create_crash_id(moment + offset)
            ids[crash_id] = moment + offset
            index.upsert(crash_id, {"date_processed": (moment + offset).isoformat(), "signature": "s"})
    assert Crash.objects.count() == 8
    pg = _vendor() == "postgresql"
    if pg:
        names = [name for name, _ in list_partitions()]
        ahead = "search_crash_p20261130"  # the week after the last one written is created ahead of need
        assert names == [f"search_crash_p{m:%Y%m%d}" for m in weeks] + [ahead], names
        assert _rows_by_table() == {name: 2 for name in names if name != ahead}, _rows_by_table()
        # Each crash's data sits in the same week's partition of the companion table.
        data_names = [name for name, _ in list_partitions("search_crashdata")]
        assert data_names == [name.replace("search_crash_", "search_crashdata_") for name in names], data_names
        assert _rows_by_table("search_crashdata") == {
            name.replace("search_crash_", "search_crashdata_"): 2 for name in names if name != ahead
        }
        # Rows written outside the writer for a week without a partition land in the default partition, and
        # the writer then keeps that week there instead of failing.
        stray_day = dt.datetime(2026, 12, 7, 1, tzinfo=UTC)
        with connection.cursor() as cursor:
            stray = [create_crash_id(stray_day), stray_day]
            cursor.execute("INSERT INTO search_crash (uuid, date) VALUES (%s, %s)", stray)
            cursor.execute("INSERT INTO search_crashdata (uuid, date, data) VALUES (%s, %s, '{}')", stray)
        fresh = CrashIndex(settings)
        late = create_crash_id(stray_day + dt.timedelta(hours=1))
        fresh.upsert(late, {"date_processed": (stray_day + dt.timedelta(hours=1)).isoformat()})
        assert _rows_by_table()[DEFAULT_PARTITION] == 2
        assert _rows_by_table("search_crashdata")["search_crashdata_default"] == 2
        assert fresh.get(late) is not None

    dropped = drop_partitions_before(dt.date(2026, 11, 18))  # a Wednesday: its week stays
    if pg:
        assert dropped == ["search_crash_p20261102", "search_crash_p20261109"], dropped
        assert [name for name, _ in list_partitions()] == [
            "search_crash_p20261116",
            "search_crash_p20261123",
            "search_crash_p20261130",
            "search_crash_p20261214",  # ahead of the stray week, which stays in the default partition
        ]
    else:
        assert dropped == []
    left = set(Crash.objects.values_list("uuid", flat=True))
    kept = {crash_id for crash_id, moment in ids.items() if moment >= dt.datetime(2026, 11, 16, tzinfo=UTC)}
    assert kept <= left and not (set(ids) - kept) & left, (sorted(left), sorted(kept))
    assert set(CrashData.objects.values_list("uuid", flat=True)) == left  # the data went with its crashes
    # A week dropped by retention and written again (a late reprocessing) is recreated by a new process.
    again = CrashIndex(settings)
    old = create_crash_id(weeks[0])
    again.upsert(old, {"date_processed": weeks[0].isoformat()})
    assert again.get(old) is not None
    if pg:
        _partition_creation_waits_for_searches(settings)
    index.close()


def _partition_creation_waits_for_searches(settings: Settings) -> None:
    """A search holding the table makes a partition needed now fail (the crash is retried later), while one
    created only ahead of need is left for a later write; neither waits much longer than the lock timeout."""
    import time

    import psycopg

    from crashcart.errors import IndexUnavailable
    from crashcart.search.partitions import LOCK_TIMEOUT_MS, list_partitions

    busy = CrashIndex(settings)
    new_week = dt.datetime(2027, 3, 3, tzinfo=UTC)
    with psycopg.connect(settings.database_url.get_secret_value()) as search:
        search.execute("SELECT count(*) FROM search_crash")  # an open transaction holds the table's share lock
        existing = dt.datetime(2026, 11, 24, tzinfo=UTC)  # its week exists, the week after it does too
        started = time.monotonic()
        busy.upsert(create_crash_id(existing), {"date_processed": existing.isoformat()})
        assert time.monotonic() - started < LOCK_TIMEOUT_MS / 1000 * 3
        try:
            busy.upsert(create_crash_id(new_week), {"date_processed": new_week.isoformat()})
        except IndexUnavailable as exc:
            assert "lock timeout" in str(exc), exc
        else:
            raise AssertionError("a partition was created while a search held the table")
        search.rollback()
    busy.upsert(create_crash_id(new_week), {"date_processed": new_week.isoformat()})  # the table is free again
    assert "search_crash_p20270301" in [name for name, _ in list_partitions()]


@scenario
def upsert_and_signatures(settings: Settings) -> None:
    """One statement per batch, reprocessing replaces, a changed date moves the row, first date/build kept."""
    from crashcart.search.models import Crash, Signature

    index = CrashIndex(settings)
    day = dt.datetime(2026, 11, 25, 8, tzinfo=UTC)
    a, b, c = (create_crash_id(day) for _ in range(3))

    def crash(moment: dt.datetime, signature: str, build: str | None, **more: object) -> dict[str, object]:
        return {"date_processed": moment.isoformat(), "signature": signature, "build": build, **more}

    written = index.upsert_many(
        [
            (a, crash(day, "sig | one", "20261120000000", user_comments="hello", url="https://x")),
            (b, crash(day - dt.timedelta(hours=3), "sig | one", "20261125000000")),
            (c, crash(day, "sig | two", None, product="Firefox")),
            (c, crash(day, "sig | two", None, product="Thunderbird")),  # repeated id in a batch: last wins
        ],
        batch=2,
    )
    assert written == 3 and Crash.objects.count() == 3  # the repeated id is written once
    row = index.get(a)
    assert row is not None and row["data"]["user_comments"] == "hello" and row["data"]["url"] == "https://x"
    assert row["build_id"] == 20261120000000
    assert index.get(c)["product"] == "Thunderbird"  # type: ignore[index]
    firsts = {s.signature: (s.first_date, s.first_build) for s in Signature.objects.all()}
    assert firsts == {
        "sig | one": (day - dt.timedelta(hours=3), 20261120000000),
        "sig | two": (day, None),
    }, firsts

    # Reprocessing replaces the row (a new signature, a field gone) and never duplicates it.
    index.upsert(a, crash(day, "sig | three", "20261101000000"))
    row = index.get(a)
    assert row is not None and row["signature"] == "sig | three" and "user_comments" not in row["data"]
    assert Crash.objects.filter(uuid=a).count() == 1
    # A later, higher build never moves first_build; an earlier one does; a later date never moves first_date.
    index.upsert(b, crash(day + dt.timedelta(days=1), "sig | one", "20261101000000"))
    one = Signature.objects.get(signature="sig | one")
    assert (one.first_date, one.first_build) == (day - dt.timedelta(hours=3), 20261101000000)
    # date_processed changed (a crash first indexed without it, then reprocessed): the row moves, once.
    d = create_crash_id(day)
    index.upsert(d, {"signature": "x"})
    assert index.get(d)["date"] == dt.datetime(2026, 11, 25, tzinfo=UTC)  # type: ignore[index]
    index.upsert(d, crash(day, "x", None))
    assert Crash.objects.filter(uuid=d).count() == 1 and index.get(d)["date"] == day  # type: ignore[index]
    assert index.count_with_signature("sig | one") == 1
    assert list(index.ids_with_signature("sig | three", chunk=1)) == [a]

    # Hostile values are bounded or dropped, never a failure.
    e = create_crash_id(day)
    index.upsert(
        e,
        {
            "date_processed": "9999-01-01T00:00:00+00:00",
            "signature": "é" * 5_000 + "\x00",
            "uptime": 2**70,
            "build": "not a build",
            "abort_message": "\ud800 lone surrogate",
            "addons": [{"no": "dict"}, "ok:1", "\x00"],
            "memory_measures": "not an object",
            "uptime_ts": float("inf"),
            "major_version": 2**40,
        },
    )
    hostile = index.get(e)
    assert hostile is not None
    assert hostile["date"] == dt.datetime(2026, 11, 25, tzinfo=UTC)  # the id's date, not year 9999
    assert len(hostile["signature"].encode()) <= 2_000 and "\x00" not in hostile["signature"]
    assert hostile["uptime"] is None and hostile["build_id"] is None and hostile["major_version"] is None
    assert hostile["data"]["addons"] == ["ok:1"] and "uptime_ts" not in hostile["data"]
    assert hostile["data"]["abort_message"] == "? lone surrogate"
    assert Signature.objects.filter(signature=hostile["signature"]).exists()

    # Full batches (500 rows, 19 parameters each) fit both databases' parameter limits.
    many = [(create_crash_id(day), crash(day, f"bulk | {n % 7}", str(20261101000000 + n))) for n in range(1_200)]
    assert index.upsert_many(many) == 1_200
    assert Crash.objects.filter(signature__startswith="bulk | ").count() == 1_200
    assert Signature.objects.get(signature="bulk | 3").first_build == 20261101000003
    index.close()


def store_crashes(settings: Settings, days: list[dt.date], per_day: int) -> dict[str, dict[str, object] | None]:
    """Raw crashes on ``days`` in the settings' file storage, with processed crashes for most of them: the last
    of each day has none (never processed) and the first has only two fields (a foreign deployment)."""
    from crashcart.storage import open_storage
    from crashcart.storage.interfaces import DumpFile

    storage = open_storage(settings, None)
    stored: dict[str, dict[str, object] | None] = {}
    for day in days:
        for n in range(per_day):
            moment = dt.datetime.combine(day, dt.time(n % 24, n % 60), UTC)
            crash_id = create_crash_id(moment)
            storage.save_raw_crash(
                crash_id, {"uuid": crash_id}, [DumpFile("upload_file_minidump", 4, "0" * 64, data=b"MDMP")]
            )
            processed: dict[str, object] | None
            if n == per_day - 1:
                processed = None
            elif n == 0:
                processed = {"signature": f"old | {day}", "ProductName": "Legacy"}
            else:
                processed = {
                    "uuid": crash_id,
                    "date_processed": moment.isoformat(),
                    "signature": f"sig | {n % 3}",
                    "product": "Firefox",
                    "os_name": "Linux",
                    "build": "20261120101010",
                    "json_dump": {"threads": [{"frames": [{"frame": i} for i in range(10)]}]},
                }
            if processed is not None:
                storage.save_processed_crash(crash_id, processed)
            stored[crash_id] = processed
    storage.close()
    return stored


class _Interrupt(Exception):
    pass


@scenario
def rebuild_resumes(settings: Settings) -> None:
    """An interrupted rebuild continues from its checkpoint; a finished one leaves none; --restart redoes all."""
    from crashcart.search.models import Crash, RebuildCheckpoint, Signature
    from crashcart.search.rebuild import Rebuild, count_stored
    from crashcart.storage import Role, open_storage

    days = [dt.date(2026, 11, 24), dt.date(2026, 11, 25), dt.date(2026, 11, 27)]
    stored = store_crashes(settings, days, per_day=7)
    processed = {crash_id for crash_id, doc in stored.items() if doc is not None}
    storage = open_storage(settings, Role.WEBAPP)
    index = CrashIndex(settings)
    since, until = dt.date(2026, 11, 24), dt.date(2026, 11, 28)
    assert count_stored(storage, since, until) == 21

    seen: list[int] = []

    def stop_after_two_batches(n: int) -> None:
        seen.append(n)
        if sum(seen) >= 9:  # past the first day and into the second
            raise _Interrupt

    try:
        Rebuild(storage, index, since, until, batch=3, progress=stop_after_two_batches).run()
    except _Interrupt:
        pass
    else:
        raise AssertionError("the rebuild was not interrupted")
    checkpoint = RebuildCheckpoint.objects.get()
    assert checkpoint.day == dt.date(2026, 11, 25) and checkpoint.last_id, checkpoint
    first_pass = Crash.objects.count()
    assert 0 < first_pass < len(processed)

    progressed: list[int] = []
    result = Rebuild(storage, index, since, until, batch=3, progress=progressed.append).run()
    assert result.resumed_from == (checkpoint.day, checkpoint.last_id)
    assert sum(progressed) == 21  # the bar covers the whole range, the resumed part at once
    assert (result.indexed, result.skipped, result.unreadable) == (len(processed), 3, [])
    assert set(Crash.objects.values_list("uuid", flat=True)) == processed
    assert not RebuildCheckpoint.objects.exists()
    legacy = [crash_id for crash_id, doc in stored.items() if doc and doc.get("ProductName") == "Legacy"]
    row = index.get(legacy[0])
    assert row is not None and row["signature"].startswith("old | ") and row["product"] is None
    assert row["date"] == dt.datetime.combine(dt.date.fromisoformat(row["signature"][6:]), dt.time(), UTC)
    assert Signature.objects.filter(signature="sig | 1").exists()

    # A crash deleted from the index comes back on a restart; with a checkpoint of another range, it starts over.
    Crash.objects.filter(uuid=legacy[0]).delete()
    RebuildCheckpoint.objects.create(name="rebuild", since=since, until=until, day=until, last_id="f" * 36)
    again = Rebuild(storage, index, since, until).run(restart=True)
    assert again.resumed_from is None and again.indexed == len(processed)
    assert index.get(legacy[0]) is not None
    RebuildCheckpoint.objects.create(name="rebuild", since=since, until=since, day=since, last_id="f" * 36)
    other = Rebuild(storage, index, since, until).run()
    assert other.resumed_from is None and other.indexed == len(processed)
    # Reader processes (the command's --readers) index the same rows.
    Crash.objects.all().delete()
    counted: list[int] = []
    parallel = Rebuild(storage, index, since, until, batch=2, readers=2, settings=settings, progress=counted.append)
    assert parallel.run().indexed == len(processed) and sum(counted) == 21
    assert set(Crash.objects.values_list("uuid", flat=True)) == processed
    assert index.get(legacy[0])["product"] is None  # type: ignore[index]
    index.close()
    storage.close()


@scenario
def data_moves_to_its_own_table(settings: Settings) -> None:
    """Migration 0002 on an index written before it: every crash's ``data`` reaches ``search_crashdata`` (on
    PostgreSQL in the partition of its week), and searches and ``get`` still see it."""
    from django.core.management import call_command
    from django.db import connection

    from crashcart.search.partitions import list_partitions
    from crashcart.search.runner import supersearch

    call_command("migrate", "search", "0001", interactive=False, verbosity=0)
    moment = dt.datetime(2026, 11, 18, 9, tzinfo=UTC)
    crash_id = create_crash_id(moment)
    pg = _vendor() == "postgresql"
    with connection.cursor() as cursor:
        if pg:
            cursor.execute(
                "CREATE TABLE search_crash_p20261116 PARTITION OF search_crash FOR VALUES FROM (%s) TO (%s)",
                [dt.datetime(2026, 11, 16, tzinfo=UTC), dt.datetime(2026, 11, 23, tzinfo=UTC)],
            )
        cursor.execute(
            "INSERT INTO search_crash (uuid, date, signature, data) VALUES (%s, %s, %s, %s)",
            [crash_id, connection.ops.adapt_datetimefield_value(moment), "moved | sig", '{"url": "https://m/"}'],
        )
    db.migrate(settings)
    row = CrashIndex(settings).get(crash_id)
    assert row is not None and row["signature"] == "moved | sig" and row["data"] == {"url": "https://m/"}, row
    if pg:
        assert [name for name, _ in list_partitions("search_crashdata")] == ["search_crashdata_p20261116"]
        assert _rows_by_table("search_crashdata") == {"search_crashdata_p20261116": 1}
    found = supersearch(
        {"url": ["~//m/"], "date": [">=2026-11-17"], "_columns": ["uuid", "url"]},
        allow_protected=True,
        now=moment + dt.timedelta(days=1),
    )
    assert found["hits"] == [{"uuid": crash_id, "url": "https://m/"}], found


if __name__ == "__main__":
    name, url, data_dir = sys.argv[1:4]
    settings = load_settings(environ={}, data_dir=data_dir, database_url=url)
    db.migrate(settings)
    SCENARIOS[name](settings)
    print("ok")
