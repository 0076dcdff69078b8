"""What only the filesystem backend promises: on-disk layout, atomic and ordered durable writes, moves of
spooled dumps, and several processes writing at once."""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import multiprocessing
import os
import shutil
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

import crashcart.storage
from crashcart.crashid import is_crash_id
from crashcart.errors import ConfigError, CrashNotFound, StorageUnavailable
from crashcart.settings import Settings, load_settings
from crashcart.storage import keys, open_storage
from crashcart.storage.fs import FSCrashStorage
from tests.storage.conftest import DAY, new_crash_id
from tests.storage.test_conformance import MINIDUMP, memory_dump, raw_crash, spooled_dump


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "storage"


@pytest.fixture
def storage(root: Path) -> FSCrashStorage:
    return FSCrashStorage(root)


def all_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def temp_files(root: Path) -> list[str]:
    return [name for name in all_files(root) if Path(name).name.startswith(".")]


def test_files_follow_the_key_layout(storage: FSCrashStorage, root: Path) -> None:
    crash_id = new_crash_id()
    dumps = [memory_dump("upload_file_minidump", MINIDUMP), memory_dump("memory_report", b"mr")]
    storage.save_raw_crash(crash_id, raw_crash(crash_id), dumps, pending_queue="standard")
    storage.save_processed_crash(crash_id, {"signature": "x"})

    assert all_files(root) == sorted(
        [
            f"v1/raw_crash/20261126/{crash_id}",
            f"v1/dump_names/{crash_id}",
            f"v1/dump/{crash_id}",
            f"v1/memory_report/{crash_id}",
            f"v1/pending_publish/{crash_id}",
            f"v1/processed_crash/{crash_id}",
        ]
    )
    stored = root / "v1/raw_crash/20261126" / crash_id
    assert json.loads(stored.read_text()) == raw_crash(crash_id)
    assert list(json.loads(stored.read_text())) == sorted(raw_crash(crash_id)), "keys sorted: stable bytes"
    assert json.loads((root / "v1/dump_names" / crash_id).read_text()) == [
        "memory_report",
        "upload_file_minidump",
    ]
    marker = json.loads((root / "v1/pending_publish" / crash_id).read_text())
    assert marker["queue"] == "standard"
    assert dt.datetime.fromisoformat(marker["marked_at"]).tzinfo is not None


def test_get_dump_path_is_the_stored_file(storage: FSCrashStorage, root: Path, tmp_path: Path) -> None:
    crash_id = new_crash_id()
    storage.save_raw_crash(crash_id, raw_crash(crash_id), [memory_dump("upload_file_minidump", MINIDUMP)])
    workdir = tmp_path / "work"
    assert storage.get_dump_path(crash_id, "upload_file_minidump", workdir) == root / "v1/dump" / crash_id
    assert not workdir.exists()


def test_spooled_dump_on_the_same_filesystem_is_moved(storage: FSCrashStorage, root: Path, tmp_path: Path) -> None:
    crash_id = new_crash_id()
    spool = tmp_path / "spool.dmp"
    dump = spooled_dump("upload_file_minidump", spool, MINIDUMP)
    spool.chmod(0o600)
    inode = spool.stat().st_ino
    storage.save_raw_crash(crash_id, raw_crash(crash_id), [dump])

    stored = root / "v1/dump" / crash_id
    assert not spool.exists()
    assert stored.stat().st_ino == inode
    created_mode = (root / "v1/dump_names" / crash_id).stat().st_mode & 0o777
    assert stored.stat().st_mode & 0o777 == created_mode
    assert temp_files(root) == []


def test_spooled_dump_on_another_filesystem_is_copied_in_chunks(
    storage: FSCrashStorage, root: Path, tmp_path: Path
) -> None:
    crash_id = new_crash_id()
    spool = tmp_path / "spool.dmp"
    data = os.urandom(8 * 1024 * 1024)
    dump = spooled_dump("upload_file_minidump", spool, data)
    real_link = os.link

    def cross_device(src: Any, dst: Any, **kwargs: Any) -> None:
        if Path(src) == spool:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_link(src, dst, **kwargs)

    del data
    tracemalloc.start()
    try:
        with mock.patch.object(os, "link", cross_device):
            storage.save_raw_crash(crash_id, raw_crash(crash_id), [dump])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert spool.exists(), "the caller's file is left for the caller to remove"
    assert (root / "v1/dump" / crash_id).read_bytes() == spool.read_bytes()
    assert peak < 3 * 1024 * 1024, f"copy held {peak} bytes"
    assert temp_files(root) == []


class _Injector:
    """Wraps one ``os`` function: counts calls, and raises EIO at call number ``fail_at`` (0: never)."""

    def __init__(self, real: Any, fail_at: int = 0) -> None:
        self.real = real
        self.fail_at = fail_at
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.fail_at:
            raise OSError(errno.EIO, "injected I/O error")
        return self.real(*args, **kwargs)


def _save_with(tmp_path: Path, operation: str, fail_at: int) -> tuple[FSCrashStorage, str, _Injector, bool]:
    root = tmp_path / f"{operation}-{fail_at}"
    storage = FSCrashStorage(root)
    crash_id = new_crash_id()
    spool = tmp_path / f"spool-{operation}-{fail_at}"
    dumps = [spooled_dump("upload_file_minidump", spool, MINIDUMP), memory_dump("memory_report", b"mr")]
    injector = _Injector(getattr(os, operation), fail_at)
    failure: StorageUnavailable | None = None
    with mock.patch.object(os, operation, injector):
        try:
            storage.save_raw_crash(crash_id, raw_crash(crash_id), dumps, pending_queue="standard")
        except StorageUnavailable as exc:
            failure = exc
    if failure is not None:
        assert isinstance(failure.__cause__, OSError)
    return storage, crash_id, injector, failure is not None


@pytest.mark.parametrize("operation", ["fsync", "replace", "write", "link", "open"])
def test_a_save_failing_anywhere_leaves_no_temp_file_and_no_raw_crash(tmp_path: Path, operation: str) -> None:
    """Fail the n-th call of one system call, for every n a save makes."""
    _, _, counter, failed = _save_with(tmp_path, operation, fail_at=0)
    assert not failed
    assert counter.calls > 0
    for fail_at in range(1, counter.calls + 1):
        storage, crash_id, _, failed = _save_with(tmp_path, operation, fail_at)
        assert failed
        assert temp_files(storage.root) == []
        # Only the fsync of the raw crash's directory (its open and its fsync) comes after the raw crash is
        # in place: the save still fails (it is not known durable), and the crash may be there.
        syncing_raw_directory = operation in ("open", "fsync") and fail_at == counter.calls
        if not syncing_raw_directory:
            assert not storage.has_raw_crash(crash_id)


def test_durable_order_of_fsyncs_and_renames(root: Path, tmp_path: Path) -> None:
    """Without syncfs: every part is fsync'd at its final name and its directory fsync'd before the raw
    crash, itself fsync'd under a temp name, is renamed into place; its directory is fsync'd before return."""
    storage = FSCrashStorage(root, use_syncfs=False)
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to name fsync'd descriptors")
    crash_id = new_crash_id()
    dumps = [
        memory_dump("upload_file_minidump", MINIDUMP),
        spooled_dump("memory_report", tmp_path / "spool", b"mr"),
    ]
    # Steady state: the directories exist already (new ones also get their parents fsync'd).
    storage.save_raw_crash(new_crash_id(), raw_crash("warm-up"), dumps, pending_queue="standard")
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: Any, dst: Any, **kwargs: Any) -> None:
        events.append(("replace", os.fspath(src)))
        real_replace(src, dst, **kwargs)

    dumps[1] = spooled_dump("memory_report", tmp_path / "spool", b"mr")
    with mock.patch.object(os, "fsync", fsync), mock.patch.object(os, "replace", replace):
        storage.save_raw_crash(crash_id, raw_crash(crash_id), dumps, pending_queue="standard")

    replaced = [path for kind, path in events if kind == "replace"]
    assert len(replaced) == 1, "only the raw crash is renamed: a new id's parts are written in place"
    raw_tmp = replaced[0]
    assert Path(raw_tmp).parent == root / "v1/raw_crash/20261126"
    raw_at = events.index(("replace", raw_tmp))
    assert events.index(("fsync", raw_tmp)) < raw_at
    synced_before_raw = {path for kind, path in events[:raw_at] if kind == "fsync"}
    for part in (
        keys.dump_key(crash_id, "upload_file_minidump"),
        keys.dump_key(crash_id, "memory_report"),
        keys.dump_names_key(crash_id),
        keys.pending_publish_key(crash_id),
    ):
        assert str(root / part) in synced_before_raw
        assert str((root / part).parent) in synced_before_raw
    assert ("fsync", str(root / "v1/raw_crash/20261126")) in events[raw_at:]
    dir_syncs = [path for kind, path in events if kind == "fsync" and Path(path).is_dir()]
    assert len(dir_syncs) == len(set(dir_syncs)) == 5, "each touched directory fsync'd once"


def test_a_resubmitted_id_replaces_its_parts_before_its_raw_crash(storage: FSCrashStorage) -> None:
    """Parts that exist already are not written over in place: they are staged and renamed, before the raw crash."""
    crash_id = new_crash_id()
    storage.save_raw_crash(crash_id, raw_crash(crash_id), [memory_dump("upload_file_minidump", b"MDMP-old")])
    job = storage.stage_raw_crash(
        crash_id, {"uuid": crash_id, "v": 2}, [memory_dump("upload_file_minidump", b"MDMP-new")]
    )
    assert storage.get_dump(crash_id, "upload_file_minidump") == b"MDMP-old", "nothing replaced before a sync"
    storage.sync_staged()
    assert storage.advance_staged(job) is False  # the replaced parts first
    assert storage.get_dump(crash_id, "upload_file_minidump") == b"MDMP-new"
    assert storage.get_raw_crash(crash_id) != {"uuid": crash_id, "v": 2}
    storage.sync_staged()
    assert storage.advance_staged(job) is True
    assert storage.get_raw_crash(crash_id) == {"uuid": crash_id, "v": 2}
    assert temp_files(storage.root) == []


def test_readers_never_see_a_partial_file(storage: FSCrashStorage) -> None:
    crash_id = new_crash_id()
    payloads = [{"signature": "a", "blob": "x" * 400_000}, {"signature": "b", "blob": "y" * 10}]
    storage.save_processed_crash(crash_id, payloads[0])
    stop = threading.Event()

    def writer() -> None:
        index = 0
        while not stop.is_set():
            index += 1
            storage.save_processed_crash(crash_id, payloads[index % 2])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 0.5
        reads = 0
        while time.monotonic() < deadline:
            assert storage.get_processed_crash(crash_id) in payloads
            reads += 1
    finally:
        stop.set()
        thread.join()
    assert reads > 10
    assert temp_files(storage.root) == []


def _write_crashes(root: str, crash_ids: list[str], tag: str) -> None:
    """Child process body: save each crash with a dump that names the writer."""
    storage = FSCrashStorage(Path(root))
    for crash_id in crash_ids:
        dump = memory_dump("upload_file_minidump", f"{tag}:{crash_id}".encode() * 1000)
        storage.save_raw_crash(crash_id, {"uuid": crash_id, "writer": tag}, [dump], pending_queue="standard")


@pytest.mark.slow
def test_several_processes_write_at_once(root: Path) -> None:
    shared = [new_crash_id() for _ in range(10)]
    own = {tag: [new_crash_id() for _ in range(30)] for tag in ("p0", "p1", "p2")}
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_write_crashes, args=(str(root), ids + shared, tag)) for tag, ids in own.items()
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    storage = FSCrashStorage(root)
    expected = sorted(shared + [crash_id for ids in own.values() for crash_id in ids])
    assert list(storage.list_raw_crash_ids(DAY)) == expected
    for tag, ids in own.items():
        for crash_id in ids:
            assert storage.get_raw_crash(crash_id)["writer"] == tag
    for crash_id in shared:
        writer = storage.get_raw_crash(crash_id)["writer"]
        assert writer in own
        # Files of one id saved at once come whole from some writer (last rename wins per file).
        dump = storage.get_dump(crash_id, "upload_file_minidump")
        assert dump in {f"{tag}:{crash_id}".encode() * 1000 for tag in own}
    assert len(list(storage.list_pending())) == len(expected)
    assert temp_files(root) == []


def test_listings_skip_temp_and_stray_files(storage: FSCrashStorage, root: Path) -> None:
    crash_id = new_crash_id()
    storage.save_raw_crash(crash_id, raw_crash(crash_id), [], pending_queue="standard")
    for directory in ("v1/raw_crash/20261126", "v1/pending_publish"):
        (root / directory / f".{crash_id}.123.abcd.tmp").write_text("{")
        (root / directory / "README").write_text("stray")
    assert list(storage.list_raw_crash_ids(DAY)) == [crash_id]
    assert [p.crash_id for p in storage.list_pending()] == [crash_id]


def test_list_pending_goes_by_file_age_oldest_first(storage: FSCrashStorage, root: Path) -> None:
    old, older, fresh = new_crash_id(), new_crash_id(), new_crash_id()
    for crash_id in (old, older, fresh):
        storage.save_raw_crash(crash_id, raw_crash(crash_id), [], pending_queue="standard")
    now = time.time()
    os.utime(root / keys.pending_publish_key(old), (now - 7200, now - 7200))
    os.utime(root / keys.pending_publish_key(older), (now - 9000, now - 9000))
    assert [p.crash_id for p in storage.list_pending(older_than=3600)] == [older, old]
    assert [p.crash_id for p in storage.list_pending()] == [older, old, fresh]


def test_corrupt_marker_is_skipped_and_logged(
    storage: FSCrashStorage, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good, bad = new_crash_id(), new_crash_id()
    for crash_id in (good, bad):
        storage.save_raw_crash(crash_id, raw_crash(crash_id), [], pending_queue="priority")
    (root / keys.pending_publish_key(bad)).write_text("not json")
    with caplog.at_level(logging.WARNING):
        assert [p.crash_id for p in storage.list_pending()] == [good]
    assert bad in caplog.text


def test_corrupt_stored_json_is_storage_unavailable(storage: FSCrashStorage, root: Path) -> None:
    crash_id = new_crash_id()
    storage.save_raw_crash(crash_id, raw_crash(crash_id), [])
    (root / keys.raw_crash_key(crash_id)).write_text("[1, 2")
    with pytest.raises(StorageUnavailable, match="not valid JSON"):
        storage.get_raw_crash(crash_id)
    (root / keys.dump_names_key(crash_id)).write_text('{"a": 1}')
    with pytest.raises(StorageUnavailable, match="not a list"):
        storage.get_dump_names(crash_id)


def test_check_creates_the_root_and_leaves_no_probe(root: Path) -> None:
    storage = FSCrashStorage(root)
    assert not root.exists()
    storage.check()
    assert list((root / ".health").iterdir()) == []


def test_directories_removed_under_a_running_storage_are_made_again(storage: FSCrashStorage, root: Path) -> None:
    first, second = new_crash_id(), new_crash_id()
    storage.save_raw_crash(first, raw_crash(first), [memory_dump("upload_file_minidump", MINIDUMP)])
    shutil.rmtree(root / "v1")
    storage.save_raw_crash(second, raw_crash(second), [memory_dump("upload_file_minidump", MINIDUMP)])
    assert storage.get_dump(second, "upload_file_minidump") == MINIDUMP
    with pytest.raises(CrashNotFound):
        storage.get_raw_crash(first)


# --- open_storage with file:// URLs ----------------------------------------------------------------


def test_open_storage_file_url(tmp_path: Path) -> None:
    root = tmp_path / "with space"
    opened = open_storage(load_settings(environ={}, data_dir=tmp_path, storage_url=root.as_uri()), None)
    assert isinstance(opened, FSCrashStorage)
    assert opened.root == root


def test_open_storage_defaults_to_the_data_dir(tmp_path: Path) -> None:
    opened = open_storage(load_settings(environ={}, data_dir=tmp_path), None)
    assert isinstance(opened, FSCrashStorage)
    assert opened.root == tmp_path.resolve() / "storage"


@pytest.mark.parametrize("url", ["file://somehost/var/crashes", "file:relative/path", "ftp://host/x", "s3://"])
def test_open_storage_refuses_urls_it_cannot_serve(url: str, tmp_path: Path) -> None:
    settings = Settings.model_construct(storage_url=url, data_dir=tmp_path)  # bypass settings validation
    with pytest.raises(ConfigError):
        open_storage(settings, None)


def test_public_api() -> None:
    assert sorted(crashcart.storage.__all__) == ["CrashStorage", "DumpFile", "PendingCrash", "Role", "open_storage"]


def test_close_is_idempotent(storage: FSCrashStorage) -> None:
    storage.close()
    storage.close()


def test_save_syncs_before_and_after_the_raw_crash_renames(root: Path) -> None:
    """With syncfs, ``save_raw_crash`` takes the committer's steps: a syncfs makes every part and temp file
    durable before the raw crash is renamed, and another follows the rename before the save returns, for
    every save of several threads at once (a resubmitted id's replaced part gets a sync of its own too)."""
    from crashcart.storage import fs as fs_module

    storage = FSCrashStorage(root)
    assert storage._syncfs is not None, "syncfs is available on Linux"
    events: list[tuple[str, str]] = []
    lock = threading.Lock()
    real_syncfs = storage._syncfs
    real_replace = os.replace
    real_open = os.open
    returned: dict[str, int] = {}

    def syncfs(fd: int) -> None:
        with lock:
            events.append(("syncfs", ""))
        real_syncfs(fd)

    def replace(src: Any, dst: Any, **kwargs: Any) -> None:
        with lock:
            events.append(("replace", os.fspath(dst)))
        real_replace(src, dst, **kwargs)

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            with lock:
                events.append(("create", os.fspath(path)))
        return real_open(path, flags, *args, **kwargs)

    def save(cid: str) -> None:
        storage.save_raw_crash(
            cid, raw_crash(cid), [memory_dump("upload_file_minidump", MINIDUMP)], pending_queue="standard"
        )
        with lock:
            returned[cid] = len(events)

    storage._syncfs = syncfs
    ids = [new_crash_id() for _ in range(8)]
    with mock.patch.object(fs_module.os, "replace", replace), mock.patch.object(fs_module.os, "open", open_):
        threads = [threading.Thread(target=save, args=(cid,)) for cid in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        save(ids[0])  # resubmitted: its dump replaces the stored one before the raw crash does
    for cid in ids:
        assert storage.get_dump(cid, "upload_file_minidump") == MINIDUMP
        raw_at = events.index(("replace", os.path.join(root, keys.raw_crash_key(cid))))
        dump_at = events.index(("create", os.path.join(root, keys.dump_key(cid, "upload_file_minidump"))))
        assert "syncfs" in [kind for kind, _ in events[dump_at:raw_at]], "raw crash renamed before its dump synced"
        assert "syncfs" in [kind for kind, _ in events[raw_at : returned[cid]]], "returned before the rename synced"
    resubmit = [i for i, e in enumerate(events) if e[0] == "replace" and ids[0] in e[1]][-2:]
    dump_replaced, raw_replaced = resubmit
    assert events[dump_replaced][1] == os.path.join(root, keys.dump_key(ids[0], "upload_file_minidump"))
    assert "syncfs" in [kind for kind, _ in events[dump_replaced:raw_replaced]]
    assert "syncfs" in [kind for kind, _ in events[raw_replaced : returned[ids[0]]]], "returned before rename synced"
    assert temp_files(root) == []


def test_staged_saves_become_visible_only_when_advanced(root: Path) -> None:
    from crashcart.storage.interfaces import StagedSave

    storage = FSCrashStorage(root)
    assert isinstance(storage, StagedSave)
    ids = [new_crash_id() for _ in range(3)]
    staged = [
        storage.stage_raw_crash(
            cid, raw_crash(cid), [memory_dump("upload_file_minidump", MINIDUMP)], pending_queue="standard"
        )
        for cid in ids
    ]
    assert not any(storage.has_raw_crash(cid) for cid in ids), "staged crashes must not be visible"
    assert list(storage.list_pending()) == [], "a marker without its raw crash is not pending"
    storage.sync_staged()
    # one crash's temp raw file disappears before it is advanced: only that crash fails, and is cleaned up
    os.unlink(staged[1].phases[-1][0].tmp)
    assert storage.advance_staged(staged[0]) is True
    with pytest.raises(StorageUnavailable):
        storage.advance_staged(staged[1])
    storage.discard_staged(staged[1])
    assert storage.advance_staged(staged[2]) is True
    storage.sync_staged()
    assert storage.has_raw_crash(ids[0]) and storage.has_raw_crash(ids[2])
    assert not storage.has_raw_crash(ids[1])
    assert not (root / keys.dump_key(ids[1], "upload_file_minidump")).exists(), "a failed save's parts are removed"
    assert storage.get_dump(ids[2], "upload_file_minidump") == MINIDUMP
    assert {p.crash_id for p in storage.list_pending()} == {ids[0], ids[2]}
    assert temp_files(root) == []


def test_markers_of_saves_that_never_completed_are_skipped_then_dropped(root: Path) -> None:
    now = [time.time()]
    storage = FSCrashStorage(root, clock=lambda: now[0])
    crash_id = new_crash_id()
    storage.stage_raw_crash(crash_id, raw_crash(crash_id), [], pending_queue="standard")  # its process dies here
    marker = root / keys.pending_publish_key(crash_id)
    assert marker.exists()
    assert list(storage.list_pending()) == []
    assert marker.exists(), "a save may still be under way"
    now[0] += fs_module_abandoned() + 1
    assert list(storage.list_pending()) == []
    assert not marker.exists()


def fs_module_abandoned() -> float:
    from crashcart.storage import fs as fs_module

    return fs_module.ABANDONED_SAVE_SECONDS


def test_a_batch_marker_lists_its_complete_crashes_until_cleared(root: Path) -> None:
    now = [time.time() + 5]  # markers written from here on are already of age
    storage = FSCrashStorage(root, clock=lambda: now[0])
    ids = [new_crash_id() for _ in range(3)]
    jobs = [storage.stage_raw_crash(cid, raw_crash(cid), []) for cid in ids]
    name = storage.mark_pending_batch(ids, "standard")
    assert not is_crash_id(name) and not name.startswith(".")
    assert [p.name for p in (root / "v1/pending_publish").iterdir()] == [name], "one marker for the batch"
    storage.sync_staged()
    for job in jobs[:2]:
        assert storage.advance_staged(job)
    storage.discard_staged(jobs[2])  # the third crash failed to save
    storage.sync_staged()
    pending = list(storage.list_pending())
    assert [(p.crash_id, p.queue, p.batch) for p in pending] == [(cid, "standard", name) for cid in ids[:2]]
    storage.clear_pending_batch(name)
    assert list(storage.list_pending()) == []
    with pytest.raises(ValueError):
        storage.clear_pending_batch("../raw_crash")
    # a batch none of whose crashes completed is dropped once no save can still be under way
    orphan = new_crash_id()
    lost = storage.mark_pending_batch([orphan], "standard")
    assert list(storage.list_pending()) == []
    assert (root / "v1/pending_publish" / lost).exists()
    now[0] += fs_module_abandoned() + 1
    assert list(storage.list_pending()) == []
    assert not (root / "v1/pending_publish" / lost).exists()
