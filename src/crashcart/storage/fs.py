"""Filesystem crash storage: the production backend of a self-hosted node (``file:///var/lib/crashcart``).

Files follow the object-store key layout (key ``v1/raw_crash/20261126/<id>`` is the file
``<root>/v1/raw_crash/20261126/<id>``), so a tree can be copied to or from a bucket with ordinary tools and
one ``keys`` module serves both backends.

Durability and visibility, which the collector relies on before it answers 200:

* every file is written to a unique temp file in its final directory (``.<name>.<pid>.<random>.tmp``, so many
  processes and threads can write at once), fsync'd, renamed into place, and its directory fsync'd;
* a crash is complete when its raw crash file exists. That file is renamed into place only after every
  other file of the crash (dumps, dump names, pending marker) is renamed and its directory fsync'd, so
  neither a reader nor recovery after a power loss can see a raw crash without its parts.

On Linux the syncing is done in groups (``_GroupCommit``): concurrent saves write their temp files unsynced,
then one thread makes the whole batch durable with ``syncfs`` between the rename phases. Where ``syncfs`` is
missing, every temp file is fsync'd, renamed in the contract order, and each touched directory fsync'd once.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import itertools
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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
    """One save waiting for the group commit: files to make visible first, then the raw crash."""

    first: Sequence[_Staged]
    last: Sequence[_Staged]
    done: bool = False
    error: BaseException | None = None
    wakeup: threading.Event = field(default_factory=threading.Event)


class _GroupCommit:
    """Makes the saves of many threads durable with three ``syncfs`` calls per batch instead of ~8 fsyncs each.

    fsyncs do not overlap on a journaling filesystem: every one waits for its own journal commit, so a
    collector fsyncing each file and directory tops out at a few hundred crashes per second however many
    threads it has. Here each saving thread writes its temp files without syncing and joins a batch. One of
    the waiting savers (the leader) runs: syncfs (all temp data durable) → rename dumps, names and markers →
    syncfs → rename raw crashes → syncfs, wakes the savers of that batch, and hands leadership to the first
    saver that arrived meanwhile. The contract is unchanged: when a save returns its files are durable, and a
    raw crash never becomes durable before its dumps. Batches grow with load; nobody waits on a timer, and
    each saver is woken exactly once (no thundering herd, no extra committer thread to hop through).
    """

    def __init__(self, root: str, syncfs: Callable[[int], None]) -> None:
        self._root = root
        self._syncfs = syncfs
        self._lock = threading.Lock()
        self._pending: list[_Job] = []
        self._busy = False

    def commit(self, first: Sequence[_Staged], last: Sequence[_Staged]) -> None:
        job = _Job(first, last)
        with self._lock:
            self._pending.append(job)
            lead = not self._busy
            self._busy = True
        if not lead:
            job.wakeup.wait()  # set when the job is done, or when it is made the next leader
        if not job.done:
            self._lead()
        if job.error is not None:
            # A batch-wide failure is shared by every job in it; each caller raises its own instance.
            if isinstance(job.error, OSError):
                raise OSError(job.error.errno, str(job.error)) from job.error
            raise job.error

    def _lead(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        try:
            self._run(batch)
        finally:
            for other in batch:
                other.wakeup.set()
            with self._lock:
                if self._pending:
                    self._pending[0].wakeup.set()  # it finds itself not done: it leads the next batch
                else:
                    self._busy = False

    def run_batch(self, batch: list[_Job]) -> None:
        """Commit a batch in the calling thread (the collector's committer thread)."""
        self._run(batch)

    def _run(self, batch: list[_Job]) -> None:
        try:
            fd = os.open(self._root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
            try:
                self._syncfs(fd)
                for job in batch:
                    _rename_all(job, job.first)
                self._syncfs(fd)
                for job in batch:
                    _rename_all(job, job.last)
                self._syncfs(fd)
            finally:
                os.close(fd)
        except BaseException as exc:
            for job in batch:
                job.error = job.error or exc
        finally:
            for job in batch:
                job.done = True


def _rename_all(job: _Job, items: Sequence[_Staged]) -> None:
    if job.error is not None:
        return
    try:
        for item in items:
            os.replace(item.tmp, item.final)
    except OSError as exc:
        job.error = exc


@dataclass
class _Staged:
    """A durable file waiting in its final directory under a temp name until it is renamed into place."""

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
        group_commit: bool = True,
        role: Role | None = None,
    ) -> None:
        self.root = Path(root)
        self.role = role
        self._root = os.path.normpath(os.fspath(self.root))
        self._clock = clock
        syncfs = _load_syncfs() if group_commit else None
        # With syncfs (Linux) saves are made durable in groups; elsewhere each file and directory is fsync'd.
        self._group = _GroupCommit(self._root, syncfs) if syncfs is not None else None
        self._sync_each = self._group is None
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
        """Store dumps, dump names, the pending marker and the raw crash, made visible in that order.

        Everything that can be refused (ids, dump names, JSON) is checked before the first byte is written.
        """
        job = self.stage_raw_crash(crash_id, raw_crash, dumps, pending_queue=pending_queue)
        try:
            if self._group is not None:
                self._group.commit(job.first, job.last)
            else:
                self._commit(job.first)
                self._commit(job.last)
        except BaseException as exc:
            self.discard_staged(job)
            if isinstance(exc, OSError):
                raise StorageUnavailable(f"{crash_id}: could not save raw crash: {exc}") from exc
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
        """Write every file of a crash under temp names, unsynced; ``commit_staged`` makes a batch durable.

        Split from ``save_raw_crash`` so the collector can write on its event loop and hand only the
        durability barrier to one committer thread (no thread hop per request). Everything that can be
        refused (ids, dump names, JSON) is checked before the first byte is written.
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

        staged: list[_Staged] = []  # everything to clean up on failure
        try:
            # Created files first: the first one tells us the mode that moved-in dumps should get.
            raw = self._stage_bytes(raw_path, raw_blob)
            staged.append(raw)
            staged_parts = []
            for path, blob in parts:
                staged_parts.append(self._stage_bytes(path, blob))
                staged.append(staged_parts[-1])
            staged_dumps = []
            for dump, path in zip(dumps, dump_paths, strict=True):
                staged_dumps.append(self._stage_dump(dump, path))
                staged.append(staged_dumps[-1])
        except BaseException as exc:
            for item in staged:
                _unlink_quietly(item.tmp)
            if isinstance(exc, OSError):
                raise StorageUnavailable(f"{crash_id}: could not save raw crash: {exc}") from exc
            raise
        return _Job([*staged_dumps, *staged_parts], [raw])

    def commit_staged(self, batch: Sequence[_Job]) -> list[BaseException | None]:
        """Make staged crashes durable and visible (raw crash last); one error (or None) per crash."""
        require(self.role, Operation.WRITE_RAW)
        jobs = list(batch)
        if self._group is not None:
            self._group.run_batch(jobs)
        else:
            for job in jobs:
                try:
                    self._commit(job.first)
                    self._commit(job.last)
                except OSError as exc:
                    job.error = exc
                job.done = True
        errors: list[BaseException | None] = []
        for job in jobs:
            if job.error is not None:
                self.discard_staged(job)
                errors.append(StorageUnavailable(f"could not save raw crash: {job.error}"))
            else:
                errors.append(None)
        return errors

    def discard_staged(self, job: _Job) -> None:
        """Remove the temp files of a staged crash that will not be committed (renamed ones are kept)."""
        for item in (*job.first, *job.last):
            _unlink_quietly(item.tmp)

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

    def list_pending(self, older_than: float = 0.0) -> Iterator[PendingCrash]:
        """Markers whose file is at least ``older_than`` seconds old (by mtime), oldest first."""
        require(self.role, Operation.MANAGE_PENDING)
        directory = self._path(keys.PENDING_PUBLISH_PREFIX)
        cutoff = self._clock() - older_than
        found: list[tuple[float, str]] = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if not is_crash_id(entry.name):
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
        for mtime, crash_id in found:
            try:
                blob = self._read(keys.pending_publish_key(crash_id), crash_id, "pending marker")
            except CrashNotFound:
                continue  # cleared since the listing
            pending = _codec.decode_marker(crash_id, blob, dt.datetime.fromtimestamp(mtime, dt.UTC))
            if pending is not None:
                yield pending

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

    def get_processed_crash(self, crash_id: str) -> dict[str, Any]:
        require(self.role, Operation.READ_CRASH)
        blob = self._read(keys.processed_crash_key(crash_id), crash_id, "processed crash")
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

    def _stage_bytes(self, final: str, data: bytes) -> _Staged:
        """Write ``data`` to a durable temp file next to ``final``."""
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

    def _stage_dump(self, dump: DumpFile, final: str) -> _Staged:
        if dump.data is not None:
            return self._stage_bytes(final, dump.data)
        assert dump.path is not None
        return self._stage_spooled(os.fspath(dump.path), final)

    def _stage_spooled(self, source: str, final: str) -> _Staged:
        """Move a spooled dump next to ``final`` when on the same filesystem, else copy it in chunks."""
        self._ensure_dir(os.path.dirname(final))
        tmp = self._temp_path(final)
        try:
            os.rename(source, tmp)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            return self._stage_copy(source, final)
        try:
            fd = os.open(tmp, os.O_RDONLY | _O_CLOEXEC)
            try:
                if self._file_mode is not None:
                    os.fchmod(fd, self._file_mode)  # spool files are private (0o600); stored ones are not
                if self._sync_each:
                    os.fsync(fd)  # the spooler need not have synced it
            finally:
                os.close(fd)
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return _Staged(tmp, final)

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
