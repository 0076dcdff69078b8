"""What only the S3 backend has: bucket-name rules, key prefixes, bucket creation and the translation of
botocore errors (the client itself: ``tests/test_s3client.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from crashcart.errors import ConfigError, CrashNotFound, StorageUnavailable
from crashcart.s3client import S3ClientConfig, make_s3_client
from crashcart.settings import Settings, SettingsError, load_settings
from crashcart.storage import DumpFile, keys, open_storage
from crashcart.storage.s3 import S3CrashStorage, parse_s3_url
from tests.helpers.s3server import S3Server
from tests.storage.conftest import DAY, closed_port, new_crash_id
from tests.storage.test_conformance import MINIDUMP, memory_dump, raw_crash

pytestmark = pytest.mark.s3


def object_keys(server: S3Server, bucket: str) -> list[str]:
    client = server.client()
    try:
        response = client.list_objects_v2(Bucket=bucket)
        return sorted(obj["Key"] for obj in response.get("Contents", []))
    finally:
        client.close()


@pytest.fixture
def opened(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> Iterator[S3CrashStorage]:
    storage = open_storage(s3_server.settings(f"s3://{s3_bucket}/some/prefix", tmp_path), None)
    assert isinstance(storage, S3CrashStorage)
    yield storage
    storage.close()


# --- bucket names and URLs ---------------------------------------------------------------------------


def test_bucket_with_a_period_is_refused_everywhere(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="period"):
        load_settings(environ={}, data_dir=tmp_path, storage_url="s3://crash.reports/prefix")
    unchecked = Settings.model_construct(storage_url="s3://crash.reports/prefix", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="period"):
        open_storage(unchecked, None)
    with pytest.raises(ConfigError, match="period"):
        parse_s3_url("s3://crash.reports")
    client = make_s3_client(S3ClientConfig.for_storage(load_settings(environ={}, data_dir=tmp_path)))
    try:
        with pytest.raises(ConfigError, match="period"):
            S3CrashStorage("crash.reports", "", client)
    finally:
        client.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://crashes", ("crashes", "")),
        ("s3://crashes/", ("crashes", "")),
        ("s3://crashes/prod", ("crashes", "prod")),
        ("s3://crashes/a/b/", ("crashes", "a/b")),
    ],
)
def test_parse_s3_url(url: str, expected: tuple[str, str]) -> None:
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize("url", ["s3://", "file:///x", "crashes"])
def test_parse_s3_url_refuses_non_s3_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        parse_s3_url(url)


# --- prefixes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "object_prefix"), [("", ""), ("/a/b/", "a/b/"), ("prod", "prod/")])
def test_keys_are_the_prefix_plus_the_layout_key(
    s3_server: S3Server, s3_bucket: str, prefix: str, object_prefix: str
) -> None:
    storage = S3CrashStorage(s3_bucket, prefix, s3_server.client())
    crash_id = new_crash_id()
    try:
        storage.save_raw_crash(crash_id, raw_crash(crash_id), [memory_dump("upload_file_minidump", MINIDUMP)])
        storage.save_processed_crash(crash_id, {"signature": "x"})
    finally:
        storage.close()
    layout = [
        keys.dump_key(crash_id, "upload_file_minidump"),
        keys.dump_names_key(crash_id),
        keys.processed_crash_key(crash_id),
        keys.raw_crash_key(crash_id),
    ]
    assert object_keys(s3_server, s3_bucket) == sorted(object_prefix + key for key in layout)


def test_prefixes_share_a_bucket_without_seeing_each_other(s3_server: S3Server, s3_bucket: str) -> None:
    prod = S3CrashStorage(s3_bucket, "prod", s3_server.client())
    stage = S3CrashStorage(s3_bucket, "prod-stage", s3_server.client())
    prod_id, stage_id = new_crash_id(), new_crash_id()
    try:
        prod.save_raw_crash(prod_id, raw_crash(prod_id), [], pending_queue="standard")
        stage.save_raw_crash(stage_id, raw_crash(stage_id), [], pending_queue="standard")
        assert list(prod.list_raw_crash_ids(DAY)) == [prod_id]
        assert list(stage.list_raw_crash_ids(DAY)) == [stage_id]
        assert [p.crash_id for p in prod.list_pending()] == [prod_id]
        assert not prod.has_raw_crash(stage_id)
    finally:
        prod.close()
        stage.close()


def test_listing_pages_through_many_objects(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    storage = S3CrashStorage(s3_bucket, "", client, list_page_size=2)
    ids = sorted(new_crash_id() for _ in range(7))
    requests: list[str] = []
    client.meta.events.register(
        "before-parameter-build.s3.ListObjectsV2", lambda params, **_: requests.append(params["Prefix"])
    )
    try:
        for crash_id in ids:
            storage.save_raw_crash(crash_id, raw_crash(crash_id), [], pending_queue="standard")
        assert list(storage.list_raw_crash_ids(DAY)) == ids
        assert sorted(p.crash_id for p in storage.list_pending()) == ids
        assert len(requests) == 8
    finally:
        storage.close()


# --- open_storage, settings and the bucket -----------------------------------------------------------


def test_open_storage_from_settings_round_trip(opened: S3CrashStorage, s3_bucket: str, tmp_path: Path) -> None:
    assert (opened.bucket, opened.prefix) == (s3_bucket, "some/prefix")
    opened.check()
    crash_id = new_crash_id()
    opened.save_raw_crash(crash_id, raw_crash(crash_id), [memory_dump("upload_file_minidump", MINIDUMP)])
    assert opened.get_raw_crash(crash_id) == raw_crash(crash_id)
    workdir = tmp_path / "work"
    path = opened.get_dump_path(crash_id, "upload_file_minidump", workdir)
    assert path == workdir / f"{crash_id}.upload_file_minidump"
    assert path.read_bytes() == MINIDUMP
    assert list(workdir.iterdir()) == [path]


def test_check_puts_and_deletes_a_probe_under_the_prefix(opened: S3CrashStorage, s3_bucket: str) -> None:
    written: list[str] = []
    deleted: list[str] = []
    events = opened._client.meta.events

    def on_put(params: dict[str, Any], **kwargs: Any) -> None:
        written.append(params["Key"])

    def on_delete(params: dict[str, Any], **kwargs: Any) -> None:
        deleted.append(params["Key"])

    events.register("before-parameter-build.s3.PutObject", on_put)
    events.register("before-parameter-build.s3.DeleteObject", on_delete)
    opened.check()
    [probe] = written
    assert probe.startswith("some/prefix/.health/")
    assert deleted == [probe]


def test_create_bucket_option_creates_a_missing_bucket(s3_server: S3Server, tmp_path: Path) -> None:
    bucket = s3_server.new_bucket_name()
    settings = s3_server.settings(f"s3://{bucket}", tmp_path, s3_create_bucket=True)
    first = open_storage(settings, None)
    second = open_storage(settings, None)  # idempotent: the bucket exists now
    try:
        first.check()
        second.check()
        crash_id = new_crash_id()
        first.save_raw_crash(crash_id, raw_crash(crash_id), [])
        assert second.get_raw_crash(crash_id) == raw_crash(crash_id)
    finally:
        first.close()
        second.close()
        s3_server.delete_bucket(bucket)


def test_missing_bucket_is_unavailable_not_missing_crash(s3_server: S3Server, tmp_path: Path) -> None:
    bucket = s3_server.new_bucket_name()
    storage = open_storage(s3_server.settings(f"s3://{bucket}", tmp_path), None)
    crash_id = new_crash_id()
    try:
        with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
            storage.check()
        with pytest.raises(StorageUnavailable):
            storage.get_raw_crash(crash_id)
        with pytest.raises(StorageUnavailable):
            storage.save_raw_crash(crash_id, raw_crash(crash_id), [])
    finally:
        storage.close()


def test_create_bucket_waits_for_an_unreachable_server(s3_server: S3Server, tmp_path: Path) -> None:
    """A node starting while S3 is down still starts; ``check`` reports the outage (and retries creation)."""
    settings = load_settings(
        environ={},
        data_dir=tmp_path,
        storage_url="s3://later",
        s3_endpoint_url=f"http://127.0.0.1:{closed_port()}",
        s3_access_key_id="testing",
        s3_secret_access_key="testing",  # fake
        s3_create_bucket=True,
        s3_max_attempts=1,
        s3_connect_timeout=1,
    )
    storage = open_storage(settings, None)
    try:
        with pytest.raises(StorageUnavailable):
            storage.check()
    finally:
        storage.close()


# --- error translation (a stubbed client shows the codes moto never sends) ----------------------------


@pytest.fixture
def stubbed(tmp_path: Path) -> Iterator[tuple[S3CrashStorage, Stubber]]:
    settings = load_settings(
        environ={},
        data_dir=tmp_path,
        storage_url="s3://crashes",
        s3_endpoint_url=f"http://127.0.0.1:{closed_port()}",
        s3_access_key_id="testing",
        s3_secret_access_key="testing",  # fake
    )
    client = make_s3_client(S3ClientConfig.for_storage(settings))
    with Stubber(client) as stubber:
        yield S3CrashStorage("crashes", "", client), stubber
    client.close()


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("NoSuchKey", 404, CrashNotFound),
        ("AccessDenied", 403, StorageUnavailable),
        ("SlowDown", 503, StorageUnavailable),
        ("InternalError", 500, StorageUnavailable),
        ("NoSuchBucket", 404, StorageUnavailable),
    ],
)
def test_client_errors_are_translated(
    stubbed: tuple[S3CrashStorage, Stubber], code: str, status: int, error: type[Exception]
) -> None:
    storage, stubber = stubbed
    stubber.add_client_error("get_object", service_error_code=code, http_status_code=status)
    with pytest.raises(error) as raised:
        storage.get_raw_crash(new_crash_id())
    assert raised.value.__cause__ is not None


def test_head_errors_are_translated(stubbed: tuple[S3CrashStorage, Stubber]) -> None:
    storage, stubber = stubbed
    stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
    stubber.add_client_error("head_object", service_error_code="403", http_status_code=403)
    assert not storage.has_raw_crash(new_crash_id())
    with pytest.raises(StorageUnavailable):
        storage.has_raw_crash(new_crash_id())


def test_spooled_upload_errors_are_translated(s3_server: S3Server, tmp_path: Path) -> None:
    storage = open_storage(s3_server.settings(f"s3://{s3_server.new_bucket_name()}", tmp_path), None)
    spool = tmp_path / "spool"
    spool.write_bytes(MINIDUMP)
    crash_id = new_crash_id()
    dump = DumpFile(name="upload_file_minidump", size=len(MINIDUMP), sha256="", path=spool)
    try:
        with pytest.raises(StorageUnavailable):
            storage.save_raw_crash(crash_id, raw_crash(crash_id), [dump])
        missing = DumpFile(name="upload_file_minidump", size=1, sha256="", path=tmp_path / "gone")
        with pytest.raises(StorageUnavailable):
            storage.save_raw_crash(crash_id, raw_crash(crash_id), [missing])
    finally:
        storage.close()
