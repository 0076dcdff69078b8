"""The shared S3 client factory: client configuration, and the symbols client's settings falling back to
crash storage's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crashcart.errors import ConfigError
from crashcart.s3client import S3ClientConfig, make_s3_client
from crashcart.settings import load_settings


def test_client_configuration(tmp_path: Path) -> None:
    settings = load_settings(
        environ={},
        data_dir=tmp_path,
        storage_url="s3://crashes",
        s3_endpoint_url="http://127.0.0.1:9000",
        s3_region="eu-west-3",
        s3_connect_timeout=2.5,
        s3_read_timeout=7,
        s3_max_attempts=4,
    )
    client = make_s3_client(S3ClientConfig.for_storage(settings))
    try:
        config: Any = client.meta.config
        assert client.meta.endpoint_url == "http://127.0.0.1:9000"
        assert client.meta.region_name == "eu-west-3"
        assert (config.connect_timeout, config.read_timeout) == (2.5, 7)
        assert config.retries == {"total_max_attempts": 4, "mode": "standard"}
        assert config.max_pool_connections >= 32
        assert config.s3 == {"addressing_style": "path"}
    finally:
        client.close()

    aws = make_s3_client(S3ClientConfig.for_storage(load_settings(environ={}, data_dir=tmp_path)))
    try:
        assert aws.meta.endpoint_url.startswith("https://")
        aws_config: Any = aws.meta.config
        assert not (aws_config.s3 or {}).get("addressing_style")
    finally:
        aws.close()


def test_symbols_client_falls_back_to_storage_settings(tmp_path: Path) -> None:
    shared = load_settings(
        environ={},
        data_dir=tmp_path,
        s3_endpoint_url="http://127.0.0.1:9000",
        s3_region="eu-west-3",
        s3_access_key_id="storage-key",
        s3_secret_access_key="storage-secret",  # fake
        s3_read_timeout=7,
    )
    assert S3ClientConfig.for_symbols(shared) == S3ClientConfig.for_storage(shared)
    assert S3ClientConfig.for_storage(shared).secret_access_key == "storage-secret"
    assert "storage-secret" not in repr(S3ClientConfig.for_storage(shared))


def test_symbols_client_has_its_own_endpoint_and_credentials(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "CRASHCART_SYMBOLS_S3_ENDPOINT_URL": "http://127.0.0.1:9100",
            "CRASHCART_SYMBOLS_S3_ACCESS_KEY_ID": "symbols-key",
            "CRASHCART_SYMBOLS_S3_SECRET_ACCESS_KEY": "symbols-secret",  # fake
        },
        data_dir=tmp_path,
        s3_endpoint_url="http://127.0.0.1:9000",
        s3_region="eu-west-3",
        s3_access_key_id="storage-key",
        s3_secret_access_key="storage-secret",  # fake
        s3_read_timeout=7,
    )
    symbols = S3ClientConfig.for_symbols(settings)
    assert (symbols.endpoint_url, symbols.region) == ("http://127.0.0.1:9100", "eu-west-3")
    assert (symbols.access_key_id, symbols.secret_access_key) == ("symbols-key", "symbols-secret")
    assert symbols.read_timeout == 7
    storage = S3ClientConfig.for_storage(settings)
    assert (storage.endpoint_url, storage.access_key_id) == ("http://127.0.0.1:9000", "storage-key")
    client = make_s3_client(symbols)
    try:
        assert client.meta.endpoint_url == "http://127.0.0.1:9100"
        credentials: Any = client._request_signer._credentials
        assert credentials.access_key == "symbols-key"
    finally:
        client.close()


def test_half_a_credential_pair_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="secret access key"):
        make_s3_client(S3ClientConfig(access_key_id="only-the-id"))
