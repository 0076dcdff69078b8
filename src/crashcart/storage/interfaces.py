"""The crash-storage protocol every backend (``fs``, ``s3``) implements.

A backend raises only ``crashcart.errors`` exceptions: ``StorageUnavailable`` when the store cannot be
reached or refuses, ``CrashNotFound`` when a crash or one of its parts is missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class DumpFile:
    """One received dump, either held in memory (small) or spooled to a local file (large).

    Exactly one of ``data`` and ``path`` is set. A backend may move a spooled file into place instead of
    copying it; the caller removes whatever is left afterwards.
    """

    name: str
    size: int
    sha256: str
    data: bytes | None = None
    path: Path | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.path is None):
            raise ValueError("DumpFile needs exactly one of data and path")

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


@dataclass(frozen=True)
class PendingCrash:
    """A crash stored with a pending-publish marker: its id, the queue it was meant for, and the marker age."""

    crash_id: str
    queue: str
    marked_at: dt.datetime
    batch: str | None = None
    """The batch marker that lists this crash (filesystem collector), cleared with ``clear_pending_batch``."""


@runtime_checkable
class RawCrashWriter(Protocol):
    """What the collector may do with storage (its role, see ``crashcart.storage.access``).

    The collector is typed against this, not ``CrashStorage``, so a read of a dump or a processed-crash
    write from collector code fails type checking before it fails on a production node's credentials.
    """

    def check(self) -> None:
        """Prove the store is reachable and usable for this role; raise ``StorageUnavailable`` if not."""

    def save_raw_crash(
        self,
        crash_id: str,
        raw_crash: Mapping[str, Any],
        dumps: Sequence[DumpFile],
        *,
        pending_queue: str | None = None,
    ) -> None:
        """Durably store one crash: dumps, then dump names, then (optionally) the pending-publish marker for
        ``pending_queue``, then the raw crash last, whose presence marks the crash complete.

        Returns only when everything is durable (fsync'd or acknowledged by the object store).
        """

    def clear_pending(self, crash_id: str) -> None:
        """Remove the pending-publish marker once the crash id is safely queued (missing is fine)."""

    def list_pending(self, older_than: float = 0.0) -> Iterator[PendingCrash]:
        """Crashes whose marker is at least ``older_than`` seconds old, oldest first where cheap."""

    def list_raw_crash_ids(self, day: dt.date) -> Iterator[str]:
        """Ids of the complete raw crashes stored for ``day`` (the date in the id)."""

    def close(self) -> None: ...


@runtime_checkable
class CrashReader(Protocol):
    """What the web app may do with storage: read crashes, never write."""

    def check(self) -> None:
        """Prove the store is reachable for this role; raise ``StorageUnavailable`` if not."""

    def get_raw_crash(self, crash_id: str) -> dict[str, Any]: ...

    def get_dump_names(self, crash_id: str) -> list[str]: ...

    def get_dump(self, crash_id: str, name: str) -> bytes: ...

    def get_dump_path(self, crash_id: str, name: str, workdir: Path) -> Path:
        """A local file holding the dump (the stored file itself, or a download into ``workdir``)."""

    def has_raw_crash(self, crash_id: str) -> bool: ...

    def list_raw_crash_ids(self, day: dt.date) -> Iterator[str]:
        """Ids of the complete raw crashes stored for ``day`` (the date in the id)."""

    def get_processed_crash(self, crash_id: str, fields: Collection[str] | None = None) -> dict[str, Any]:
        """The processed crash; with ``fields``, only those top-level fields, the others skipped without being
        decoded (the index reads ~150 small fields of a document whose ``json_dump`` is 100-300 KB)."""

    def close(self) -> None: ...


@runtime_checkable
class ProcessedCrashWriter(CrashReader, Protocol):
    """What the processor may do: read raw crashes and dumps, write processed crashes."""

    def save_processed_crash(self, crash_id: str, processed_crash: Mapping[str, Any]) -> None: ...


@runtime_checkable
class CrashStorage(RawCrashWriter, ProcessedCrashWriter, Protocol):
    """Where raw and processed crashes live (Socorro's key layout, see ``crashcart.storage.keys``).

    Every backend implements all of it; a backend opened for a role refuses what the role may not do, and
    each component is typed against its role's protocol above.
    """


@runtime_checkable
class StagedSave(Protocol):
    """An optional capability of a local backend: write a crash's files now, make batches durable later.

    The collector uses it (when the backend has it) to write on its event loop and leave the durability
    barrier to one committer thread, which overlaps batches: each ``sync_staged`` makes the new batch's files
    durable and the previous batch's renames too. Object stores do not have it.
    """

    def stage_raw_crash(
        self,
        crash_id: str,
        raw_crash: Mapping[str, Any],
        dumps: Sequence[DumpFile],
        *,
        pending_queue: str | None = None,
    ) -> Any:
        """Write every file of the crash, unsynced, the raw crash hidden; raise ``StorageUnavailable``."""

    def sync_staged(self) -> None:
        """Make everything staged and every rename made so far durable; raise ``StorageUnavailable``."""

    def mark_pending_batch(self, crash_ids: Sequence[str], queue: str) -> str:
        """Write one unsynced marker listing staged crashes not yet queued (durable at the next sync); its name."""

    def clear_pending_batch(self, batch: str) -> None:
        """Remove a batch marker once every crash it lists is queued."""

    def advance_staged(self, staged: Any) -> bool:
        """Make the crash's next group of files visible; True once the raw crash is (durable at the next sync)."""

    def discard_staged(self, staged: Any) -> None:
        """Remove what a crash that could not be saved wrote."""
