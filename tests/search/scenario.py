"""One process's run of the crash index against a database URL (Django is set up once per process).

``python -m tests.search.scenario URL DATA_DIR`` migrates twice, writes, reprocesses and reads back, asserting
as it goes, and prints ``ok``; the tests in ``test_db.py`` run it once per database backend.
"""

from __future__ import annotations

import datetime as dt
import sys

from crashcart import database as db
from crashcart.crashid import create_crash_id, date_of
from crashcart.errors import IndexUnavailable
from crashcart.search.writer import CrashIndex
from crashcart.settings import load_settings


def main(url: str, data_dir: str) -> None:
    settings = load_settings(environ={}, data_dir=data_dir, database_url=url)
    try:
        CrashIndex(settings).count_with_signature("anything")  # before any migration: said, not "no such table"
    except IndexUnavailable as exc:
        assert "no tables yet, so nothing is indexed" in str(exc), exc
    else:
        raise AssertionError("an unmigrated index answered a query")
    db.migrate(settings)
    db.migrate(settings)  # idempotent: a second start finds nothing to do
    index = CrashIndex(settings)
    index.check()

    crash_id = create_crash_id(dt.datetime(2026, 11, 25, 23, 59, 59, tzinfo=dt.UTC))
    processed = {
        "product": "Test",
        "version": "1.0",
        "signature": "abort | ValidateConfig",
        "os_name": "Linux",
        "uptime": 12,
        "install_age": "not a number",
        "date_processed": "2026-11-26T00:00:01+00:00",  # the submission, a second after the id's day
        "release_channel": "x" * 10_000,
        "url": "https://private.example/",
    }
    index.upsert(crash_id, processed, {"signature": processed["signature"]})
    row = index.get(crash_id)
    assert row is not None
    assert row["date"] == dt.datetime(2026, 11, 26, 0, 0, 1, tzinfo=dt.UTC), row["date"]  # date_processed
    assert date_of(crash_id) == dt.date(2026, 11, 25)
    assert row["uptime"] == 12 and row["install_age"] is None
    assert row["release_channel"] == "x" * 2_000  # typed columns are b-tree indexed: bounded
    assert row["data"] == {"url": "https://private.example/"}  # protected fields are indexed too
    assert index.count_with_signature("abort | ValidateConfig") == 1
    assert list(index.ids_with_signature("abort | ValidateConfig", chunk=1)) == [crash_id]
    assert index.count_with_signature("abort") == 0 and list(index.ids_with_signature("abort")) == []

    index.upsert(crash_id, {**processed, "signature": "std::terminate | ParseInput"}, {})  # reprocessing
    again = index.get(crash_id)
    assert again is not None and again["signature"] == "std::terminate | ParseInput"
    from crashcart.search.models import Crash

    assert Crash.objects.filter(uuid=crash_id).count() == 1
    assert index.get(create_crash_id(dt.datetime.now(dt.UTC))) is None
    index.close()
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
