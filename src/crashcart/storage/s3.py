"""S3 crash storage (AWS S3 or an S3-compatible server such as MinIO, Ceph or moto): ``s3://bucket[/prefix]``.

Objects are named ``<prefix>/`` + the layout key from ``keys`` (no prefix: the layout key as is), so a Socorro
bucket reads as is. A crash is written in the same order as on the filesystem (dumps, dump names, pending
marker, raw crash last); S3 acknowledges a PUT only once the object is durable, so the raw crash's presence
still means the crash is complete. Spooled dumps are uploaded from their file, in parts above a threshold,
never read whole.

botocore and boto3 errors are translated here: a missing object is ``CrashNotFound``; refused credentials or
a policy that denies the call are ``StorageForbidden``; everything else (a missing bucket, unreachable
endpoints) is ``StorageUnavailable``. A backend opened for a role (``crashcart.storage.access``) refuses
operations outside that role before calling S3, and its health check uses only what the role may do.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from crashcart.crashid import is_crash_id
from crashcart.errors import ConfigError, CrashNotFound, StorageForbidden, StorageUnavailable
from crashcart.s3client import S3ClientConfig, make_s3_client
from crashcart.storage import _codec, keys
from crashcart.storage.access import Operation, Role, permits, require
from crashcart.storage.interfaces import DumpFile, PendingCrash

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CreateBucketConfigurationTypeDef

    from crashcart.settings import Settings

LOGGER = logging.getLogger(__name__)

MiB = 1024 * 1024

JSON_TYPE = "application/json"
DUMP_TYPE = "application/octet-stream"

# Codes S3 and compatible servers use for "no such object" (HEAD has no body, hence the bare status).
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_NO_BUCKET_CODES = frozenset({"NoSuchBucket", "404", "NotFound"})
# Codes for "these credentials may not do this": a deployment error, not an outage.
_FORBIDDEN_CODES = frozenset(
    {"AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId"}
)


def default_transfer_config() -> TransferConfig:
    """Multipart above 16 MiB in 16 MiB parts, 4 at a time: small dumps go in one PUT, big ones stream.

    ``max_io_queue`` bounds the chunks a download buffers while the disk catches up (4 MiB instead of 25).
    """
    return TransferConfig(
        multipart_threshold=16 * MiB,
        multipart_chunksize=16 * MiB,
        max_concurrency=4,
        max_io_queue=16,
        use_threads=True,
    )


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")``; refuses what S3 storage cannot serve."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigError(f"not an S3 storage URL (s3://bucket[/prefix]): {url!r}")
    _check_bucket_name(parts.netloc)
    return parts.netloc, parts.path.strip("/")


class S3CrashStorage:
    """Crash storage in one S3 bucket under an optional key prefix.

    ``create_bucket`` makes ``ensure_bucket`` run from ``check`` until it succeeds, so a node started while
    the server is down still creates its bucket once the server is back. ``list_page_size`` is the keys
    per listing request (S3's maximum is 1000). ``clock`` (seconds since the epoch) decides marker ages in
    ``list_pending``; tests pass a fake one. ``role`` limits the backend to that component's operations
    (``None``: every operation, for tools and tests).
    """

    def __init__(
        self,
        bucket: str,
        prefix: str,
        client: S3Client,
        *,
        create_bucket: bool = False,
        transfer_config: TransferConfig | None = None,
        list_page_size: int = 1000,
        clock: Callable[[], float] = time.time,
        role: Role | None = None,
    ) -> None:
        _check_bucket_name(bucket)
        self.role = role
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client
        self._create_bucket = create_bucket
        self._bucket_ready = False
        self._transfer = transfer_config or default_transfer_config()
        self._page_size = list_page_size
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, role: Role | None = None) -> S3CrashStorage:
        """Storage for ``settings.storage_url``; creates the bucket when ``s3_create_bucket`` is on.

        An unreachable server does not stop the node: the creation is retried by ``check``.
        """
        bucket, prefix = parse_s3_url(settings.storage_url)
        storage = cls(
            bucket,
            prefix,
            make_s3_client(S3ClientConfig.for_storage(settings)),
            create_bucket=settings.s3_create_bucket,
            role=role,
        )
        if settings.s3_create_bucket:
            try:
                storage.ensure_bucket()
            except StorageUnavailable as exc:
                LOGGER.warning("could not create bucket %s yet (check will retry): %s", bucket, exc)
        return storage

    def __repr__(self) -> str:
        return f"S3CrashStorage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    # --- health ----------------------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist; idempotent, and safe when several nodes race."""
        with self._errors(f"bucket {self.bucket}"):
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if _error_code(exc) not in _NO_BUCKET_CODES:
                    raise
            else:
                self._bucket_ready = True
                return
            region = self._client.meta.region_name
            try:
                if region and region != "us-east-1":
                    location = cast("CreateBucketConfigurationTypeDef", {"LocationConstraint": region})
                    self._client.create_bucket(Bucket=self.bucket, CreateBucketConfiguration=location)
                else:
                    self._client.create_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if _error_code(exc) != "BucketAlreadyOwnedByYou":
                    raise
            else:
                LOGGER.info("created bucket %s", self.bucket)
        self._bucket_ready = True

    def check(self) -> None:
        """Put and delete a probe object ``<prefix>/.health/<uuid>`` (the bucket exists and takes writes);
        a read-only role lists one raw-crash key instead."""
        if self._create_bucket and not self._bucket_ready:
            self.ensure_bucket()
        with self._errors(f"bucket {self.bucket}"):
            if permits(self.role, Operation.PROBE_WRITE):
                key = self._key(keys.HEALTH_PREFIX + uuid.uuid4().hex)
                self._client.put_object(Bucket=self.bucket, Key=key, Body=b"ok\n")
                self._client.delete_object(Bucket=self.bucket, Key=key)
            else:
                self._client.list_objects_v2(Bucket=self.bucket, Prefix=self._key(keys.RAW_CRASH_PREFIX), MaxKeys=1)

    def close(self) -> None:
        """Close the client's connection pool."""
        self._client.close()

    # --- raw crashes -----------------------------------------------------------------------------

    def save_raw_crash(
        self,
        crash_id: str,
        raw_crash: Mapping[str, Any],
        dumps: Sequence[DumpFile],
        *,
        pending_queue: str | None = None,
    ) -> None:
        """Upload dumps, dump names, the pending marker, then the raw crash last.

        Everything that can be refused (ids, dump names, JSON) is checked before the first byte is sent.
        """
        require(self.role, Operation.WRITE_RAW)
        raw_key = keys.raw_crash_key(crash_id)
        names = [dump.name for dump in dumps]
        dump_keys = [keys.dump_key(crash_id, name) for name in names]
        parts = [(keys.dump_names_key(crash_id), _codec.encode_dump_names(names))]
        if pending_queue is not None:
            marker = _codec.encode_marker(pending_queue, dt.datetime.now(dt.UTC))
            parts.append((keys.pending_publish_key(crash_id), marker))
        raw_blob = _codec.encode_object(raw_crash)

        with self._errors(f"{crash_id}: save raw crash"):
            for dump, key in zip(dumps, dump_keys, strict=True):
                if dump.data is not None:
                    self._put(key, dump.data, DUMP_TYPE)
                else:
                    assert dump.path is not None
                    self._client.upload_file(
                        str(dump.path),
                        self.bucket,
                        self._key(key),
                        ExtraArgs={"ContentType": DUMP_TYPE},
                        Config=self._transfer,
                    )
            for key, blob in parts:
                self._put(key, blob, JSON_TYPE)
            self._put(raw_key, raw_blob, JSON_TYPE)
        LOGGER.debug("%s: saved raw crash with %d dump(s)", crash_id, len(dumps))

    def get_raw_crash(self, crash_id: str) -> dict[str, Any]:
        require(self.role, Operation.READ_CRASH)
        blob = self._get(keys.raw_crash_key(crash_id), crash_id, "raw crash")
        return _codec.decode_object(blob, crash_id, "raw crash")

    def has_raw_crash(self, crash_id: str) -> bool:
        require(self.role, Operation.READ_CRASH)
        key = self._key(keys.raw_crash_key(crash_id))
        try:
            with self._errors(f"{crash_id}: look up raw crash"):
                self._client.head_object(Bucket=self.bucket, Key=key)
        except CrashNotFound:
            return False
        return True

    def get_dump_names(self, crash_id: str) -> list[str]:
        require(self.role, Operation.READ_CRASH)
        blob = self._get(keys.dump_names_key(crash_id), crash_id, "dump names")
        return _codec.decode_dump_names(blob, crash_id)

    def get_dump(self, crash_id: str, name: str) -> bytes:
        require(self.role, Operation.READ_CRASH)
        return self._get(keys.dump_key(crash_id, name), crash_id, f"dump {name!r}")

    def get_dump_path(self, crash_id: str, name: str, workdir: Path) -> Path:
        """Download the dump to ``workdir/<crash id>.<name>`` (streamed; the caller removes it)."""
        require(self.role, Operation.READ_CRASH)
        key = self._key(keys.dump_key(crash_id, name))
        target = Path(workdir) / f"{crash_id}.{name}"
        with self._errors(f"{crash_id}: download dump {name!r}"):
            target.parent.mkdir(parents=True, exist_ok=True)
            # s3transfer downloads to a temp name and renames, so a failed download leaves nothing behind.
            self._client.download_file(self.bucket, key, str(target), Config=self._transfer)
        return target

    def list_raw_crash_ids(self, day: dt.date) -> Iterator[str]:
        """Ids of the raw crashes of ``day`` in key order (sorted), via paginated listing."""
        require(self.role, Operation.LIST_RAW)
        prefix = self._key(keys.raw_crash_prefix(day.strftime("%Y%m%d")))
        for obj in self._list(prefix, f"list raw crashes of {day}"):
            name = obj["Key"][len(prefix) :]
            if is_crash_id(name):
                yield name

    # --- pending-publish markers -----------------------------------------------------------------

    def clear_pending(self, crash_id: str) -> None:
        """Delete the marker (S3 deletes of a missing key succeed, so missing is fine)."""
        require(self.role, Operation.MANAGE_PENDING)
        key = self._key(keys.pending_publish_key(crash_id))
        with self._errors(f"{crash_id}: clear pending marker"):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def list_pending(self, older_than: float = 0.0) -> Iterator[PendingCrash]:
        """Markers whose object is at least ``older_than`` seconds old (by LastModified), oldest first."""
        require(self.role, Operation.MANAGE_PENDING)
        prefix = self._key(keys.PENDING_PUBLISH_PREFIX)
        cutoff = dt.datetime.fromtimestamp(self._clock() - older_than, dt.UTC)
        found: list[tuple[dt.datetime, str]] = []
        for obj in self._list(prefix, "list pending markers"):
            crash_id = obj["Key"][len(prefix) :]
            modified = obj["LastModified"]
            if is_crash_id(crash_id) and modified <= cutoff:
                found.append((modified, crash_id))
        found.sort()
        for modified, crash_id in found:
            try:
                blob = self._get(keys.pending_publish_key(crash_id), crash_id, "pending marker")
            except CrashNotFound:
                continue  # cleared since the listing
            pending = _codec.decode_marker(crash_id, blob, modified)
            if pending is not None:
                yield pending

    # --- processed crashes -----------------------------------------------------------------------

    def save_processed_crash(self, crash_id: str, processed_crash: Mapping[str, Any]) -> None:
        require(self.role, Operation.WRITE_PROCESSED)
        key = keys.processed_crash_key(crash_id)
        blob = _codec.encode_object(processed_crash)
        with self._errors(f"{crash_id}: save processed crash"):
            self._put(key, blob, JSON_TYPE)

    def get_processed_crash(self, crash_id: str, fields: Collection[str] | None = None) -> dict[str, Any]:
        require(self.role, Operation.READ_CRASH)
        blob = self._get(keys.processed_crash_key(crash_id), crash_id, "processed crash")
        if fields is not None:
            return _codec.decode_fields(blob, crash_id, "processed crash", fields)
        return _codec.decode_object(blob, crash_id, "processed crash")

    # --- internals -------------------------------------------------------------------------------

    def _key(self, layout_key: str) -> str:
        return f"{self.prefix}/{layout_key}" if self.prefix else layout_key

    def _put(self, layout_key: str, body: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self.bucket, Key=self._key(layout_key), Body=body, ContentType=content_type)

    def _get(self, layout_key: str, crash_id: str, what: str) -> bytes:
        with self._errors(f"{crash_id}: read {what}", missing=f"{crash_id}: no {what}"):
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(layout_key))
            body = response["Body"]
            try:
                return body.read()
            finally:
                body.close()

    def _list(self, prefix: str, what: str) -> Iterator[Any]:
        paginator = self._client.get_paginator("list_objects_v2")
        with self._errors(what):
            pages = paginator.paginate(
                Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": self._page_size}
            )
            for page in pages:
                yield from page.get("Contents", [])

    @contextmanager
    def _errors(self, what: str, missing: str | None = None) -> Iterator[None]:
        """Translate boto errors raised inside the block; ``missing`` names what a 404 means."""
        try:
            yield
        except ClientError as exc:
            code = _error_code(exc)
            if code in _NOT_FOUND_CODES:
                raise CrashNotFound(missing or f"{what}: not found") from exc
            if code in _FORBIDDEN_CODES:
                raise StorageForbidden(f"{what}: S3 denied access ({code}) to bucket {self.bucket}") from exc
            raise StorageUnavailable(f"{what}: S3 refused ({code}) for bucket {self.bucket}") from exc
        except (BotoCoreError, Boto3Error, OSError) as exc:
            raise StorageUnavailable(f"{what}: {exc}") from exc


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _check_bucket_name(bucket: str) -> None:
    """Defence in depth behind the settings check: a period breaks virtual-host TLS, so it is refused."""
    if "." in bucket:
        raise ConfigError(f"bucket name {bucket!r} contains a period; such names are refused")
    if not bucket:
        raise ConfigError("empty bucket name")
