"""The crash index tables: weekly partitions on PostgreSQL, a plain table on SQLite, retention."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg

from crashcart.search.partitions import partition_name, week_start
from tests.search.scenarios import run_scenario


def test_week_start_is_monday_midnight_utc() -> None:
    assert week_start(dt.date(2026, 11, 29)) == dt.datetime(2026, 11, 23, tzinfo=dt.UTC)  # a Sunday
    assert week_start(dt.datetime(2026, 11, 30, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))) == dt.datetime(
        2026, 11, 23, tzinfo=dt.UTC
    )  # still Sunday in UTC
    assert partition_name(week_start(dt.date(2027, 1, 1))) == "search_crash_p20261228"


def test_partitions_and_retention_on_postgresql(pg_database: str, tmp_path: Path) -> None:
    result = run_scenario("partitions_and_retention", pg_database, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    with psycopg.connect(pg_database) as conn:
        kind = conn.execute("SELECT relkind FROM pg_class WHERE relname = 'search_crash'").fetchone()
        key = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'search_crash'::regclass "
            "AND contype = 'p'"
        ).fetchone()
        indexes = {
            row[0]
            for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'search_crash_p20261116'")
        }
        statistics = {
            row[0]: row[1]
            for row in conn.execute(
                "SELECT c.relname, pg_get_statisticsobjdef_expressions(s.oid)::text FROM pg_statistic_ext s "
                "JOIN pg_class c ON c.oid = s.stxrelid WHERE c.relname LIKE 'search_crash%'"
            )
        }
        data_kind = conn.execute("SELECT relkind FROM pg_class WHERE relname = 'search_crashdata'").fetchone()
    assert kind == ("p",)  # a partitioned table
    assert key == ("PRIMARY KEY (uuid, date)",)
    assert {"search_crash_p20261116_signature_date_idx", "search_crash_p20261116_product_date_idx"} <= indexes
    assert data_kind == ("p",)
    # Every partition of search_crash (the default one too) has statistics on what "has terms" filters compare.
    assert {"search_crash_p20261116", "search_crash_default"} <= set(statistics), statistics
    assert all("lower(product)" in expressions for expressions in statistics.values()), statistics


def test_retention_on_sqlite_deletes_the_same_rows(tmp_path: Path) -> None:
    result = run_scenario("partitions_and_retention", f"sqlite://{tmp_path}/index.sqlite3", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_migration_moves_data_to_its_own_table(pg_database: str, tmp_path: Path) -> None:
    for url in (pg_database, f"sqlite://{tmp_path}/index.sqlite3"):
        result = run_scenario("data_moves_to_its_own_table", url, tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "ok"
