"""The collector app in-process, over real embedded backends (file storage, SQLite queue)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crashcart.collector.app import Backends, build_collector
from crashcart.collector.sweep import sweep_pending
from crashcart.crashid import create_crash_id, date_of
from crashcart.metrics import Metrics
from crashcart.queue import open_queue
from crashcart.settings import Settings, load_settings
from crashcart.storage import open_storage
from crashcart.storage.fs import FSCrashStorage

DUMP = b"MDMP" + bytes(range(256)) * 40


def multipart(fields: dict[str, str], files: dict[str, bytes], boundary: str = "xYzZY") -> tuple[str, bytes]:
    """A plain curl-style multipart body."""
    out = []
    for name, value in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.append(value.encode() + b"\r\n")
    for name, data in files.items():
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.dmp"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        out.append(data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(out)


class Harness:
    def __init__(self, settings: Settings, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.settings = settings
        self.storage = open_storage(settings, None)
        self.queue = open_queue(settings)
        self.queue.declare()
        self.metrics = Metrics()
        self.app = build_collector(settings, Backends(self.storage, self.queue), self.metrics, clock)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test")

    async def submit(
        self,
        fields: dict[str, str] | None = None,
        files: dict[str, bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        ctype, body = multipart(
            fields if fields is not None else {"ProductName": "Test", "Version": "1.0"},
            files if files is not None else {"upload_file_minidump": DUMP},
        )
        return await self.client.post("/submit", content=body, headers={"content-type": ctype, **(headers or {})})

    def queued(self, expect: int = 0, timeout: float = 10.0) -> list[str]:
        """Ids on the queue, waiting up to ``timeout`` for ``expect`` of them: the committer publishes just
        after it answers."""
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            while (msg := self.queue.consume()) is not None:
                out.append(msg.body)
                self.queue.ack(msg)
            if len(out) >= expect or time.monotonic() > deadline:
                return out
            time.sleep(0.01)


def crash_id_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.text.startswith("CrashID=bp-") and response.text.endswith("\n")
    return response.text.strip()[len("CrashID=bp-") :]


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = Harness(load_settings({"CRASHCART_DATA_DIR": str(tmp_path)}))
    yield h
    await h.client.aclose()
    h.app.close()


async def test_accepted_crash_is_stored_and_queued(harness: Harness) -> None:
    response = await harness.submit(
        {"ProductName": "Test", "Version": "1.0", "Email": "me@example.com"},
        {"upload_file_minidump": DUMP, "upload_file_minidump_browser": b"MDMP2"},
        headers={"user-agent": "Crashpad/0.8.0"},
    )
    crash_id = crash_id_of(response)
    raw = harness.storage.get_raw_crash(crash_id)
    assert raw["ProductName"] == "Test"
    assert raw["uuid"] == crash_id
    assert raw["version"] == 2
    assert "Email" not in raw
    assert "Removed Email from raw crash." in raw["metadata"]["collector_notes"]
    meta = raw["metadata"]
    assert meta["payload"] == "multipart"
    assert meta["payload_compressed"] == "0"
    assert meta["user_agent"] == "Crashpad/0.8.0"
    assert meta["dump_checksums"]["upload_file_minidump"] == hashlib.sha256(DUMP).hexdigest()
    assert meta["throttle_rule"]
    assert sorted(harness.storage.get_dump_names(crash_id)) == [
        "upload_file_minidump",
        "upload_file_minidump_browser",
    ]
    assert harness.storage.get_dump(crash_id, "upload_file_minidump") == DUMP
    assert date_of(crash_id) == dt.datetime.fromisoformat(raw["submitted_timestamp"]).date()
    assert harness.queued(1) == [crash_id]
    _wait_no_pending(harness)


def _wait_no_pending(harness: Harness, timeout: float = 10.0) -> None:
    """The publisher removes a batch's marker just after the batch is queued."""
    deadline = time.monotonic() + timeout
    while list(harness.storage.list_pending()) or any(
        (harness.settings.data_dir / "storage/v1/pending_publish").iterdir()
    ):
        assert time.monotonic() < deadline, "pending markers were never cleared"
        time.sleep(0.01)


async def test_concurrent_crashes_share_batch_markers_that_go_once_queued(harness: Harness) -> None:
    """The committer writes one pending marker per commit batch (none per crash) and removes it once queued."""
    markers: set[str] = set()
    pending_dir = harness.settings.data_dir / "storage/v1/pending_publish"
    stop = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            if pending_dir.is_dir():
                markers.update(p.name for p in pending_dir.iterdir())
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    responses = await asyncio.gather(*(harness.submit() for _ in range(40)))
    stop.set()
    await watcher
    ids = [crash_id_of(r) for r in responses]
    assert sorted(harness.queued(len(ids))) == sorted(ids)
    assert markers, "a marker must exist while crashes are being saved"
    assert all(name.startswith("batch.") for name in markers), markers
    assert len(markers) < len(ids), "crashes saved together share a marker"
    _wait_no_pending(harness)


async def test_id_date_agrees_with_timestamp_at_end_of_day(tmp_path: Path) -> None:
    frozen = dt.datetime(2026, 11, 26, 23, 59, 59, 999000, tzinfo=dt.UTC)
    h = Harness(load_settings({"CRASHCART_DATA_DIR": str(tmp_path)}), clock=lambda: frozen)
    try:
        crash_id = crash_id_of(await h.submit())
        raw = h.storage.get_raw_crash(crash_id)
        assert raw["submitted_timestamp"] == "2026-11-26T23:59:59.999000+00:00"
        assert crash_id.endswith("261126")
        assert list(h.storage.list_raw_crash_ids(dt.date(2026, 11, 26))) == [crash_id]
    finally:
        await h.client.aclose()
        h.app.close()


async def test_malformed_gets_400_with_reason(harness: Harness) -> None:
    response = await harness.client.post("/submit", content=b"hello")
    assert response.status_code == 400
    assert response.text == "Discarded=malformed_no_content_type"
    assert harness.queued() == []


async def test_declared_oversize_gets_413_before_reading(harness: Harness) -> None:
    response = await harness.client.post(
        "/submit",
        content=b"x",
        headers={"content-length": str(200 * 1024 * 1024), "content-type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413


async def test_a_content_length_of_non_ascii_digits_is_not_a_500(harness: Harness) -> None:
    """A declared length that is not ASCII digits is ignored (``"²".isdigit()`` is true, ``int("²")`` raises)."""
    response = await harness.client.post(
        "/submit",
        content=b"x",
        headers={"content-length": "\u00b2".encode(), "content-type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 400


async def test_get_on_submit_is_405(harness: Harness) -> None:
    assert (await harness.client.get("/submit")).status_code == 405


async def test_throttle_reject_and_fakeaccept_store_nothing(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - name: no_b2g\n    when: {ProductName: {equals: B2G}}\n    result: fakeaccept\n"
        "  - name: only_test\n    when: {ProductName: {not_equals: Test}}\n    result: reject\n"
    )
    h = Harness(load_settings({"CRASHCART_DATA_DIR": str(tmp_path / "d"), "CRASHCART_THROTTLE_RULES": str(rules)}))
    try:
        rejected = await h.submit({"ProductName": "Other"})
        assert rejected.status_code == 200
        assert rejected.text == "Discarded=rule_only_test"
        fake = crash_id_of(await h.submit({"ProductName": "B2G"}))
        assert fake[-7] == "3"
        assert not h.storage.has_raw_crash(fake)
        kept = crash_id_of(await h.submit({"ProductName": "Test"}))
        assert h.queued(1) == [kept]
    finally:
        await h.client.aclose()
        h.app.close()


DEFER_RULES = "rules:\n  - name: later\n    when: {ProductName: {equals: Later}}\n    result: defer\n"


def deferring_settings(tmp_path: Path, **extra: str) -> Settings:
    rules = tmp_path / "rules.yaml"
    rules.write_text(DEFER_RULES)
    return load_settings({"CRASHCART_DATA_DIR": str(tmp_path / "d"), "CRASHCART_THROTTLE_RULES": str(rules), **extra})


async def test_deferred_crash_is_stored_and_queued_by_default(tmp_path: Path) -> None:
    h = Harness(deferring_settings(tmp_path))
    try:
        deferred = crash_id_of(await h.submit({"ProductName": "Later"}))
        assert deferred[-7] == "1"
        assert h.storage.get_raw_crash(deferred)["metadata"]["throttle_result"] == "defer"
        assert h.queued(1) == [deferred]
    finally:
        await h.client.aclose()
        h.app.close()


async def test_store_only_deferred_crash_gets_no_marker_so_neither_collector_nor_sweep_queues_it(
    tmp_path: Path,
) -> None:
    # The queue is down, so the accepted crash's marker stays: the marker the sweep reads must not list the
    # deferred crash, whether or not both landed in one commit batch.
    settings = deferring_settings(
        tmp_path,
        CRASHCART_THROTTLE_DEFER="store_only",
        CRASHCART_QUEUE_URL="amqp://guest:guest@127.0.0.1:1/",
        CRASHCART_QUEUE_PUBLISH_TIMEOUT="3",
    )
    storage, down = open_storage(settings, None), open_queue(settings)
    metrics = Metrics()
    app = build_collector(settings, Backends(storage, down), metrics)
    h = Harness.__new__(Harness)
    h.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    h.storage = storage
    try:
        answers = await asyncio.gather(*(h.submit({"ProductName": name}) for name in ("Later", "Test", "Later")))
        first_deferred, accepted, second_deferred = (crash_id_of(answer) for answer in answers)
        deadline = time.monotonic() + 10  # the publish is tried just after the answer
        while metrics.counter_value("crashcart_collector_publish_failures_total") == 0:
            assert time.monotonic() < deadline, "the failed publish was never counted"
            time.sleep(0.01)
    finally:
        await h.client.aclose()
        app.close()
    assert metrics.counter_value("crashcart_collector_publish_failures_total") == 1, "only the accepted crash"
    for deferred in (first_deferred, second_deferred):
        assert deferred[-7] == "1"
        assert storage.get_raw_crash(deferred)["metadata"]["throttle_result"] == "defer"
        assert storage.get_dump(deferred, "upload_file_minidump") == DUMP
    assert [p.crash_id for p in storage.list_pending()] == [accepted]

    up = load_settings({"CRASHCART_DATA_DIR": str(tmp_path / "d")})
    queue = open_queue(up)
    queue.declare()
    assert sweep_pending(storage, queue, min_age=0).published == 1
    message = queue.consume()
    assert message is not None and message.body == accepted
    assert queue.consume() is None
    assert list(storage.list_pending()) == []
    assert not any((tmp_path / "d/storage/v1/pending_publish").iterdir()), "no marker left behind"
    queue.close()


async def test_store_only_deferred_crash_on_s3_is_stored_unmarked_and_unqueued(
    tmp_path: Path, s3_server: Any, s3_bucket: str
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(DEFER_RULES)
    settings = s3_server.settings(
        f"s3://{s3_bucket}/crashes", tmp_path, throttle_rules=rules, throttle_defer="store_only"
    )
    h = Harness(settings)
    try:
        deferred = crash_id_of(await h.submit({"ProductName": "Later"}))
        accepted = crash_id_of(await h.submit({"ProductName": "Test"}))
        assert h.storage.get_raw_crash(deferred)["metadata"]["throttle_result"] == "defer"
        assert h.queued(1) == [accepted]  # published before its answer: a queued deferred crash would be here
        assert list(h.storage.list_pending()) == []
        assert sweep_pending(h.storage, h.queue, min_age=0).published == 0
    finally:
        await h.client.aclose()
        h.app.close()


async def test_storage_down_gives_503_with_retry_after(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the storage root should be")
    settings = load_settings(
        {"CRASHCART_DATA_DIR": str(tmp_path / "d"), "CRASHCART_STORAGE_URL": (blocker / "storage").as_uri()}
    )
    h = Harness(settings)
    try:
        response = await h.submit()
        assert response.status_code == 503
        assert response.headers["retry-after"]
        assert response.text == "Discarded=storage_unavailable"
        assert h.queued() == []
    finally:
        await h.client.aclose()
        h.app.close()


async def test_queue_down_still_accepts_and_sweep_publishes(tmp_path: Path) -> None:
    data = tmp_path / "d"
    down = load_settings(
        {
            "CRASHCART_DATA_DIR": str(data),
            "CRASHCART_QUEUE_URL": "amqp://guest:guest@127.0.0.1:1/",
            "CRASHCART_QUEUE_PUBLISH_TIMEOUT": "3",
        }
    )
    h = Harness.__new__(Harness)
    h.settings = down
    h.storage = open_storage(down, None)
    h.queue = open_queue(down)
    h.metrics = Metrics()
    h.app = build_collector(down, Backends(h.storage, h.queue), h.metrics)
    h.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=h.app), base_url="http://test")
    try:
        crash_id = crash_id_of(await h.submit())
        assert h.storage.has_raw_crash(crash_id)
        assert [p.crash_id for p in h.storage.list_pending()] == [crash_id]
        deadline = time.monotonic() + 10  # the publish is tried just after the answer
        while h.metrics.counter_value("crashcart_collector_publish_failures_total") == 0:
            assert time.monotonic() < deadline, "the failed publish was never counted"
            time.sleep(0.01)
        assert h.metrics.counter_value("crashcart_collector_publish_failures_total") == 1
        assert [p.crash_id for p in h.storage.list_pending()] == [crash_id], "the marker stays for the sweep"
    finally:
        await h.client.aclose()
        h.app.close()
    # the queue is back: the sweep publishes the stored crash exactly from its marker
    up = load_settings({"CRASHCART_DATA_DIR": str(data)})
    storage, queue = open_storage(up, None), open_queue(up)
    queue.declare()
    result = sweep_pending(storage, queue, min_age=0)
    assert result.published == 1
    msg = queue.consume()
    assert msg is not None and msg.body == crash_id
    assert list(storage.list_pending()) == []


async def test_client_uuid_needs_token_and_matching_date(tmp_path: Path) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path), "CRASHCART_SUBMITTER_TOKEN": "s3cret"})
    h = Harness(settings)
    when = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    old_id = create_crash_id(when)
    fields = {"ProductName": "Test", "uuid": old_id, "submitted_timestamp": when.isoformat()}
    try:
        assert (await h.submit(fields)).status_code == 401
        wrong_date = {**fields, "submitted_timestamp": "2026-11-21T10:00:00+00:00"}
        bad = await h.submit(wrong_date, headers={"authorization": "Bearer s3cret"})
        assert bad.status_code == 400
        assert bad.text == "Discarded=malformed_uuid_date_mismatch"
        ok = await h.submit(fields, headers={"authorization": "Bearer s3cret"})
        assert crash_id_of(ok) == old_id
        assert h.storage.get_raw_crash(old_id)["submitted_timestamp"] == when.isoformat()
    finally:
        await h.client.aclose()
        h.app.close()


async def test_health_endpoints(harness: Harness, tmp_path: Path) -> None:
    assert (await harness.client.get("/__lbheartbeat__")).status_code == 200
    beat = await harness.client.get("/__heartbeat__")
    assert beat.status_code == 200 and beat.json() == {"errors": []}
    version = (await harness.client.get("/__version__")).json()
    assert version["version"]
    assert (await harness.client.get("/nope")).status_code == 404


async def test_the_broken_endpoint_is_a_404_by_default(harness: Harness) -> None:
    """``/__broken__`` is public and logs a traceback per call: nobody gets it without asking for it."""
    response = await harness.client.get("/__broken__")
    assert response.status_code == 404


async def test_the_broken_endpoint_raises_when_switched_on(tmp_path: Path) -> None:
    h = Harness(load_settings({"CRASHCART_DATA_DIR": str(tmp_path), "CRASHCART_BROKEN_ENDPOINT": "true"}))
    try:
        with pytest.raises(RuntimeError, match="__broken__"):
            await h.client.get("/__broken__")
    finally:
        await h.client.aclose()
        h.app.close()


async def test_heartbeat_lists_failing_backends(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings = load_settings(
        {
            "CRASHCART_DATA_DIR": str(tmp_path / "d"),
            "CRASHCART_STORAGE_URL": (blocker / "s").as_uri(),
            "CRASHCART_QUEUE_URL": "amqp://guest:guest@127.0.0.1:1/",
        }
    )
    storage, queue = open_storage(settings, None), open_queue(settings)
    app = build_collector(settings, Backends(storage, queue), Metrics())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        beat = await client.get("/__heartbeat__")
    app.close()
    assert beat.status_code == 503
    assert sorted(e["name"] for e in beat.json()["errors"]) == ["queue", "storage"]


async def test_metrics_endpoint_counts_outcomes(harness: Harness) -> None:
    await harness.submit()
    await harness.client.post("/submit", content=b"x")
    deadline = time.monotonic() + 10  # the committer publishes just after it answers
    while harness.queue.depth()["standard"].ready == 0:
        assert time.monotonic() < deadline, "the accepted crash was never queued"
        time.sleep(0.01)
    text = (await harness.client.get("/metrics")).text
    assert "crashcart_collector_received_total 2" in text
    assert 'crashcart_collector_accepted_total{result="accept"} 1' in text
    assert 'crashcart_collector_rejected_total{reason="malformed_no_content_type"} 1' in text
    assert "crashcart_collector_save_seconds_count 1" in text
    # the crash is waiting on the standard queue: the autoscaler signal
    assert 'crashcart_queue_depth{queue="standard",state="ready"} 1' in text
    assert 'crashcart_queue_depth{queue="priority",state="ready"} 0' in text


@pytest.mark.s3
async def test_accepted_crash_on_s3_backend(tmp_path: Path, s3_server: Any, s3_bucket: str) -> None:
    settings = s3_server.settings(f"s3://{s3_bucket}/crashes", tmp_path)
    h = Harness(settings)
    try:
        crash_id = crash_id_of(await h.submit())
        assert h.storage.get_raw_crash(crash_id)["ProductName"] == "Test"
        assert h.storage.get_dump(crash_id, "upload_file_minidump") == DUMP
        keys = {o["Key"] for o in s3_server.client().list_objects_v2(Bucket=s3_bucket)["Contents"]}
        assert f"crashes/v1/dump/{crash_id}" in keys
        assert f"crashes/v1/raw_crash/20{crash_id[-6:]}/{crash_id}" in keys
        assert h.queued(1) == [crash_id]
    finally:
        await h.client.aclose()
        h.app.close()


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    content_type=st.one_of(
        st.none(),
        st.sampled_from(
            [
                "multipart/form-data; boundary=xYzZY",
                "multipart/mixed; boundary=xYzZY",
                "multipart/form-data",
                "application/octet-stream",
                "text/plain",
                "multipart/form-data; boundary=",
            ]
        ),
        st.text(max_size=40),
    ),
    encoding=st.one_of(st.none(), st.sampled_from(["gzip", "deflate", "br", "GZIP"])),
    body=st.one_of(
        st.binary(max_size=2000),
        st.builds(
            lambda head, cut: multipart({"ProductName": head}, {"upload_file_minidump": DUMP[:100]})[1][:cut],
            st.text(max_size=20),
            st.integers(0, 4000),
        ),
    ),
)
async def test_no_request_gets_a_500(
    harness: Harness, content_type: str | None, encoding: str | None, body: bytes
) -> None:
    headers: dict[str, bytes] = {}
    if content_type is not None:
        headers["content-type"] = content_type.encode("utf-8", "replace")
    if encoding is not None:
        headers["content-encoding"] = encoding.encode()
    response = await harness.client.post("/submit", content=body, headers=headers)
    assert response.status_code in (200, 400, 413), (response.status_code, response.text)
    assert response.text.startswith(("CrashID=bp-", "Discarded="))


def test_sweep_publishes_a_batch_markers_complete_crashes_and_then_removes_it(tmp_path: Path) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path)})
    storage, queue = open_storage(settings, None), open_queue(settings)
    queue.declare()
    assert isinstance(storage, FSCrashStorage)
    ids = [create_crash_id(dt.datetime.now(dt.UTC)) for _ in range(3)]
    jobs = [storage.stage_raw_crash(cid, {"ProductName": "Test"}, []) for cid in ids]
    marker = storage.mark_pending_batch(ids, "standard")
    storage.sync_staged()
    for job in jobs[:2]:  # the third crash's collector died before revealing it
        storage.advance_staged(job)
    storage.sync_staged()

    down = open_queue(
        load_settings({"CRASHCART_DATA_DIR": str(tmp_path), "CRASHCART_QUEUE_URL": "amqp://g:g@127.0.0.1:1/"})
    )
    assert sweep_pending(storage, down, min_age=0).failed == 2
    assert (tmp_path / "storage/v1/pending_publish" / marker).exists(), "kept while its crashes are not queued"

    result = sweep_pending(storage, queue, min_age=0)
    assert result.published == 2
    assert sorted(m.body for m in iter(queue.consume, None)) == sorted(ids[:2])
    assert not (tmp_path / "storage/v1/pending_publish" / marker).exists()


def _layout_directories() -> list[str]:
    """Every directory under ``v1/`` the key layout uses, read from ``keys`` itself (issue #9, point 4)."""
    from crashcart.storage import keys

    crash_id = create_crash_id(dt.datetime.now(dt.UTC))
    kinds = [
        value
        for name, value in vars(keys).items()
        if name.endswith("_key") and name != "dump_key" and getattr(value, "__module__", "") == keys.__name__
    ]
    made = [kind(crash_id) for kind in kinds]
    made.append(keys.dump_key(crash_id, keys.MAIN_DUMP))
    return sorted({key.split("/")[1] for key in made})


@pytest.mark.parametrize("storage_kind", ["fs", pytest.param("s3", marks=pytest.mark.s3)])
async def test_a_file_part_named_like_a_layout_directory_never_replaces_another_key(
    tmp_path: Path, request: pytest.FixtureRequest, storage_kind: str
) -> None:
    """A part named ``dump`` once landed on ``v1/dump/<id>``, replacing the minidump (its checksum then lied)."""
    if storage_kind == "fs":
        settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path)})
    else:
        server, bucket = request.getfixturevalue("s3_server"), request.getfixturevalue("s3_bucket")
        settings = server.settings(f"s3://{bucket}/crashes", tmp_path)
    h = Harness(settings)
    directories = _layout_directories()
    assert {"dump", "raw_crash", "dump_names", "processed_crash", "pending_publish"} <= set(directories)
    try:
        for directory in directories:
            for name in (directory, directory.upper()):
                response = await h.submit(files={"upload_file_minidump": DUMP, name: b"not the minidump"})
                if response.status_code == 200:  # stored: then the minidump must be intact
                    crash_id = crash_id_of(response)
                    checksums = h.storage.get_raw_crash(crash_id)["metadata"]["dump_checksums"]
                    assert h.storage.get_dump(crash_id, "upload_file_minidump") == DUMP, name
                    assert checksums["upload_file_minidump"] == hashlib.sha256(DUMP).hexdigest()
                assert (response.status_code, response.text) == (400, "Discarded=malformed_invalid_dump_name"), name
        assert h.queued() == []
    finally:
        await h.client.aclose()
        h.app.close()


@pytest.mark.parametrize("tail", ["\n", "\r", "\r\n", "\x00", " ", "\t"])
async def test_a_resubmitted_uuid_with_trailing_junk_is_refused_and_stores_nothing(tmp_path: Path, tail: str) -> None:
    """A ``uuid`` ending in a newline passed validation and made files whose names ended in one (issue #9, 7)."""
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path), "CRASHCART_SUBMITTER_TOKEN": "s3cret"})
    h = Harness(settings)
    # With one more character, the old check read the throttle digit and the date one place to the left:
    # 2011-11-11's id plus "\n" read as accept-or-defer, dated 2011-11-01, so this timestamp let it through.
    crash_id = create_crash_id(dt.datetime(2011, 11, 11, 10, 0, tzinfo=dt.UTC))
    fields = {"ProductName": "Test", "uuid": crash_id + tail, "submitted_timestamp": "2011-11-01T10:00:00+00:00"}
    try:
        response = await h.submit(fields, headers={"authorization": "Bearer s3cret"})
        assert (response.status_code, response.text) == (400, "Discarded=malformed_invalid_uuid")
        stored = (
            [p for p in (tmp_path / "storage").rglob("*") if p.is_file()] if (tmp_path / "storage").exists() else []
        )
        assert stored == []
        assert h.queued() == []
    finally:
        await h.client.aclose()
        h.app.close()
