"""Each component gets only the storage access it needs: the in-process guard and the S3 policy."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from crashcart.crashid import create_crash_id
from crashcart.errors import CrashNotFound, StorageForbidden, StorageUnavailable
from crashcart.storage.access import GRANTS, Operation, Role, permits, require, s3_policy
from crashcart.storage.fs import FSCrashStorage
from crashcart.storage.interfaces import CrashStorage, DumpFile
from crashcart.storage.s3 import S3CrashStorage
from tests.helpers.s3server import S3Server, start_s3_server

DUMP = b"MDMP" + bytes(range(256)) * 8
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def _dump() -> DumpFile:
    return DumpFile("upload_file_minidump", len(DUMP), hashlib.sha256(DUMP).hexdigest(), data=DUMP)


def test_each_role_holds_exactly_its_operations() -> None:
    assert GRANTS[Role.COLLECTOR].operations == {
        Operation.WRITE_RAW,
        Operation.MANAGE_PENDING,
        Operation.LIST_RAW,
        Operation.PROBE_WRITE,
    }
    assert Operation.READ_CRASH not in GRANTS[Role.COLLECTOR].operations
    assert Operation.WRITE_RAW not in GRANTS[Role.PROCESSOR].operations
    assert {Operation.READ_CRASH, Operation.WRITE_PROCESSED} <= GRANTS[Role.PROCESSOR].operations
    assert GRANTS[Role.WEBAPP].operations == {Operation.READ_CRASH, Operation.LIST_RAW}
    assert all(permits(None, op) for op in Operation)


def test_require_names_role_and_operation() -> None:
    require(Role.PROCESSOR, Operation.WRITE_PROCESSED)
    with pytest.raises(StorageForbidden, match="webapp role may not write processed") as info:
        require(Role.WEBAPP, Operation.WRITE_PROCESSED)
    assert info.value.code == "storage_forbidden"
    assert isinstance(info.value, StorageUnavailable)  # callers that fail safe on outages fail safe here too


# --- the in-process guard, on the filesystem backend ------------------------------------------------


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, str]:
    """A file store holding one crash with a pending marker and a processed crash."""
    crash_id = create_crash_id(NOW)
    admin = FSCrashStorage(tmp_path / "store")
    admin.save_raw_crash(crash_id, {"ProductName": "Test"}, [_dump()], pending_queue="standard")
    admin.save_processed_crash(crash_id, {"signature": "x"})
    return tmp_path / "store", crash_id


def test_fs_collector_writes_but_never_reads_crashes(stored: tuple[Path, str]) -> None:
    root, crash_id = stored
    collector = FSCrashStorage(root, role=Role.COLLECTOR)
    collector.check()
    other = create_crash_id(NOW)
    collector.save_raw_crash(other, {"ProductName": "Test"}, [_dump()], pending_queue="standard")
    assert {p.crash_id for p in collector.list_pending()} == {crash_id, other}
    collector.clear_pending(other)
    assert set(collector.list_raw_crash_ids(NOW.date())) == {crash_id, other}
    for read in (
        lambda: collector.get_raw_crash(crash_id),
        lambda: collector.get_dump(crash_id, "upload_file_minidump"),
        lambda: collector.get_dump_names(crash_id),
        lambda: collector.get_processed_crash(crash_id),
        lambda: collector.has_raw_crash(crash_id),
    ):
        with pytest.raises(StorageForbidden, match="collector role may not read crash"):
            read()
    with pytest.raises(StorageForbidden):
        collector.save_processed_crash(crash_id, {"signature": "forged"})
    assert FSCrashStorage(root).get_processed_crash(crash_id) == {"signature": "x"}


def test_fs_processor_reads_raw_and_writes_processed_only(stored: tuple[Path, str]) -> None:
    root, crash_id = stored
    processor = FSCrashStorage(root, role=Role.PROCESSOR)
    processor.check()
    assert processor.get_raw_crash(crash_id)["ProductName"] == "Test"
    assert processor.get_dump(crash_id, "upload_file_minidump") == DUMP
    processor.save_processed_crash(crash_id, {"signature": "y"})
    assert processor.get_processed_crash(crash_id) == {"signature": "y"}
    with pytest.raises(StorageForbidden):
        processor.save_raw_crash(create_crash_id(NOW), {}, [_dump()])
    with pytest.raises(StorageForbidden):
        processor.clear_pending(crash_id)
    assert [p.crash_id for p in FSCrashStorage(root).list_pending()] == [crash_id]  # marker untouched


def test_fs_webapp_only_reads_and_its_check_writes_nothing(stored: tuple[Path, str]) -> None:
    root, crash_id = stored
    webapp = FSCrashStorage(root, role=Role.WEBAPP)
    webapp.check()
    assert not (root / ".health").exists()  # a read-only role's health check leaves no trace
    assert webapp.get_processed_crash(crash_id) == {"signature": "x"}
    assert webapp.get_dump_names(crash_id) == ["upload_file_minidump"]
    with pytest.raises(StorageForbidden):
        webapp.save_processed_crash(crash_id, {"signature": "z"})
    with pytest.raises(StorageForbidden):
        list(webapp.list_pending())
    with pytest.raises(StorageForbidden):
        webapp.sync_staged()


def test_fs_webapp_check_fails_when_root_is_missing(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailable, match="not readable"):
        FSCrashStorage(tmp_path / "nowhere", role=Role.WEBAPP).check()


# --- the S3 policies, enforced by a real IAM-checking server -------------------------------------


def test_collector_policy_denies_processed_crashes_and_reads() -> None:
    policy = s3_policy(Role.COLLECTOR, "crashes", "prod/")
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    assert by_sid["WriteRawCrashes"]["Resource"] == ["arn:aws:s3:::crashes/prod/v1/*"]
    assert by_sid["NeverWriteProcessedCrashes"]["Effect"] == "Deny"
    assert by_sid["NeverWriteProcessedCrashes"]["Resource"] == ["arn:aws:s3:::crashes/prod/v1/processed_crash/*"]
    gets = [s["Resource"] for s in policy["Statement"] if "s3:GetObject" in s["Action"]]
    assert gets == [["arn:aws:s3:::crashes/prod/v1/pending_publish/*"]]  # markers only, never a dump
    assert by_sid["ListCrashes"]["Condition"]["StringLike"]["s3:prefix"] == [
        "prod/v1/pending_publish/*",
        "prod/v1/raw_crash/*",
    ]
    webapp = s3_policy(Role.WEBAPP, "crashes")
    assert all(statement["Action"] != ["s3:PutObject"] for statement in webapp["Statement"])
    assert json.loads(json.dumps(webapp)) == webapp  # plain JSON, printable by the CLI


USERS = (Role.COLLECTOR, Role.PROCESSOR, Role.WEBAPP)


@pytest.fixture(scope="module")
def iam_server() -> Iterator[tuple[S3Server, str, dict[Role, tuple[str, str]]]]:
    """A moto server that enforces IAM after setup: one bucket and one user per role with its policy."""
    # Unauthenticated setup requests: the bucket, then user + policy + access key per role.
    server = start_s3_server(enforce_iam_after=1 + 3 * len(USERS))
    try:
        bucket = server.new_bucket_name()
        server.admin.create_bucket(Bucket=bucket)
        import boto3

        iam = boto3.session.Session().client(
            "iam",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="setup",
            aws_secret_access_key="setup",
        )
        keys: dict[Role, tuple[str, str]] = {}
        for role in USERS:
            user = f"crashcart-{role}"
            iam.create_user(UserName=user)
            policy = json.dumps(s3_policy(role, bucket))
            iam.put_user_policy(UserName=user, PolicyName="crashcart", PolicyDocument=policy)
            created = iam.create_access_key(UserName=user)["AccessKey"]
            keys[role] = (created["AccessKeyId"], created["SecretAccessKey"])
        iam.close()
        yield server, bucket, keys
    finally:
        server.stop()


def _as(iam_server: tuple[S3Server, str, dict[Role, tuple[str, str]]], role: Role, *, guard: bool) -> CrashStorage:
    """Storage with ``role``'s credentials; ``guard=False`` leaves enforcement to the server's IAM alone."""
    server, bucket, keys = iam_server
    access, secret = keys[role]
    client = server.client(access_key=access, secret_key=secret, max_attempts=1)
    return S3CrashStorage(bucket, "", client, role=role if guard else None)


@pytest.mark.s3
def test_role_policies_hold_on_an_iam_enforcing_server(
    iam_server: tuple[S3Server, str, dict[Role, tuple[str, str]]],
) -> None:
    collector = _as(iam_server, Role.COLLECTOR, guard=False)
    processor = _as(iam_server, Role.PROCESSOR, guard=False)
    webapp = _as(iam_server, Role.WEBAPP, guard=True)
    try:
        crash_id = create_crash_id(NOW)
        # The collector's whole job works with its policy alone...
        for role in USERS:  # each role's health check needs nothing beyond its policy
            checker = _as(iam_server, role, guard=True)
            checker.check()
            checker.close()
        collector.save_raw_crash(crash_id, {"ProductName": "Test"}, [_dump()], pending_queue="standard")
        assert [p.crash_id for p in collector.list_pending()] == [crash_id]
        collector.clear_pending(crash_id)
        assert list(collector.list_raw_crash_ids(NOW.date())) == [crash_id]
        # ...and with a leaked collector key nobody reads a minidump or forges a processed crash.
        with pytest.raises(StorageForbidden, match="AccessDenied"):
            collector.get_dump(crash_id, "upload_file_minidump")
        with pytest.raises(StorageForbidden):
            collector.save_processed_crash(crash_id, {"signature": "forged"})

        assert processor.get_dump(crash_id, "upload_file_minidump") == DUMP
        processor.save_processed_crash(crash_id, {"signature": "abort | main"})
        with pytest.raises(StorageForbidden):
            processor.save_raw_crash(create_crash_id(NOW), {}, [_dump()])

        assert webapp.get_processed_crash(crash_id) == {"signature": "abort | main"}
        unguarded_webapp = _as(iam_server, Role.WEBAPP, guard=False)
        with pytest.raises(StorageForbidden):
            unguarded_webapp.save_processed_crash(crash_id, {"signature": "z"})
        with pytest.raises(CrashNotFound):
            webapp.get_raw_crash(create_crash_id(NOW))  # ListBucket granted: a missing key is a 404
    finally:
        for storage in (collector, processor, webapp):
            storage.close()
