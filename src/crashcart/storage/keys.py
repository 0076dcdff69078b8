"""The crash-storage key layout, in one place (Socorro's layout, so a Socorro bucket can be read or migrated).

Both the collector and the processor import these functions; no other module builds a key.
"""

from __future__ import annotations

from crashcart.crashid import date_key, validate_crash_id

MAIN_DUMP = "upload_file_minidump"

# Names a dump may not take: they would collide with the other key families.
RESERVED_DUMP_NAMES = frozenset({"dump_names", "processed_crash", "raw_crash", "pending_publish"})


RAW_CRASH_PREFIX = "v1/raw_crash/"
PROCESSED_CRASH_PREFIX = "v1/processed_crash/"
HEALTH_PREFIX = ".health/"
"""Health probes are written and deleted here, outside ``v1/`` so no crash listing ever sees one."""


def raw_crash_key(crash_id: str) -> str:
    validate_crash_id(crash_id)
    return f"{RAW_CRASH_PREFIX}{date_key(crash_id)}/{crash_id}"


def raw_crash_prefix(yyyymmdd: str) -> str:
    return f"{RAW_CRASH_PREFIX}{yyyymmdd}/"


def dump_names_key(crash_id: str) -> str:
    validate_crash_id(crash_id)
    return f"v1/dump_names/{crash_id}"


def dump_key(crash_id: str, name: str) -> str:
    """``upload_file_minidump`` is stored as ``v1/dump/<id>``; every other dump under its own name."""
    validate_crash_id(crash_id)
    if name in RESERVED_DUMP_NAMES or not name or not all(c.isalnum() or c == "_" for c in name):
        raise ValueError(f"invalid dump name {name!r}")
    return f"v1/dump/{crash_id}" if name == MAIN_DUMP else f"v1/{name}/{crash_id}"


def processed_crash_key(crash_id: str) -> str:
    validate_crash_id(crash_id)
    return f"{PROCESSED_CRASH_PREFIX}{crash_id}"


def pending_publish_key(crash_id: str) -> str:
    """Marker of a crash that is stored but not yet known to be queued (our addition to the layout).

    Written with the raw crash and removed after the crash id is published, so the sweep finds exactly the
    crashes whose publish failed without listing every raw crash.
    """
    validate_crash_id(crash_id)
    return f"v1/pending_publish/{crash_id}"


PENDING_PUBLISH_PREFIX = "v1/pending_publish/"
