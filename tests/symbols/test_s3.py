from __future__ import annotations

import socket

import pytest

from crashcart.symbols.interfaces import SymbolNotFound, SymbolSourceUnavailable
from crashcart.symbols.s3 import S3SymbolSource
from tests.helpers.s3server import S3Server
from tests.symbols.conftest import STORE, TEST_FILE, TEST_ID

pytestmark = pytest.mark.s3


def test_no_prefix_and_missing_bucket(s3_server: S3Server, s3_bucket: str) -> None:
    body = (STORE / TEST_FILE / TEST_ID / "test.sym").read_bytes()
    s3_server.admin.put_object(Bucket=s3_bucket, Key=f"{TEST_FILE}/{TEST_ID}/test.sym", Body=body)
    source = S3SymbolSource(s3_server.client(), s3_bucket)
    assert source.locate(TEST_FILE, TEST_ID) == body
    source.close()
    missing_bucket = S3SymbolSource(s3_server.client(), "no-such-bucket-here")
    with pytest.raises(SymbolSourceUnavailable):
        missing_bucket.locate(TEST_FILE, TEST_ID)
    missing_bucket.close()


def test_unreachable_endpoint_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    import boto3
    from botocore.config import Config

    dead = boto3.session.Session().client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",  # fake
        config=Config(connect_timeout=1, retries={"total_max_attempts": 1}),
    )
    source = S3SymbolSource(dead, "bucket")
    with pytest.raises(SymbolSourceUnavailable):
        source.locate(TEST_FILE, TEST_ID)
    source.close()


def test_missing_key_is_not_found(s3_server: S3Server, s3_bucket: str) -> None:
    source = S3SymbolSource(s3_server.client(), s3_bucket, "prefix")
    with pytest.raises(SymbolNotFound):
        source.locate(TEST_FILE, TEST_ID)
    source.close()
