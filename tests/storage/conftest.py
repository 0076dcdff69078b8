"""Storage test helpers: one ``Backend`` per storage implementation, each with a back door into its store.

The conformance tests run against both backends through this small interface; the back door (put a key
directly, list every stored key, record the order in which keys became visible) lets them check what the
protocol alone cannot show, such as ordering and leftover temp files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest

from crashcart.crashid import create_crash_id
from crashcart.storage.fs import FSCrashStorage
from crashcart.storage.interfaces import CrashStorage

if TYPE_CHECKING:
    from tests.helpers.s3server import S3Server

DAY = dt.date(2026, 11, 26)
S3_PREFIX = "crashes/test"


def new_crash_id(day: dt.date = DAY) -> str:
    return create_crash_id(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC))


def closed_port() -> int:
    """A localhost port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Backend:
    """One storage implementation under test, with a back door into its store."""

    kind: str
    storage: CrashStorage

    def open(self, clock: Callable[[], float] = time.time) -> CrashStorage:
        """Another instance on the same store (with its own clock)."""
        raise NotImplementedError

    def put_key(self, key: str, data: bytes) -> None:
        """Store ``data`` under a layout key, bypassing the backend."""
        raise NotImplementedError

    def stored_keys(self) -> set[str]:
        """Every layout key (or file, for fs) present, temp files included."""
        raise NotImplementedError

    def record_writes(self) -> contextlib.AbstractContextManager[list[str]]:
        """Within the block, collect layout keys in the order they became visible."""
        raise NotImplementedError


class FSBackend(Backend):
    kind = "fs"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.storage = FSCrashStorage(root)

    def open(self, clock: Callable[[], float] = time.time) -> CrashStorage:
        return FSCrashStorage(self.root, clock=clock)

    def put_key(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def stored_keys(self) -> set[str]:
        if not self.root.exists():
            return set()
        return {
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file() and not path.relative_to(self.root).as_posix().startswith(".health/")
        }

    @contextlib.contextmanager
    def record_writes(self) -> Iterator[list[str]]:
        # A file becomes visible when it is created at its final name (a new crash's parts), linked there (a
        # spooled dump) or renamed there (the raw crash); temp names start with a dot.
        order: list[str] = []
        real_replace, real_open, real_link = os.replace, os.open, os.link

        def visible(path: Any) -> None:
            if not Path(path).name.startswith("."):
                order.append(Path(path).relative_to(self.root).as_posix())

        def replace(src: Any, dst: Any, **kwargs: Any) -> None:
            real_replace(src, dst, **kwargs)
            visible(dst)

        def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            fd = real_open(path, flags, *args, **kwargs)
            if flags & os.O_CREAT and Path(path).is_relative_to(self.root):
                visible(path)
            return fd

        def link(src: Any, dst: Any, **kwargs: Any) -> None:
            real_link(src, dst, **kwargs)
            visible(dst)

        with (
            mock.patch.object(os, "replace", replace),
            mock.patch.object(os, "open", open_),
            mock.patch.object(os, "link", link),
        ):
            yield order


class S3Backend(Backend):
    kind = "s3"

    def __init__(self, server: S3Server, bucket: str, prefix: str = S3_PREFIX) -> None:
        from crashcart.storage.s3 import S3CrashStorage

        self.server = server
        self.bucket = bucket
        self.prefix = prefix
        self.client = server.client()
        self.storage = S3CrashStorage(bucket, prefix, self.client)
        self._opened: list[CrashStorage] = []

    def open(self, clock: Callable[[], float] = time.time) -> CrashStorage:
        from crashcart.storage.s3 import S3CrashStorage

        storage = S3CrashStorage(self.bucket, self.prefix, self.server.client(), clock=clock)
        self._opened.append(storage)
        return storage

    def close(self) -> None:
        for storage in self._opened:
            storage.close()
        self.storage.close()

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_key(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def stored_keys(self) -> set[str]:
        found = set()
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                assert key.startswith(self._key("")), f"object outside the prefix: {key}"
                found.add(key[len(self._key("")) :])
        return found

    @contextlib.contextmanager
    def record_writes(self) -> Iterator[list[str]]:
        order: list[str] = []
        strip = len(self._key(""))

        def spy(params: dict[str, Any], **kwargs: Any) -> None:
            order.append(params["Key"][strip:])

        events = self.client.meta.events
        names = ["before-parameter-build.s3.PutObject", "before-parameter-build.s3.CompleteMultipartUpload"]
        for name in names:
            events.register(name, spy)
        try:
            yield order
        finally:
            for name in names:
                events.unregister(name, spy)


BACKENDS = ["fs", pytest.param("s3", marks=pytest.mark.s3)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each backend on an empty store: fs in ``tmp_path``, s3 in a fresh bucket on the moto server."""
    if request.param == "fs":
        yield FSBackend(tmp_path / "storage")
        return
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    s3 = S3Backend(server, bucket)
    try:
        yield s3
    finally:
        s3.close()


@pytest.fixture(params=BACKENDS)
def down_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CrashStorage]:
    """Each backend pointed at a store that cannot work: a file as fs root, a closed port as S3 endpoint."""
    if request.param == "fs":
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("a file where the storage root should be")
        yield FSCrashStorage(blocker / "storage")
        return
    import boto3
    from botocore.config import Config

    from crashcart.storage.s3 import S3CrashStorage

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # fake
        config=Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1}),
    )
    storage = S3CrashStorage("unreachable", "", client)
    try:
        yield storage
    finally:
        storage.close()
