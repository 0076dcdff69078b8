"""The ``CrashStorage`` contract, run against every backend (fs in a temp dir, s3 on a local moto server)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from crashcart.crashid import InvalidCrashId
from crashcart.errors import CrashNotFound, StorageUnavailable
from crashcart.storage import CrashStorage, DumpFile, keys
from tests.storage.conftest import DAY, Backend, new_crash_id

MINIDUMP = b"MDMP\x93\xa7\x00\x00" + bytes(range(256)) * 40
MEMORY_REPORT = b"\x1f\x8b" + os.urandom(3000)


def memory_dump(name: str, data: bytes) -> DumpFile:
    return DumpFile(name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data)


def spooled_dump(name: str, path: Path, data: bytes) -> DumpFile:
    path.write_bytes(data)
    return DumpFile(name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest(), path=path)


def raw_crash(crash_id: str, **extra: object) -> dict[str, object]:
    return {
        "ProductName": "Firefox",
        "Version": "140.0",
        "uuid": crash_id,
        "submitted_timestamp": "2026-11-26T12:00:00+00:00",
        "Notes": "naïve ünïcode ✓",
        **extra,
    }


def layout(crash_id: str, *dump_names: str, pending: bool = False) -> set[str]:
    """Every key one saved crash should leave, and nothing else."""
    expected = {keys.raw_crash_key(crash_id), keys.dump_names_key(crash_id)}
    expected |= {keys.dump_key(crash_id, name) for name in dump_names}
    if pending:
        expected.add(keys.pending_publish_key(crash_id))
    return expected


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stored:
        while chunk := stored.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def test_check_passes_and_leaves_nothing(backend: Backend) -> None:
    backend.storage.check()
    backend.storage.check()
    assert backend.stored_keys() == set()


def test_is_a_crash_storage(backend: Backend) -> None:
    assert isinstance(backend.storage, CrashStorage)


def test_round_trip_with_several_memory_dumps(backend: Backend, tmp_path: Path) -> None:
    storage = backend.storage
    crash_id = new_crash_id()
    dumps = [
        memory_dump("upload_file_minidump", MINIDUMP),
        memory_dump("memory_report", MEMORY_REPORT),
        memory_dump("empty_dump", b""),
    ]
    storage.save_raw_crash(crash_id, raw_crash(crash_id), dumps)

    assert storage.has_raw_crash(crash_id)
    assert storage.get_raw_crash(crash_id) == raw_crash(crash_id)
    assert storage.get_dump_names(crash_id) == ["empty_dump", "memory_report", "upload_file_minidump"]
    assert storage.get_dump(crash_id, "upload_file_minidump") == MINIDUMP
    assert storage.get_dump(crash_id, "memory_report") == MEMORY_REPORT
    assert storage.get_dump(crash_id, "empty_dump") == b""
    path = storage.get_dump_path(crash_id, "upload_file_minidump", tmp_path / "work")
    assert path.read_bytes() == MINIDUMP
    assert backend.stored_keys() == layout(crash_id, "upload_file_minidump", "memory_report", "empty_dump")


def test_round_trip_with_spooled_dumps(backend: Backend, tmp_path: Path) -> None:
    storage = backend.storage
    crash_id = new_crash_id()
    spool = tmp_path / "spool"
    spool.mkdir()
    dumps = [
        spooled_dump("upload_file_minidump", spool / "a", MINIDUMP),
        spooled_dump("empty_dump", spool / "b", b""),
        memory_dump("memory_report", MEMORY_REPORT),
    ]
    storage.save_raw_crash(crash_id, raw_crash(crash_id), dumps)

    assert storage.get_dump(crash_id, "upload_file_minidump") == MINIDUMP
    assert storage.get_dump(crash_id, "empty_dump") == b""
    assert storage.get_dump(crash_id, "memory_report") == MEMORY_REPORT
    assert storage.get_dump_path(crash_id, "empty_dump", tmp_path / "work").read_bytes() == b""
    assert backend.stored_keys() == layout(crash_id, "upload_file_minidump", "memory_report", "empty_dump")


def test_crash_without_dumps(backend: Backend) -> None:
    crash_id = new_crash_id()
    backend.storage.save_raw_crash(crash_id, raw_crash(crash_id), [])
    assert backend.storage.get_dump_names(crash_id) == []
    assert backend.stored_keys() == layout(crash_id)


def test_raw_crash_becomes_visible_last(backend: Backend, tmp_path: Path) -> None:
    crash_id = new_crash_id()
    spooled = spooled_dump("memory_report", tmp_path / "spooled", MEMORY_REPORT)
    dumps = [memory_dump("upload_file_minidump", MINIDUMP), spooled]
    with backend.record_writes() as order:
        backend.storage.save_raw_crash(crash_id, raw_crash(crash_id), dumps, pending_queue="standard")

    assert order[-1] == keys.raw_crash_key(crash_id)
    assert sorted(order[:-1]) == sorted(
        [
            keys.dump_key(crash_id, "upload_file_minidump"),
            keys.dump_key(crash_id, "memory_report"),
            keys.dump_names_key(crash_id),
            keys.pending_publish_key(crash_id),
        ]
    )


def test_crash_without_raw_crash_is_incomplete(backend: Backend) -> None:
    """Dumps and dump names alone (a save cut short) are not a crash: not listed, not found."""
    crash_id = new_crash_id()
    backend.put_key(keys.dump_key(crash_id, "upload_file_minidump"), MINIDUMP)
    backend.put_key(keys.dump_names_key(crash_id), b'["upload_file_minidump"]')

    assert list(backend.storage.list_raw_crash_ids(DAY)) == []
    assert not backend.storage.has_raw_crash(crash_id)
    with pytest.raises(CrashNotFound):
        backend.storage.get_raw_crash(crash_id)


def test_list_raw_crash_ids_by_day(backend: Backend) -> None:
    storage = backend.storage
    other_day = DAY + dt.timedelta(days=1)
    today = sorted(new_crash_id() for _ in range(3))
    tomorrow = [new_crash_id(other_day)]
    for crash_id in today + tomorrow:
        storage.save_raw_crash(crash_id, raw_crash(crash_id), [])

    assert list(storage.list_raw_crash_ids(DAY)) == today
    assert list(storage.list_raw_crash_ids(other_day)) == tomorrow
    assert list(storage.list_raw_crash_ids(DAY - dt.timedelta(days=1))) == []


def test_save_again_overwrites(backend: Backend) -> None:
    crash_id = new_crash_id()
    backend.storage.save_raw_crash(crash_id, raw_crash(crash_id), [memory_dump("upload_file_minidump", b"1")])
    backend.storage.save_raw_crash(
        crash_id, raw_crash(crash_id, Version="2"), [memory_dump("upload_file_minidump", b"2")]
    )
    assert backend.storage.get_raw_crash(crash_id)["Version"] == "2"
    assert backend.storage.get_dump(crash_id, "upload_file_minidump") == b"2"
    assert list(backend.storage.list_raw_crash_ids(DAY)) == [crash_id]


def test_pending_markers(backend: Backend) -> None:
    storage = backend.storage
    pending_id, plain_id = new_crash_id(), new_crash_id()
    before = dt.datetime.now(dt.UTC)
    storage.save_raw_crash(pending_id, raw_crash(pending_id), [], pending_queue="standard")
    storage.save_raw_crash(plain_id, raw_crash(plain_id), [])

    [pending] = storage.list_pending()
    assert pending.crash_id == pending_id
    assert pending.queue == "standard"
    assert before - dt.timedelta(seconds=1) <= pending.marked_at <= dt.datetime.now(dt.UTC)
    assert pending.marked_at.tzinfo is not None

    # Too young for a sweep that wants markers an hour old, until an hour has passed.
    assert list(storage.list_pending(older_than=3600)) == []
    later = backend.open(clock=lambda: time.time() + 3601)
    assert [p.crash_id for p in later.list_pending(older_than=3600)] == [pending_id]

    storage.clear_pending(pending_id)
    assert list(storage.list_pending()) == []
    storage.clear_pending(pending_id)  # already gone: fine
    storage.clear_pending(new_crash_id())  # never existed: fine
    assert storage.has_raw_crash(pending_id)  # clearing the marker keeps the crash


def test_pending_markers_name_their_queue(backend: Backend) -> None:
    ids = {new_crash_id(): queue for queue in ("standard", "priority", "reprocessing")}
    for crash_id, queue in ids.items():
        backend.storage.save_raw_crash(crash_id, raw_crash(crash_id), [], pending_queue=queue)
    assert {p.crash_id: p.queue for p in backend.storage.list_pending()} == ids


def test_processed_crash_round_trip(backend: Backend) -> None:
    storage = backend.storage
    crash_id = new_crash_id()
    processed = {
        "uuid": crash_id,
        "signature": "OOM | small",
        "json_dump": {"crashing_thread": {"frames": [{"frame": 0, "function": "ünïcode::fn"}]}},
        "processor_notes": ["note"],
        "uptime": 12,
        "crashing_thread": None,
    }
    with pytest.raises(CrashNotFound):
        storage.get_processed_crash(crash_id)
    storage.save_processed_crash(crash_id, processed)
    assert storage.get_processed_crash(crash_id) == processed
    storage.save_processed_crash(crash_id, {**processed, "signature": "new"})
    assert storage.get_processed_crash(crash_id)["signature"] == "new"
    assert backend.stored_keys() == {keys.processed_crash_key(crash_id)}
    # Some fields only: the same values as the whole document, the rest skipped (missing names are absent).
    some = storage.get_processed_crash(crash_id, fields={"signature", "uptime", "crashing_thread", "nope"})
    assert some == {"signature": "new", "uptime": 12, "crashing_thread": None}
    assert storage.get_processed_crash(crash_id, fields=()) == {}


@pytest.mark.parametrize(
    "blob",
    [
        b'{"big": 123456789012345678901234567890, "s": "\\ud800", "json_dump": {"x": [1, 2.5, "\\u00e9"]}}',
        b'{"big": 1, "s": "\\ud800x", "nan": NaN, "json_dump": {}}',  # msgspec refuses NaN: decoded whole
        b'{"big": 2, "big": 3, "s": "dup", "json_dump": null}\n',
    ],
)
def test_some_fields_decode_exactly_as_the_whole_document(blob: bytes) -> None:
    import json

    from crashcart.storage import _codec

    whole = json.loads(blob)
    for fields in ({"big", "s"}, {"json_dump"}, set(whole)):
        assert _codec.decode_fields(blob, "id", "processed crash", fields) == {
            k: v for k, v in whole.items() if k in fields
        }
    with pytest.raises(StorageUnavailable):
        _codec.decode_fields(b'["not", "an", "object"]', "id", "processed crash", {"a"})
    with pytest.raises(StorageUnavailable):
        _codec.decode_fields(b'{"a": ', "id", "processed crash", {"a"})


def test_missing_things_are_crash_not_found(backend: Backend, tmp_path: Path) -> None:
    storage = backend.storage
    missing = new_crash_id()
    assert not storage.has_raw_crash(missing)
    for call in (
        lambda: storage.get_raw_crash(missing),
        lambda: storage.get_dump_names(missing),
        lambda: storage.get_dump(missing, "upload_file_minidump"),
        lambda: storage.get_dump_path(missing, "upload_file_minidump", tmp_path),
        lambda: storage.get_processed_crash(missing),
    ):
        with pytest.raises(CrashNotFound):
            call()

    present = new_crash_id()
    storage.save_raw_crash(present, raw_crash(present), [memory_dump("upload_file_minidump", MINIDUMP)])
    with pytest.raises(CrashNotFound):
        storage.get_dump(present, "memory_report")
    with pytest.raises(CrashNotFound):
        storage.get_dump_path(present, "memory_report", tmp_path)


BAD_IDS = [
    "../../../../etc/passwd",
    "de1bb258-cbbf-4589-a673-34f800160918/../../x",
    "/etc/passwd",
    "",
    "DE1BB258-CBBF-4589-A673-34F800160918",
    "de1bb258-cbbf-4589-a673-34f800161399",  # month 13
    "de1bb258-cbbf-4589-a673-34f80016091",
]


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_invalid_crash_ids_are_refused_before_any_io(backend: Backend, bad_id: str, tmp_path: Path) -> None:
    storage = backend.storage
    calls: list[Callable[[], object]] = [
        lambda: storage.save_raw_crash(bad_id, {}, [memory_dump("upload_file_minidump", b"x")]),
        lambda: storage.save_processed_crash(bad_id, {}),
        lambda: storage.get_raw_crash(bad_id),
        lambda: storage.has_raw_crash(bad_id),
        lambda: storage.get_dump_names(bad_id),
        lambda: storage.get_dump(bad_id, "upload_file_minidump"),
        lambda: storage.get_dump_path(bad_id, "upload_file_minidump", tmp_path),
        lambda: storage.get_processed_crash(bad_id),
        lambda: storage.clear_pending(bad_id),
    ]
    for call in calls:
        with pytest.raises(InvalidCrashId):
            call()
    assert backend.stored_keys() == set()


@pytest.mark.parametrize(
    "bad_name", ["../raw_crash", "a/b", "", "raw_crash", "dump_names", "x.y", "...", "dump", "Dump", "é", "a\n"]
)
def test_invalid_dump_names_are_refused_before_any_io(backend: Backend, bad_name: str) -> None:
    crash_id = new_crash_id()
    dumps = [memory_dump("upload_file_minidump", MINIDUMP), memory_dump(bad_name, b"x")]
    with pytest.raises(ValueError, match="invalid dump name"):
        backend.storage.save_raw_crash(crash_id, raw_crash(crash_id), dumps)
    with pytest.raises(ValueError, match="invalid dump name"):
        backend.storage.get_dump(crash_id, bad_name)
    assert backend.stored_keys() == set()


def test_duplicate_dump_names_are_refused(backend: Backend) -> None:
    crash_id = new_crash_id()
    dumps = [memory_dump("upload_file_minidump", b"1"), memory_dump("upload_file_minidump", b"2")]
    with pytest.raises(ValueError, match="duplicate"):
        backend.storage.save_raw_crash(crash_id, raw_crash(crash_id), dumps)
    assert backend.stored_keys() == set()


def test_unserializable_raw_crash_writes_nothing(backend: Backend) -> None:
    crash_id = new_crash_id()
    with pytest.raises(TypeError):
        backend.storage.save_raw_crash(crash_id, {"bad": object()}, [memory_dump("upload_file_minidump", b"1")])
    assert backend.stored_keys() == set()


def test_unavailable_storage_raises_storage_unavailable_quickly(down_storage: CrashStorage, tmp_path: Path) -> None:
    crash_id = new_crash_id()
    started = time.monotonic()
    calls: list[Callable[[], object]] = [
        down_storage.check,
        lambda: down_storage.save_raw_crash(crash_id, raw_crash(crash_id), [], pending_queue="standard"),
        lambda: down_storage.save_processed_crash(crash_id, {}),
        lambda: down_storage.get_raw_crash(crash_id),
        lambda: down_storage.get_dump_names(crash_id),
        lambda: down_storage.get_dump(crash_id, "upload_file_minidump"),
        lambda: down_storage.get_processed_crash(crash_id),
        lambda: down_storage.clear_pending(crash_id),
        lambda: list(down_storage.list_raw_crash_ids(DAY)),
        lambda: list(down_storage.list_pending()),
    ]
    for call in calls:
        with pytest.raises(StorageUnavailable):
            call()
    assert time.monotonic() - started < 10


def test_large_spooled_dump_streams(backend: Backend, tmp_path: Path) -> None:
    """A 20 MiB spooled dump is stored and read back without ever being held whole in memory."""
    crash_id = new_crash_id()
    size = 20 * 1024 * 1024
    source = tmp_path / "big.dmp"
    digest = hashlib.sha256()
    with source.open("wb") as spool:
        block = os.urandom(1 << 20)
        for index in range(size >> 20):
            chunk = block[index:] + block[:index]
            digest.update(chunk)
            spool.write(chunk)
    dump = DumpFile(name="upload_file_minidump", size=size, sha256=digest.hexdigest(), path=source)

    tracemalloc.start()
    try:
        backend.storage.save_raw_crash(crash_id, raw_crash(crash_id), [dump])
        _, save_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        stored = backend.storage.get_dump_path(crash_id, "upload_file_minidump", tmp_path / "work")
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert stored.stat().st_size == size
    assert sha256_of(stored) == digest.hexdigest()
    assert save_peak < size // 2, f"save held {save_peak} bytes"
    assert read_peak < size // 2, f"download held {read_peak} bytes"
