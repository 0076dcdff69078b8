"""The committer over real file storage and a real SQLite queue: durability order, failures mid-batch, resubmits.

The storage and the queue are the real backends, subclassed only to write down what happened and in which order
(and, for one test, to hold the first sync so that the next crashes pile up into one batch).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from crashcart.collector.committer import Committer
from crashcart.errors import StorageUnavailable
from crashcart.queue.sqlite import SQLiteCrashQueue
from crashcart.storage import keys
from crashcart.storage.fs import FSCrashStorage
from crashcart.storage.interfaces import DumpFile
from tests.storage.conftest import new_crash_id
from tests.storage.test_conformance import memory_dump

Event = tuple[Any, ...]


class Log:
    """Events from the committer's threads and the event loop, in one order."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def add(self, *event: Any) -> None:
        with self._lock:
            self.events.append(event)

    def index(self, *event: Any) -> int:
        with self._lock:
            return self.events.index(event)

    def syncs_between(self, start: int, end: int) -> int:
        with self._lock:
            return sum(1 for event in self.events[start:end] if event[0] == "sync")

    def first(self, kind: str, crash_id: str) -> int:
        with self._lock:
            return next(i for i, event in enumerate(self.events) if event[0] == kind and crash_id in event[1:])


class RecordingStorage(FSCrashStorage):
    """Real file storage that logs each committer step, with the raw crash's visibility at that moment."""

    def __init__(self, root: Path, log: Log) -> None:
        super().__init__(root)
        self.log = log
        self.ids: dict[int, str] = {}  # id(staged job) -> crash id
        self.poisoned: set[str] = set()  # crashes whose raw crash temp file vanishes before its rename
        self.gate = threading.Event()
        self.gate.set()

    def stage_raw_crash(
        self,
        crash_id: str,
        raw_crash: Mapping[str, Any],
        dumps: Sequence[DumpFile],
        *,
        pending_queue: str | None = None,
    ) -> Any:
        job = super().stage_raw_crash(crash_id, raw_crash, dumps, pending_queue=pending_queue)
        self.ids[id(job)] = crash_id
        self.log.add("staged", crash_id, self.has_raw_crash(crash_id))
        if crash_id in self.poisoned:
            os.unlink(job.phases[-1][0].tmp)  # a real failure of the coming rename (ENOENT)
        return job

    def mark_pending_batch(self, crash_ids: Sequence[str], queue: str) -> str:
        name = super().mark_pending_batch(crash_ids, queue)
        self.log.add("marked", *crash_ids)
        return name

    def sync_staged(self) -> None:
        self.log.add("sync-waiting")
        self.gate.wait()
        super().sync_staged()
        self.log.add("sync")

    def advance_staged(self, staged: Any) -> bool:
        crash_id = self.ids[id(staged)]
        try:
            revealed = super().advance_staged(staged)
        except StorageUnavailable:
            self.log.add("advance-failed", crash_id)
            raise
        self.log.add("revealed" if revealed else "advanced", crash_id)
        return revealed


class RecordingQueue(SQLiteCrashQueue):
    def __init__(self, path: Path, log: Log) -> None:
        super().__init__(path, 3, 30.0, 0.0)
        self.log = log

    def publish(self, queue: str, bodies: Sequence[str]) -> None:
        super().publish(queue, bodies)
        self.log.add("published", *bodies)

    def drain(self) -> list[str]:
        out = []
        while (message := self.consume()) is not None:
            out.append(message.body)
            self.ack(message)
        return out


class Rig:
    def __init__(self, tmp_path: Path) -> None:
        self.log = Log()
        self.root = tmp_path / "storage"
        self.storage = RecordingStorage(self.root, self.log)
        self.queue = RecordingQueue(tmp_path / "queue.sqlite3", self.log)
        self.queue.declare()
        self.committer = Committer(self.storage, self.queue)

    async def save(self, crash_id: str, dumps: list[DumpFile], **raw: Any) -> None:
        await self.committer.save(crash_id, {"uuid": crash_id, **raw}, dumps)
        self.log.add("answered", crash_id)

    def wait_for(self, predicate: Any, what: str) -> None:
        deadline = time.monotonic() + 10
        while not predicate():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.005)

    def published(self) -> list[str]:
        return [crash_id for event in list(self.log.events) if event[0] == "published" for crash_id in event[1:]]

    def files(self) -> list[str]:
        return sorted(str(path.relative_to(self.root)) for path in self.root.rglob("*") if path.is_file())

    def close(self) -> None:
        self.committer.close()
        self.queue.close()


@pytest.fixture
def rig(tmp_path: Path) -> Any:
    made = Rig(tmp_path)
    yield made
    made.close()


def dump(data: bytes, name: str = "upload_file_minidump") -> DumpFile:
    return memory_dump(name, data)


async def test_raw_crash_appears_after_its_dumps_are_durable_and_is_published_after_its_own_sync(rig: Rig) -> None:
    ids = [new_crash_id() for _ in range(20)]
    await asyncio.gather(*(rig.save(crash_id, [dump(crash_id.encode())]) for crash_id in ids))
    rig.wait_for(lambda: sorted(rig.published()) == sorted(ids), "every crash to be published")

    for crash_id in ids:
        staged = rig.log.index("staged", crash_id, False)  # staged: parts written, raw crash not visible
        marked = rig.log.first("marked", crash_id)
        revealed = rig.log.index("revealed", crash_id)
        answered = rig.log.index("answered", crash_id)
        published = rig.log.first("published", crash_id)
        assert staged < marked < revealed
        assert rig.log.syncs_between(marked, revealed) >= 1, "raw crash renamed before its dumps and marker synced"
        assert rig.log.syncs_between(revealed, answered) >= 1, "answered before the raw crash's rename was durable"
        assert rig.log.syncs_between(revealed, published) >= 1, "published before the crash was durable"
        assert rig.storage.get_dump(crash_id, "upload_file_minidump") == crash_id.encode()
    assert sorted(rig.queue.drain()) == sorted(ids)
    rig.wait_for(lambda: list(rig.storage.list_pending()) == [], "the batch markers to go once all is queued")
    assert not [name for name in rig.files() if Path(name).name.startswith(".")], "temp files left"


async def test_a_crash_failing_mid_batch_is_removed_and_the_rest_of_its_batch_is_committed(rig: Rig) -> None:
    # Hold the first crash's sync so the next ones pile up into one batch, then fail one in its middle.
    rig.storage.gate.clear()
    first = new_crash_id()
    held = asyncio.ensure_future(rig.save(first, [dump(b"first")]))
    await asyncio.to_thread(rig.wait_for, lambda: ("sync-waiting",) in rig.log.events, "the first sync")
    batch = [new_crash_id() for _ in range(7)]
    poisoned = batch[3]
    rig.storage.poisoned.add(poisoned)
    saves = [
        asyncio.ensure_future(rig.save(crash_id, [dump(crash_id.encode()), dump(b"x", "extra")])) for crash_id in batch
    ]
    await asyncio.to_thread(
        rig.wait_for, lambda: all(("staged", c, False) in rig.log.events for c in batch), "the batch to stage"
    )
    rig.storage.gate.set()
    outcomes = await asyncio.gather(held, *saves, return_exceptions=True)

    assert ("marked", *batch) in rig.log.events, "the seven crashes were committed as one batch"
    assert outcomes[0] is None
    for crash_id, outcome in zip(batch, outcomes[1:], strict=True):
        if crash_id == poisoned:
            assert isinstance(outcome, StorageUnavailable)
            assert ("advance-failed", poisoned) in rig.log.events
        else:
            assert outcome is None, outcome
            assert rig.storage.get_dump(crash_id, "upload_file_minidump") == crash_id.encode()
            assert sorted(rig.storage.get_dump_names(crash_id)) == ["extra", "upload_file_minidump"]
    rig.wait_for(lambda: len(rig.published()) == len(batch), "the saved crashes to be published")
    assert sorted(rig.queue.drain()) == sorted([first, *(c for c in batch if c != poisoned)])
    # Nothing of the failed crash is left, not even a temp file; its batch's marker went once the rest was queued.
    assert not rig.storage.has_raw_crash(poisoned)
    assert [name for name in rig.files() if poisoned in name] == []
    assert not [name for name in rig.files() if Path(name).name.startswith(".")], "temp files left"
    rig.wait_for(lambda: list(rig.storage.list_pending()) == [], "the batch marker to go")


async def test_a_resubmitted_id_replaces_the_stored_crash_without_a_reader_ever_seeing_a_mix(rig: Rig) -> None:
    crash_id = new_crash_id()
    await rig.save(crash_id, [dump(b"MDMP-first")], version=1)
    raw_path = rig.root / keys.raw_crash_key(crash_id)
    seen: list[int] = []
    problems: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        """Reads the way the processor does, raw crash first: the raw crash names which parts it owns."""
        while not stop.is_set():
            try:
                raw = json.loads(raw_path.read_bytes())
            except (FileNotFoundError, ValueError) as exc:
                problems.append(f"raw crash unreadable: {exc!r}")
                continue
            seen.append(raw["version"])
            if raw["version"] == 2:
                names = sorted(rig.storage.get_dump_names(crash_id))
                body = rig.storage.get_dump(crash_id, "upload_file_minidump")
                if names != ["memory_report", "upload_file_minidump"] or body != b"MDMP-second":
                    problems.append(f"second raw crash with the first's parts: {names} {body!r}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        await asyncio.sleep(0.01)
        await rig.save(crash_id, [dump(b"MDMP-second"), dump(b"mr", "memory_report")], version=2)
        await asyncio.sleep(0.01)
    finally:
        stop.set()
        thread.join()

    assert problems == []
    assert seen[0] == 1 and seen[-1] == 2 and sorted(seen) == seen, "the raw crash moved from one save to the next"
    assert rig.storage.get_raw_crash(crash_id)["version"] == 2
    assert rig.storage.get_dump(crash_id, "memory_report") == b"mr"
    second = rig.log.events[rig.log.index("answered", crash_id) + 1 :]
    assert ("advanced", crash_id) in second, "the replaced parts moved in a step of their own, before the raw crash"
    advanced, revealed = second.index(("advanced", crash_id)), second.index(("revealed", crash_id))
    assert sum(1 for event in second[advanced:revealed] if event[0] == "sync") >= 1
    assert not [name for name in rig.files() if Path(name).name.startswith(".")], "temp files left"


async def test_a_store_only_crash_is_durable_but_in_no_marker_and_never_published(rig: Rig) -> None:
    kept, queued = new_crash_id(), new_crash_id()
    await asyncio.gather(
        rig.committer.save(kept, {"uuid": kept}, [dump(b"kept")], publish=False),
        rig.save(queued, [dump(b"queued")]),
    )
    rig.wait_for(lambda: rig.published() == [queued], "the other crash to be published")
    revealed = rig.log.index("revealed", kept)
    assert rig.log.syncs_between(revealed, len(rig.log.events)) >= 1
    assert rig.storage.get_dump(kept, "upload_file_minidump") == b"kept"
    assert all(kept not in event for event in rig.log.events if event[0] in ("marked", "published"))
    rig.wait_for(lambda: list(rig.storage.list_pending()) == [], "the marker to go")
    assert rig.queue.drain() == [queued]
