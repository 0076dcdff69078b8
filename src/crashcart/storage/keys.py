"""The crash-storage key layout, in one place (Socorro's layout, so a Socorro bucket can be read or migrated).

Both the collector and the processor import these functions; no other module builds a key.
"""

from __future__ import annotations

import re

from crashcart.crashid import date_key, validate_crash_id

MAIN_DUMP = "upload_file_minidump"
MAIN_DUMP_DIR = "dump"
"""The main minidump is stored as ``v1/dump/<id>``, not under its own name (Socorro's layout)."""

RAW_CRASH_PREFIX = "v1/raw_crash/"
DUMP_NAMES_PREFIX = "v1/dump_names/"
PROCESSED_CRASH_PREFIX = "v1/processed_crash/"
PENDING_PUBLISH_PREFIX = "v1/pending_publish/"
HEALTH_PREFIX = ".health/"
"""Health probes are written and deleted here, outside ``v1/`` so no crash listing ever sees one."""

_DIRECTORIES = frozenset(
    prefix.removeprefix("v1/").rstrip("/")
    for prefix in (RAW_CRASH_PREFIX, DUMP_NAMES_PREFIX, PROCESSED_CRASH_PREFIX, PENDING_PUBLISH_PREFIX)
)

RESERVED_DUMP_NAMES = _DIRECTORIES | {MAIN_DUMP_DIR}
"""Names a dump may not take: every other directory of the layout, and ``dump`` (the main minidump's).

Compared without case, so a case-insensitive store (a macOS disk) cannot fold ``Dump`` onto ``dump`` either.
A dump named like one is refused rather than renamed, as Antenna refuses its reserved names: a renamed
dump could land on a name another part of the same report uses, and no real client sends these names.
"""

_DUMP_NAME_RE = re.compile(r"[A-Za-z0-9_]+")


class InvalidDumpName(ValueError):
    """The dump name would not map to a key of its own: empty, outside ``[A-Za-z0-9_]`` or reserved."""

    code = "invalid_dump_name"


def is_dump_name(name: str) -> bool:
    """True when ``name`` maps to a key no other dump name and no other kind of key uses.

    The main minidump's name qualifies (it maps to ``v1/dump/``); every other name maps to ``v1/<name>/``, so
    refusing the reserved directories (and anything that is not a plain path segment) keeps the mapping
    injective and apart from every other key kind.
    """
    return (
        isinstance(name, str) and _DUMP_NAME_RE.fullmatch(name) is not None and name.lower() not in RESERVED_DUMP_NAMES
    )


def raw_crash_key(crash_id: str) -> str:
    validate_crash_id(crash_id)
    return f"{RAW_CRASH_PREFIX}{date_key(crash_id)}/{crash_id}"


def raw_crash_prefix(yyyymmdd: str) -> str:
    return f"{RAW_CRASH_PREFIX}{yyyymmdd}/"


def dump_names_key(crash_id: str) -> str:
    validate_crash_id(crash_id)
    return f"{DUMP_NAMES_PREFIX}{crash_id}"


def dump_key(crash_id: str, name: str) -> str:
    """``upload_file_minidump`` is stored as ``v1/dump/<id>``; every other dump under its own name.

    The only place a dump name becomes a key: a name ``is_dump_name`` refuses raises ``InvalidDumpName``.
    """
    validate_crash_id(crash_id)
    if not is_dump_name(name):
        raise InvalidDumpName(f"invalid dump name {name[:60]!r}")
    return f"v1/{MAIN_DUMP_DIR}/{crash_id}" if name == MAIN_DUMP else f"v1/{name}/{crash_id}"


def processed_crash_key(crash_id: str) -> str:
    validate_crash_id(crash_id)
    return f"{PROCESSED_CRASH_PREFIX}{crash_id}"


def pending_publish_key(crash_id: str) -> str:
    """Marker of a crash that is stored but not yet known to be queued (our addition to the layout).

    Written with the raw crash and removed after the crash id is published, so the sweep finds exactly the
    crashes whose publish failed without listing every raw crash.
    """
    validate_crash_id(crash_id)
    return f"{PENDING_PUBLISH_PREFIX}{crash_id}"
