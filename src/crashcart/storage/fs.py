"""Filesystem crash storage: the production backend of a self-hosted node (``file:///var/lib/crashcart``).

Files follow the object-store key layout (key ``v1/raw_crash/20261126/<id>`` is the file
``<root>/v1/raw_crash/20261126/<id>``), so a tree can be copied to or from a bucket with ordinary tools and
one ``keys`` module serves both backends.

Durability and visibility, which the collector relies on before it answers 200:

* a crash is complete when its raw crash file exists, and that file is the last of a crash's files to appear
  or to become durable: neither a reader nor recovery after a power loss can see a raw crash without its
  parts;
* the parts (dumps, dump names, pending marker) of a new crash id are written straight to their final names:
  nothing reads a part whose raw crash does not exist, and a failed save removes them. The raw crash, and any
  part that replaces an existing file (a resubmitted id), is written to a unique temp file in its final
  directory (``.<name>.<pid>.<tag><n>.tmp``) and renamed into place once everything before it is durable.

On Linux the syncing is done in groups with ``syncfs``: sync (the batch's data is durable) → rename the raw
crashes → sync (the renames are durable). The collector's committer overlaps batches so that one ``syncfs``
serves two: the sync that makes a new batch's data durable also makes the previous batch's renames durable
(``sync_staged`` and ``advance_staged``). Where ``syncfs`` is missing, every file is fsync'd when written and
each directory fsync'd before the raw crash is renamed, and after.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import itertools
import logging
import os
import secrets
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crashcart.crashid import is_crash_id
from crashcart.errors import CrashNotFound, StorageUnavailable
from crashcart.storage import _codec, keys
from crashcart.storage.access import Operation, Role, permits, require
from crashcart.storage.interfaces import DumpFile, PendingCrash

LOGGER = logging.getLogger(__name__)

COPY_CHUNK = 1024 * 1024
"""Spooled dumps on another filesystem are copied in chunks of this size, never read whole."""

HEALTH_DIR = keys.HEALTH_PREFIX.rstrip("/")

BATCH_MARKER_PREFIX = "batch."
"""Batch markers are named ``batch.<pid>.<tag><n>`` beside the per-crash markers (named by crash id)."""

ABANDONED_SAVE_SECONDS = 3600.0
"""A marker this old whose raw crash does not exist belongs to a save that died; ``list_pending`` drops it."""

_TMP_SUFFIX = ".tmp"
_TMP_TAG = secrets.token_hex(4)
_TMP_COUNTER = itertools.count()
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC


def _load_syncfs() -> Callable[[int], None] | None:
    """Linux's ``syncfs(2)`` through libc, or None where it does not exist."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        func = libc.syncfs
    except (OSError, AttributeError):
        return None

    def syncfs(fd: int) -> None:
        if func(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"syncfs: {os.strerror(err)}")

    return syncfs


@dataclass
class _Job:
    """One staged crash on its way to durable: groups of renames, each after a sync; the raw crash's comes last.

    A fresh crash id has one group (its raw crash); a part that replaces an existing file adds a group
    before it. ``created`` are the parts written straight to their final names, removed if the save fails.
    """

    phases: Sequence[Sequence[_Staged]]
    created: Sequence[str] = ()
    created_dirs: Sequence[str] = ()
    next_phase: int = 0
    error: BaseException | None = None

    @property
    def revealed(self) -> bool:
        """Every rename is done: the crash is durable after the next sync."""
        return self.next_phase >= len(self.phases)


def _advance(job: _Job) -> None:
    """Rename the job's next group of files into place (recording, not raising, a failure)."""
    if job.error is not None or job.revealed:
        return
    try:
        for item in job.phases[job.next_phase]:
            os.replace(item.tmp, item.final)
    except OSError as exc:
        job.error = exc
        return
    job.next_phase += 1


@dataclass
class _Staged:
    """A file waiting in its final directory under a temp name until it is renamed into place."""

    tmp: str
    final: str


class FSCrashStorage:
    """Crash storage in a directory tree; safe for several processes and threads writing at once.

    ``clock`` (seconds since the epoch) decides marker ages in ``list_pending``; tests pass a fake one.
    ``role`` limits the backend to that component's operations (``None``: every operation, for tools and
    tests); on a filesystem this in-process guard is the enforcement, beside the node's file permissions.
    """

    def __init__(
        self,
        root: Path,
        *,
        clock: Callable[[], float] = time.time,
        use_syncfs: bool = True,
        role: Role | None = None,
    ) -> None:
        self.root = Path(root)
        self.role = role
        self._root = os.path.normpath(os.fspath(self.root))
        self._clock = clock
        # With syncfs (Linux) one call makes everything staged durable; elsewhere each file and directory is
        # fsync'd as it is written (``use_syncfs=False`` forces that path, for tests).
        self._syncfs = _load_syncfs() if use_syncfs else None
        self._sync_each = self._syncfs is None
        # Directories known to exist (and whose entries up to the root were fsync'd) in this process.
        self._known_dirs: set[str] = set()
        # Mode our own files get (0o666 minus the umask); moved-in spooled dumps are given the same.
        self._file_mode: int | None = None

    def __repr__(self) -> str:
        return f"FSCrashStorage({self._root!r})"

    # --- health ----------------------------------------------------------------------------------

    def check(self) -> None:
        """Write, fsync and delete a probe file under ``<root>/.health/``; a read-only role lists the root."""
        if not permits(self.role, Operation.PROBE_WRITE):
            try:
                os.listdir(self._root)
            except OSError as exc:
                raise StorageUnavailable(f"file storage {self._root!r} is not readable: {exc}") from exc
            return
        directory = os.path.join(self._root, HEALTH_DIR)
        probe = os.path.join(directory, f"probe.{os.getpid()}.{secrets.token_hex(6)}")
        try:
            os.makedirs(directory, exist_ok=True)
            fd = os.open(probe, _CREATE_FLAGS, 0o666)
            try:
                os.write(fd, b"ok\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise StorageUnavailable(f"file storage {self._root!r} is not writable: {exc}") from exc

    def close(self) -> None:
        """Nothing to release: no file or directory stays open between calls."""

    # --- raw crashes -----------------------------------------------------------------------------

    def save_raw_crash(
        self,
        crash_id: str,
        raw_crash: Mapping[str, Any],
        dumps: Sequence[DumpFile],
        *,
        pending_queue: str | None = None,
    ) -> None:
        """Store dumps, dump names, the pending marker and the raw crash, the raw crash durable last.

        One crash through the committer's own primitives, so there is one write path to keep right: stage →
        sync → advance (a replaced part's rename, then the raw crash's), each followed by a sync. Callers that
        save many crashes at once (the collector) batch the same steps in ``collector.committer`` instead.
        Everything that can be refused (ids, dump names, JSON) is checked before the first byte is written.
        """
        job = self.stage_raw_crash(crash_id, raw_crash, dumps, pending_queue=pending_queue)
        try:
            self.sync_staged()  # the parts and the raw crash's temp file are durable
            while not self.advance_staged(job):
                self.sync_staged()  # a replaced part is durable under its name before the raw crash moves
            self.sync_staged()  # the raw crash's rename is durable
        except BaseException:
            self.discard_staged(job)
            raise
        LOGGER.debug("%s: saved raw crash with %d dump(s)", crash_id, len(dumps))

    def stage_raw_crash(
        self,
        crash_id: str,
        raw_crash: Mapping[str, Any],
        dumps: Sequence[DumpFile],
        *,
        pending_queue: str | None = None,
    ) -> _Job:
        """Write every file of a crash, unsynced: the parts at their final names, the raw crash under a temp one.

        Split from ``save_raw_crash`` so the collector can write on its event loop and leave only the
        durability barrier, for whole batches, to one committer thread. Everything that can be refused (ids,
        dump names, JSON) is checked before the first byte is written.
        """
        require(self.role, Operation.WRITE_RAW)
        raw_path = self._path(keys.raw_crash_key(crash_id))
        names = [dump.name for dump in dumps]
        dump_paths = [self._path(keys.dump_key(crash_id, name)) for name in names]
        parts = [(self._path(keys.dump_names_key(crash_id)), _codec.encode_dump_names(names))]
        if pending_queue is not None:
            marker = _codec.encode_marker(pending_queue, dt.datetime.now(dt.UTC))
            parts.append((self._path(keys.pending_publish_key(crash_id)), marker))
        raw_blob = _codec.encode_object(raw_crash)

        created: list[str] = []  # parts written at their final names
        replacing: list[_Staged] = []  # parts that replace an existing file: renamed before the raw crash
        raw: _Staged | None = None
        try:
            # The raw crash first: the file it creates tells us the mode that moved-in dumps should get.
            raw = self._stage_bytes(raw_path, raw_blob)
            for path, blob in parts:
                self._place_bytes(path, blob, created, replacing)
            for dump, path in zip(dumps, dump_paths, strict=True):
                if dump.data is not None:
                    self._place_bytes(path, dump.data, created, replacing)
                else:
                    assert dump.path is not None
                    self._place_spooled(os.fspath(dump.path), path, created, replacing)
        except BaseException as exc:
            for tmp in [*(item.tmp for item in replacing), *([raw.tmp] if raw else [])]:
                _unlink_quietly(tmp)
            for path in created:
                _unlink_quietly(path)
            if isinstance(exc, OSError):
                raise StorageUnavailable(f"{crash_id}: could not save raw crash: {exc}") from exc
            raise
        phases = [replacing, [raw]] if replacing else [[raw]]
        return _Job(phases, created, sorted({os.path.dirname(path) for path in created}))

    def sync_staged(self) -> None:
        """The durability barrier: every file staged and every rename made so far is durable on return."""
        require(self.role, Operation.WRITE_RAW)
        if self._syncfs is None:
            return  # without syncfs each file and rename is fsync'd as it is made
        try:
            fd = os.open(self._root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
            try:
                self._syncfs(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StorageUnavailable(f"could not sync storage: {exc}") from exc

    def advance_staged(self, job: _Job) -> bool:
        """Rename a staged crash's next group of files into place; True once its raw crash is in place.

        Call only after a ``sync_staged`` that followed the staging (or the previous advance); the crash is
        complete and durable after the ``sync_staged`` that follows the call that returned True.
        """
        require(self.role, Operation.WRITE_RAW)
        if self._syncfs is not None:
            _advance(job)
        elif job.error is None and not job.revealed:
            try:
                if job.next_phase == 0:
                    for directory in job.created_dirs:
                        _fsync_dir(directory)  # the parts' names are durable before the raw crash's
                self._commit(job.phases[job.next_phase])
            except OSError as exc:
                job.error = exc
            else:
                job.next_phase += 1
        if job.error is not None:
            raise StorageUnavailable(f"could not save raw crash: {job.error}") from job.error
        return job.revealed

    def discard_staged(self, job: _Job) -> None:
        """Remove what a crash that failed to save wrote, its raw crash too if this save put it in place."""
        for phase in job.phases:
            for item in phase:
                _unlink_quietly(item.tmp)
        if job.revealed:
            _unlink_quietly(job.phases[-1][0].final)
        for path in job.created:
            _unlink_quietly(path)

    def get_raw_crash(self, crash_id: str) -> dict[str, Any]:
        require(self.role, Operation.READ_CRASH)
        blob = self._read(keys.raw_crash_key(crash_id), crash_id, "raw crash")
        return _codec.decode_object(blob, crash_id, "raw crash")

    def has_raw_crash(self, crash_id: str) -> bool:
        require(self.role, Operation.READ_CRASH)
        try:
            os.stat(self._path(keys.raw_crash_key(crash_id)))
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StorageUnavailable(f"{crash_id}: cannot look up raw crash: {exc}") from exc
        return True

    def get_dump_names(self, crash_id: str) -> list[str]:
        require(self.role, Operation.READ_CRASH)
        blob = self._read(keys.dump_names_key(crash_id), crash_id, "dump names")
        return _codec.decode_dump_names(blob, crash_id)

    def get_dump(self, crash_id: str, name: str) -> bytes:
        require(self.role, Operation.READ_CRASH)
        return self._read(keys.dump_key(crash_id, name), crash_id, f"dump {name!r}")

    def get_dump_path(self, crash_id: str, name: str, workdir: Path) -> Path:
        """The stored file itself (``workdir`` is not used); callers must not modify it."""
        require(self.role, Operation.READ_CRASH)
        path = self._path(keys.dump_key(crash_id, name))
        try:
            os.stat(path)
        except FileNotFoundError as exc:
            raise CrashNotFound(f"{crash_id}: no dump {name!r}") from exc
        except OSError as exc:
            raise StorageUnavailable(f"{crash_id}: cannot look up dump {name!r}: {exc}") from exc
        return Path(path)

    def list_raw_crash_ids(self, day: dt.date) -> Iterator[str]:
        """Sorted ids of the raw crashes of ``day``; temp files and strays are skipped."""
        require(self.role, Operation.LIST_RAW)
        directory = self._path(keys.raw_crash_prefix(day.strftime("%Y%m%d")))
        try:
            names = os.listdir(directory)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageUnavailable(f"cannot list raw crashes of {day}: {exc}") from exc
        yield from sorted(name for name in names if is_crash_id(name))

    # --- pending-publish markers -----------------------------------------------------------------

    def clear_pending(self, crash_id: str) -> None:
        """Remove the marker; a missing one is fine.

        The directory is not fsync'd: a marker that comes back after a power loss only makes the sweep
        publish the crash again, which processing tolerates, so the collector's hot path skips that cost.
        """
        require(self.role, Operation.MANAGE_PENDING)
        try:
            os.unlink(self._path(keys.pending_publish_key(crash_id)))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageUnavailable(f"{crash_id}: could not clear pending marker: {exc}") from exc

    def mark_pending_batch(self, crash_ids: Sequence[str], queue: str) -> str:
        """One marker for a batch of staged crashes, written unsynced: the next ``sync_staged`` makes it durable
        before any of their raw crashes is revealed.

        The collector's committer writes this instead of a marker per crash: one file created and removed per
        batch rather than per crash. (On an ext4 without a journal every removal also makes the next file
        creations skip the freed inode for a minute, so per-crash removals slowed every save.)
        """
        require(self.role, Operation.WRITE_RAW)
        name = f"{BATCH_MARKER_PREFIX}{os.getpid()}.{_TMP_TAG}{next(_TMP_COUNTER)}"
        path = self._path(keys.PENDING_PUBLISH_PREFIX + name)
        try:
            self._place_bytes(path, _codec.encode_batch_marker(queue, dt.datetime.now(dt.UTC), crash_ids), [], [])
        except OSError as exc:
            raise StorageUnavailable(f"could not write pending marker: {exc}") from exc
        return name

    def clear_pending_batch(self, batch: str) -> None:
        """Remove a batch marker (not fsync'd: one that comes back only means a duplicate publish)."""
        require(self.role, Operation.MANAGE_PENDING)
        if not batch.startswith(BATCH_MARKER_PREFIX) or "/" in batch:
            raise ValueError(f"not a batch marker: {batch!r}")
        try:
            os.unlink(self._path(keys.PENDING_PUBLISH_PREFIX + batch))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageUnavailable(f"could not clear pending marker {batch}: {exc}") from exc

    def list_pending(self, older_than: float = 0.0) -> Iterator[PendingCrash]:
        """Complete crashes with a marker (their own or a batch's) at least ``older_than`` seconds old, oldest first.

        A marked crash whose raw crash does not exist is a save that never completed (its process died
        mid-save, or it failed and was answered 503): nothing to publish. Its marker goes once no save can
        still be under way; parts left behind stay for an operator.
        """
        require(self.role, Operation.MANAGE_PENDING)
        directory = self._path(keys.PENDING_PUBLISH_PREFIX)
        cutoff = self._clock() - older_than
        found: list[tuple[float, str]] = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if not (is_crash_id(entry.name) or entry.name.startswith(BATCH_MARKER_PREFIX)):
                        continue  # temp files and strays
                    try:
                        mtime = entry.stat().st_mtime
                    except FileNotFoundError:
                        continue  # cleared while we looked
                    if mtime <= cutoff:
                        found.append((mtime, entry.name))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageUnavailable(f"cannot list pending markers: {exc}") from exc
        found.sort()
        now = self._clock()
        for mtime, name in found:
            path = self._path(keys.PENDING_PUBLISH_PREFIX + name)
            try:
                blob = self._read(keys.PENDING_PUBLISH_PREFIX + name, name, "pending marker")
            except CrashNotFound:
                continue  # cleared since the listing
            marked = dt.datetime.fromtimestamp(mtime, dt.UTC)
            if name.startswith(BATCH_MARKER_PREFIX):
                pendings = _codec.decode_batch_marker(name, blob, marked)
            else:
                one = _codec.decode_marker(name, blob, marked)
                pendings = [one] if one is not None else []
            complete = [p for p in pendings if os.path.exists(self._path(keys.raw_crash_key(p.crash_id)))]
            if not complete and pendings and now - mtime > ABANDONED_SAVE_SECONDS:
                _unlink_quietly(path)
            yield from complete

    # --- processed crashes -----------------------------------------------------------------------

    def save_processed_crash(self, crash_id: str, processed_crash: Mapping[str, Any]) -> None:
        require(self.role, Operation.WRITE_PROCESSED)
        path = self._path(keys.processed_crash_key(crash_id))
        blob = _codec.encode_object(processed_crash)
        try:
            staged = self._stage_bytes(path, blob)
            try:
                self._commit([staged])
            except BaseException:
                _unlink_quietly(staged.tmp)
                raise
        except OSError as exc:
            raise StorageUnavailable(f"{crash_id}: could not save processed crash: {exc}") from exc

    def get_processed_crash(self, crash_id: str, fields: Collection[str] | None = None) -> dict[str, Any]:
        require(self.role, Operation.READ_CRASH)
        blob = self._read(keys.processed_crash_key(crash_id), crash_id, "processed crash")
        if fields is not None:
            return _codec.decode_fields(blob, crash_id, "processed crash", fields)
        return _codec.decode_object(blob, crash_id, "processed crash")

    # --- internals -------------------------------------------------------------------------------

    def _path(self, key: str) -> str:
        # Keys come from ``keys`` only, which validates crash ids and dump names: no ``..``, nothing absolute.
        return os.path.join(self._root, key)

    def _read(self, key: str, crash_id: str, what: str) -> bytes:
        try:
            with open(self._path(key), "rb") as stored:
                return stored.read()
        except FileNotFoundError as exc:
            raise CrashNotFound(f"{crash_id}: no {what}") from exc
        except OSError as exc:
            raise StorageUnavailable(f"{crash_id}: cannot read {what}: {exc}") from exc

    def _temp_path(self, final: str) -> str:
        directory, name = os.path.split(final)
        # pid + a per-process random prefix + a counter: unique across processes and threads without a
        # urandom syscall per file (itertools.count is atomic under the GIL).
        return os.path.join(directory, f".{name}.{os.getpid()}.{_TMP_TAG}{next(_TMP_COUNTER)}{_TMP_SUFFIX}")

    def _create_temp(self, final: str) -> tuple[str, int]:
        """A new, uniquely named temp file next to ``final``, opened for writing."""
        directory = os.path.dirname(final)
        self._ensure_dir(directory)
        tmp = self._temp_path(final)
        try:
            return tmp, os.open(tmp, _CREATE_FLAGS, 0o666)
        except FileNotFoundError:
            # The directory vanished under us (removed by hand?): make it again, once.
            self._known_dirs.discard(directory)
            self._ensure_dir(directory)
            return tmp, os.open(tmp, _CREATE_FLAGS, 0o666)

    def _stage_bytes(self, final: str, data: bytes | memoryview) -> _Staged:
        """Write ``data`` to a new temp file next to ``final`` (fsync'd where there is no group sync)."""
        tmp, fd = self._create_temp(final)
        try:
            try:
                if self._file_mode is None:
                    self._file_mode = os.fstat(fd).st_mode & 0o777
                _write_all(fd, data)
                if self._sync_each:
                    os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return _Staged(tmp, final)

    def _place_bytes(self, final: str, data: bytes | memoryview, created: list[str], replacing: list[_Staged]) -> None:
        """Write a part at its final name, or to a temp file when that name exists (it is renamed later)."""
        self._ensure_dir(os.path.dirname(final))
        try:
            fd = os.open(final, _CREATE_FLAGS, 0o666)
        except FileExistsError:
            replacing.append(self._stage_bytes(final, data))
            return
        except FileNotFoundError:
            self._known_dirs.discard(os.path.dirname(final))  # removed under us: made again by _stage_bytes
            replacing.append(self._stage_bytes(final, data))
            return
        created.append(final)
        try:
            _write_all(fd, data)
            if self._sync_each:
                os.fsync(fd)
        finally:
            os.close(fd)

    def _place_spooled(self, source: str, final: str, created: list[str], replacing: list[_Staged]) -> None:
        """Move a spooled dump to its final name (hard link: never over an existing file), else copy it."""
        self._ensure_dir(os.path.dirname(final))
        try:
            os.link(source, final)
        except FileExistsError:
            replacing.append(self._stage_copy(source, final))
            return
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            replacing.append(self._stage_copy(source, final))  # renamed into place before the raw crash
            return
        created.append(final)
        _unlink_quietly(source)
        if self._file_mode is not None:
            os.chmod(final, self._file_mode)  # spool files are private (0o600); stored ones are not
        if self._sync_each:
            fd = os.open(final, os.O_RDONLY | _O_CLOEXEC)
            try:
                os.fsync(fd)  # the spooler need not have synced it
            finally:
                os.close(fd)

    def _stage_copy(self, source: str, final: str) -> _Staged:
        with open(source, "rb", buffering=0) as src:
            tmp, fd = self._create_temp(final)
            try:
                try:
                    buffer = bytearray(COPY_CHUNK)
                    view = memoryview(buffer)
                    while count := src.readinto(buffer):
                        _write_all(fd, view[:count])
                    if self._sync_each:
                        os.fsync(fd)
                finally:
                    os.close(fd)
            except BaseException:
                _unlink_quietly(tmp)
                raise
        return _Staged(tmp, final)

    def _commit(self, staged: Sequence[_Staged]) -> None:
        """Rename staged files into place in order, then fsync each touched directory once."""
        directories: dict[str, None] = {}
        for item in staged:
            os.replace(item.tmp, item.final)
            directories[os.path.dirname(item.final)] = None
        for directory in directories:
            _fsync_dir(directory)

    def _ensure_dir(self, directory: str) -> None:
        """Make ``directory`` and fsync its parents up to the root's parent, once per process and directory.

        The parents are fsync'd even when another process made the directory: it may not have fsync'd them
        yet when our save returns.
        """
        if directory in self._known_dirs:
            return
        os.makedirs(directory, exist_ok=True)
        stop = os.path.dirname(self._root)
        parent = os.path.dirname(directory)
        while True:
            _fsync_dir(parent)
            if parent == stop or len(parent) <= len(stop):
                break
            parent = os.path.dirname(parent)
        self._known_dirs.add(directory)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: str) -> None:
    """Remove a temp file during cleanup; it being gone (renamed into place) is the normal case."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        LOGGER.warning("could not remove temp file %s: %s", path, exc)
