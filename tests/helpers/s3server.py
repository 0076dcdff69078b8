"""A real local S3-compatible server (moto in server mode) for tests that talk to S3 over HTTP.

The server runs in a child process: it gets its own interpreter (and CPU), its warnings and request logs stay
out of the test process (which turns warnings into errors), and it exits when its stdin closes, so it never
outlives the test run. Clients use fake credentials passed as client parameters; ``os.environ`` is untouched.

Fixtures (registered for every test directory by ``tests/conftest.py``):

* ``s3_server``: the session's server (an ``S3Server``);
* ``s3_bucket``: a fresh, empty bucket for one test, emptied and deleted afterwards.
"""

from __future__ import annotations

import logging
import os
import select
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from crashcart.settings import Settings

REGION = "us-east-1"
ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"  # fake: moto accepts any credentials
START_TIMEOUT = 60.0


class S3Server:
    """A running moto server: its endpoint, clients for it, and fresh buckets."""

    def __init__(self, process: subprocess.Popen[str], endpoint_url: str, log: IO[str]) -> None:
        self._process = process
        self._log = log
        self._admin: S3Client | None = None
        self.endpoint_url = endpoint_url

    def client(
        self,
        *,
        max_attempts: int = 2,
        access_key: str = ACCESS_KEY,
        secret_key: str = SECRET_KEY,
        **config: Any,
    ) -> S3Client:
        """A boto3 S3 client for this server (fake credentials unless given; extra ``botocore`` Config options)."""
        import boto3
        from botocore.config import Config

        options: dict[str, Any] = {
            "connect_timeout": 5,
            "read_timeout": 30,
            "retries": {"total_max_attempts": max_attempts, "mode": "standard"},
            "s3": {"addressing_style": "path"},
        }
        options.update(config)
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(**options),
        )

    def settings(self, storage_url: str, data_dir: Path, **overrides: Any) -> Settings:
        """Crashcart settings pointing at this server (built from a mapping, never from the environment)."""
        from crashcart.settings import load_settings

        values: dict[str, Any] = {
            "storage_url": storage_url,
            "data_dir": data_dir,
            "s3_endpoint_url": self.endpoint_url,
            "s3_region": REGION,
            "s3_access_key_id": ACCESS_KEY,
            "s3_secret_access_key": SECRET_KEY,
            "s3_max_attempts": 2,
        }
        values.update(overrides)
        return load_settings(environ={}, **values)

    @staticmethod
    def new_bucket_name() -> str:
        return f"test-{uuid.uuid4().hex[:24]}"

    @property
    def admin(self) -> S3Client:
        """One client kept for bucket housekeeping (making a client costs ~0.1 s)."""
        if self._admin is None:
            self._admin = self.client()
        return self._admin

    def create_bucket(self) -> str:
        """A new, empty bucket with a unique name."""
        name = self.new_bucket_name()
        self.admin.create_bucket(Bucket=name)
        return name

    def delete_bucket(self, name: str) -> None:
        """Empty and delete a bucket (moto keeps objects in memory for the whole session otherwise)."""
        client = self.admin
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=name):
            objects = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if objects:
                client.delete_objects(Bucket=name, Delete={"Objects": objects})  # type: ignore[typeddict-item]
        client.delete_bucket(Bucket=name)

    def stop(self) -> None:
        """Close the server's stdin (it exits on EOF), wait for it, and release every pipe."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        process = self._process
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        self._log.close()


def start_s3_server(timeout: float = START_TIMEOUT, *, enforce_iam_after: int | None = None) -> S3Server:
    """Start moto in a child process on a free localhost port and wait until it listens.

    With ``enforce_iam_after=N`` the first N requests are let through unauthenticated (to create buckets,
    users and policies) and every later one is authenticated and checked against IAM policies, as AWS does.
    """
    log = tempfile.TemporaryFile(mode="w+", prefix="moto-server-", suffix=".log")  # noqa: SIM115
    env = dict(os.environ)
    if enforce_iam_after is not None:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(enforce_iam_after)
    process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline().strip() if ready else ""
    if not line.startswith("http://"):
        server = S3Server(process, "", log)
        server.stop()
        log_text = _read_log(log)
        raise RuntimeError(f"moto server did not start within {timeout} s: {line!r}\n{log_text}")
    return S3Server(process, line, log)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """The session's S3 server; started on first use."""
    server = start_s3_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> Iterator[str]:
    """A fresh bucket on the session's server, removed after the test."""
    name = s3_server.create_bucket()
    yield name
    s3_server.delete_bucket(name)


def _read_log(log: IO[str]) -> str:
    try:
        log.seek(0)
        return log.read()[-4000:]
    except (OSError, ValueError):
        return ""


def _serve() -> None:
    """Child process: run moto on 127.0.0.1 (port picked by the OS), print its URL, serve until EOF."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    sys.stdin.read()  # returns at EOF: the parent stopped us or died
    server.stop()


if __name__ == "__main__":
    _serve()
