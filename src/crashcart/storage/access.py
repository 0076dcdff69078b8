"""What each component may do with crash storage (least privilege, Socorro lesson 6).

The collector writes raw crashes and manages pending-publish markers; the processor reads raw crashes and
writes processed ones; the web app only reads. Two layers hold each role to that:

* in the process, a backend opened for a role refuses any other operation with ``StorageForbidden`` (the
  only guard a filesystem node has, and a guard against our own bugs everywhere);
* on S3, ``s3_policy`` renders the IAM policy for a role's credentials, so a leaked collector key cannot read
  a single minidump. ``crashcart storage policy --role R`` prints it; ``docs/storage-access.md`` explains it.

Both are derived from ``GRANTS`` below, so the code and the policy cannot drift apart.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crashcart.errors import StorageForbidden
from crashcart.storage import keys


class Role(enum.StrEnum):
    """A component that opens crash storage."""

    COLLECTOR = "collector"
    PROCESSOR = "processor"
    WEBAPP = "webapp"


class Operation(enum.StrEnum):
    """The storage operations a role may be granted."""

    WRITE_RAW = "write_raw"  # save raw crashes, dumps, dump names and pending markers
    MANAGE_PENDING = "manage_pending"  # list, read and clear pending-publish markers
    LIST_RAW = "list_raw"  # list raw crash ids by day (the sweep's --all, reprocessing by date)
    READ_CRASH = "read_crash"  # read raw crashes, dump names, dumps and processed crashes
    WRITE_PROCESSED = "write_processed"
    PROBE_WRITE = "probe_write"  # the health check writes and deletes a probe


@dataclass(frozen=True)
class Grant:
    """Operations a role holds; ``operations`` drives the in-process guard, the rest the S3 policy."""

    operations: frozenset[Operation]


GRANTS: Mapping[Role, Grant] = {
    Role.COLLECTOR: Grant(
        frozenset({Operation.WRITE_RAW, Operation.MANAGE_PENDING, Operation.LIST_RAW, Operation.PROBE_WRITE})
    ),
    Role.PROCESSOR: Grant(
        frozenset({Operation.READ_CRASH, Operation.LIST_RAW, Operation.WRITE_PROCESSED, Operation.PROBE_WRITE})
    ),
    Role.WEBAPP: Grant(frozenset({Operation.READ_CRASH, Operation.LIST_RAW})),
}


def permits(role: Role | None, operation: Operation) -> bool:
    """Whether ``role`` may perform ``operation``; ``None`` (tools and tests that open a backend directly)
    may do anything."""
    return role is None or operation in GRANTS[role].operations


def require(role: Role | None, operation: Operation) -> None:
    """Raise ``StorageForbidden`` unless ``role`` holds ``operation``."""
    if not permits(role, operation):
        raise StorageForbidden(f"the {role} role may not {operation.value.replace('_', ' ')}")


def s3_policy(role: Role, bucket: str, prefix: str = "") -> dict[str, Any]:
    """The IAM policy document that gives ``role`` exactly its grant on ``s3://bucket/prefix``.

    Dumps other than the main one live under ``v1/<dump name>/`` (Socorro's layout), so raw-crash writes
    are granted on ``v1/*`` with processed crashes denied, rather than listed family by family.
    """
    base = f"arn:aws:s3:::{bucket}"
    root = f"{prefix.strip('/')}/" if prefix.strip("/") else ""

    def objects(key_prefix: str) -> str:
        return f"{base}/{root}{key_prefix}*"

    granted = GRANTS[role].operations
    statements: list[dict[str, Any]] = []
    list_prefixes: list[str] = []
    if Operation.WRITE_RAW in granted:
        statements.append(_allow("WriteRawCrashes", ["s3:PutObject"], [objects("v1/")]))
        statements.append(_deny("NeverWriteProcessedCrashes", ["s3:PutObject"], [objects(keys.PROCESSED_CRASH_PREFIX)]))
    if Operation.MANAGE_PENDING in granted:
        statements.append(
            _allow(
                "ManagePendingMarkers",
                ["s3:GetObject", "s3:DeleteObject"],
                [objects(keys.PENDING_PUBLISH_PREFIX)],
            )
        )
        list_prefixes.append(keys.PENDING_PUBLISH_PREFIX)
    if Operation.READ_CRASH in granted:
        statements.append(_allow("ReadCrashes", ["s3:GetObject"], [objects("v1/")]))
    if Operation.LIST_RAW in granted:
        list_prefixes.append(keys.RAW_CRASH_PREFIX)
    if Operation.WRITE_PROCESSED in granted:
        statements.append(_allow("WriteProcessedCrashes", ["s3:PutObject"], [objects(keys.PROCESSED_CRASH_PREFIX)]))
    if Operation.PROBE_WRITE in granted:
        statements.append(_allow("HealthProbe", ["s3:PutObject", "s3:DeleteObject"], [objects(keys.HEALTH_PREFIX)]))
    if list_prefixes:
        listing = _allow("ListCrashes", ["s3:ListBucket"], [base])
        listing["Condition"] = {"StringLike": {"s3:prefix": [f"{root}{p}*" for p in list_prefixes]}}
        statements.append(listing)
    return {"Version": "2012-10-17", "Statement": statements}


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def _deny(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Deny", "Action": actions, "Resource": resources}
