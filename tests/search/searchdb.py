"""Test support for Super Search: index databases, seeded crash rows, and an independent reference search.

Django is configured once per process, so each test database is an extra connection alias next to the
process's ``default`` (whatever configured it first): one SQLite file and one fresh PostgreSQL database, both
migrated with the real migrations. ``reference`` answers a query in plain Python over the same rows, written
from socorro-api.md §2.4 without looking at the SQL, so the runner is checked against an independent oracle.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import regex

from crashcart import database as db
from crashcart.search.fields import COLUMNS, catalogue
from crashcart.search.partitions import TABLES, Partitions
from crashcart.search.writer import CRASH_UPSERT_SQL, DATA_UPSERT_SQL, index_row
from crashcart.settings import load_settings

NOW = dt.datetime(2031, 3, 15, 12, 0, 0, tzinfo=dt.UTC)


def ensure_django(data_dir: Path) -> None:
    """Configure Django for this process unless someone already did (the suite shares one process)."""
    from django.conf import settings

    if not settings.configured:
        db.configure(load_settings(environ={}, data_dir=data_dir))


def add_database(alias: str, url: str) -> None:
    """Register ``url`` as Django connection ``alias`` and migrate it."""
    from django.core.management import call_command
    from django.db import connections

    merged = connections.configure_settings(
        {"default": dict(connections.settings["default"]), alias: db.database_config(url)}
    )
    connections.settings[alias] = merged[alias]
    call_command("migrate", database=alias, interactive=False, verbosity=0)


def drop_database(alias: str) -> None:
    from django.db import connections

    if alias in connections.settings:
        connections[alias].close()
        del connections.settings[alias]
        if hasattr(connections._connections, alias):
            delattr(connections._connections, alias)


# --- rows -------------------------------------------------------------------------------------------

SIGNATURES = [
    "OOM | small",
    "OOM | large",
    "js::GCMarker::markDelayedChildren",
    "mozilla::ipc::MessageChannel::Send",
    "shutdownhang | nsThread::Shutdown",
    "it's 100% _odd_ \\ sig;--",
    "AbortWithMessage | (a+)+$",
    "ÉCOLE | résumé",
    "a" * 300,
]
PRODUCTS = ["Firefox", "Fenix", "Thunderbird"]
VERSIONS = ["120.0", "120.0b1", "120.0b2", "121.0a1", "115.5.0esr"]
PLATFORMS = ["Windows NT", "Linux", "Mac OS X", "Android"]
ADDONS = ["ext@a:1.0", "ext@b:2.0", "100%_x:1", "ublock@raymondhill:1.5"]
MODULES = ["xul.dll", "ntdll.dll", "libxul.so", "mozglue.dll"]


def generate(seed: int, count: int, *, end: dt.datetime = NOW, days: int = 20) -> list[dict[str, Any]]:
    """Processed-crash-like index rows (catalogue names; missing values absent), deterministic for ``seed``."""
    rnd = random.Random(seed)
    rows = []
    for _ in range(count):
        when = end - dt.timedelta(seconds=rnd.randrange(days * 86400))
        when = when.replace(microsecond=rnd.choice([0, rnd.randrange(1_000_000)]))
        row: dict[str, Any] = {
            "uuid": f"{uuid.UUID(int=rnd.getrandbits(128), version=4)}"[:-7] + f"0{when:%y%m%d}",
            "date": when,
        }

        def maybe(name: str, value: Any, p: float = 0.85, row: dict[str, Any] = row) -> None:
            if rnd.random() < p:
                row[name] = value

        maybe("product", rnd.choice(PRODUCTS), 0.95)
        maybe("version", rnd.choice(VERSIONS))
        maybe("release_channel", rnd.choice(["release", "beta", "nightly", "Release"]))
        maybe("platform", rnd.choice(PLATFORMS))
        maybe("signature", rnd.choices(SIGNATURES, weights=[30, 10, 8, 6, 5, 3, 2, 2, 1])[0], 0.97)
        maybe("build_id", rnd.choice([20231201093000, 20231215000000, 20240101120000]))
        maybe("uptime", rnd.randrange(-5, 5000))
        maybe("install_time", rnd.randrange(1_700_000_000, 1_700_000_040))
        maybe("process_type", rnd.choice(["parent", "content", "gpu"]))
        maybe("report_type", rnd.choice(["crash", "hang"]))
        maybe("major_version", rnd.choice([115, 120, 121]))
        maybe("addons", rnd.sample(ADDONS, rnd.randrange(0, 4)), 0.7)
        maybe("modules_in_stack", rnd.sample(MODULES, rnd.randrange(0, 3)), 0.7)
        maybe("startup_crash", rnd.random() < 0.3, 0.8)
        maybe("cpu_count", rnd.choice([2, 4, 8, 16]))
        maybe("uptime_ts", round(rnd.uniform(-2, 40), 3), 0.6)
        maybe("moz_crash_reason", rnd.choice(["MOZ_CRASH(OOM)", "MOZ_RELEASE_ASSERT(x) 50%", "MOZ_CRASH()"]), 0.4)
        maybe("adapter_vendor_id", rnd.choice(["0x8086", "0x10de", "NVIDIA"]), 0.5)
        maybe("url", rnd.choice(["https://example.com/a?b=1", "https://secret.example/x"]), 0.4)
        maybe("user_comments", rnd.choice(["it crashed again", "Crashed while typing", "100% reproducible"]), 0.3)
        rows.append(row)
    return rows


def processed_crash(row: Mapping[str, Any]) -> dict[str, Any]:
    """The processed crash a row of catalogue names comes from (source keys, nested where they are)."""
    fields = catalogue()
    processed: dict[str, Any] = {}
    for name, value in row.items():
        if name == "uuid":
            processed["uuid"] = value
            continue
        spec = fields.get(name)
        assert spec is not None, name
        *parents, leaf = spec.source_key.split(".")
        target = processed
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value.isoformat() if isinstance(value, dt.datetime) else value
    return processed


def index_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows as the real writer's ``index_row`` makes them, from their processed crashes."""
    return [index_row(row["uuid"], processed_crash(row)) for row in rows]


def flat(row: Mapping[str, Any]) -> dict[str, Any]:
    """An index row by catalogue name (typed columns and ``data`` together; missing values absent)."""
    out = {k: v for k, v in row.items() if k != "data" and v is not None}
    out.update(row["data"])
    return out


def insert(alias: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write index rows (``index_row``'s) into the index tables of ``alias`` with the writer's own statements
    (creating PostgreSQL's partitions), without the rest of ``write_rows``."""
    from django.db import connections

    connection = connections[alias]
    Partitions().ensure(connection, [row["date"] for row in rows])
    ops = connection.ops
    crashes, datas = [], []
    for row in rows:
        date = ops.adapt_datetimefield_value(row["date"])
        crashes.append([date if column == "date" else row[column] for column in COLUMNS])
        datas.append([row["uuid"], date, ops.adapt_json_value(row["data"], None)])
    with connection.cursor() as cursor:
        cursor.executemany(CRASH_UPSERT_SQL, crashes)
        cursor.executemany(DATA_UPSERT_SQL, datas)


def clear(alias: str) -> None:
    from django.db import connections

    with connections[alias].cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"DELETE FROM {table}")


# --- the reference ----------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _matches(field: Any, op: str, value: Any, actual: Any) -> bool:
    """One clause on one row's value, as socorro-api.md §2.4 and query.py's notes describe it."""
    values = actual if isinstance(actual, list) else ([] if actual is None else [actual])
    if op == "__null__":
        return not values
    if op == "__true__":
        return any(v is True for v in values)
    for v in values:
        if op == "":
            if field.has_full_version and field.query_type == "string" and not field.is_list:
                if _words(str(v)) & _words(str(value)):
                    return True
            elif isinstance(value, str):
                if str(v).lower() == value.lower():
                    return True
            elif v == value:
                return True
        elif op == "=":
            if v == value:
                return True
        elif op == "~":
            if str(value) in str(v):
                return True
        elif op == "^":
            if str(v).startswith(str(value)):
                return True
        elif op == "$":
            if str(v).endswith(str(value)):
                return True
        elif op == "@":
            # the ``regex`` engine with a timeout: hostile patterns must not stall the oracle either
            if regex.fullmatch(str(value), str(v), timeout=2.0):
                return True
        elif op in (">", ">=", "<", "<="):
            if isinstance(v, bool) or not isinstance(v, int | float | dt.datetime):
                continue
            if {">": v > value, ">=": v >= value, "<": v < value, "<=": v <= value}[op]:
                return True
    return False


def _hit_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, list):
        return None if not value else value[0] if len(value) == 1 else value
    return value


def reference(query: Any, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The expected answer (minus ``next_cursor``) of a parsed query over ``rows``, computed in Python."""
    rng = query.date_range

    def in_range(row: Mapping[str, Any]) -> bool:
        d = row["date"]
        lower = d >= rng.start if rng.start_inclusive else d > rng.start
        upper = d <= rng.end if rng.end_inclusive else d < rng.end
        return lower and upper

    def keep(row: Mapping[str, Any]) -> bool:
        for flt in query.filters:
            actual = row.get(flt.field.name)

            def ok(c: Any, flt: Any = flt, actual: Any = actual) -> bool:
                hit = _matches(flt.field, c.operator, c.value, actual)
                return not hit if c.negated else hit

            if not all(ok(c) for c in flt.all_of):
                return False
            if flt.any_of and not any(ok(c) for c in flt.any_of):
                return False
        return True

    found = [r for r in rows if in_range(r) and keep(r)]

    def sort_key(row: Mapping[str, Any]) -> list[Any]:
        key = []
        for s in query.sort:
            v = row.get(s.field.name)
            missing = v is None
            key.append((missing, _Desc(v) if s.descending and not missing else v if not missing else 0))
        return key

    ordered = sorted(found, key=sort_key)
    page = ordered[query.results_offset : query.results_offset + query.results_number]
    hits = [{c.name: _hit_value(r.get(c.name)) for c in query.columns} for r in page]
    facets = {agg.key: _aggregate(agg, found, query.facets_size) for agg in query.aggregations}
    return {"hits": hits, "total": len(found), "facets": facets, "errors": []}


class _Desc:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return bool(self.value > other.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


def _values_of(row: Mapping[str, Any], name: str) -> list[Any]:
    v = row.get(name)
    if v is None:
        return []
    return list(dict.fromkeys(v)) if isinstance(v, list) else [v]


def _term(field: Any, v: Any) -> Any:
    if field.validation_type == "bool":
        return "T" if v else "F"
    return v


def _bucket_of(agg: Any, v: Any) -> Any:
    interval = agg.interval
    if agg.field.query_type == "date":
        v = v.astimezone(dt.UTC)
        if interval.seconds:
            epoch = int(v.timestamp()) // interval.seconds * interval.seconds
            start = dt.datetime.fromtimestamp(epoch, dt.UTC)
        elif interval.calendar == "hour":
            start = v.replace(minute=0, second=0, microsecond=0)
        elif interval.calendar == "week":
            start = (v - dt.timedelta(days=v.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        elif interval.calendar == "month":
            start = v.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        else:
            start = v.replace(hour=0, minute=0, second=0, microsecond=0)
        return start.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    step = interval.step
    bucket = (v // step) * step
    return int(bucket) if isinstance(step, int) and agg.field.validation_type == "int" else float(bucket)


def _aggregate(agg: Any, rows: Sequence[Mapping[str, Any]], size: int) -> Any:
    if agg.kind == "cardinality":
        return {"value": len({v for r in rows for v in _values_of(r, agg.field.name)})}
    groups: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        for v in _values_of(r, agg.field.name):
            key = _bucket_of(agg, v) if agg.kind == "histogram" else _term(agg.field, v)
            groups[key].append(r)
    if agg.kind == "histogram":
        keys = sorted(groups)
    else:
        counts = Counter({k: len(v) for k, v in groups.items()})
        keys = sorted(counts, key=lambda k: (-counts[k], k))[:size]
    out = []
    for k in keys:
        bucket: dict[str, Any] = {"term": k, "count": len(groups[k])}
        if agg.children or agg.kind == "histogram":
            bucket["facets"] = {c.key: _aggregate(c, groups[k], size) for c in agg.children}
        out.append(bucket)
    return out
