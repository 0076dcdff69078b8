"""The one place boto3 S3 clients are made, for crash storage (``storage.s3``) and symbol sources (``symbols.s3``).

Both talk to S3 or an S3-compatible server with the same bounded timeouts, retries and addressing rules; only
where they point and with which credentials may differ (storage credentials are per role; a symbols bucket
often belongs to another account or server). A component receives an :class:`S3ClientConfig` of plain values
from its composition root and calls :func:`make_s3_client`; :meth:`S3ClientConfig.for_storage` and
:meth:`S3ClientConfig.for_symbols` read those values from ``Settings``.

This module sits below ``storage`` and ``symbols`` and imports neither (``symbols → storage`` is an import the
design forbids): only ``settings`` (for types), ``errors`` and boto3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crashcart.errors import ConfigError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from crashcart.settings import Settings

MAX_POOL_CONNECTIONS = 64
"""Enough for the collector's threads (and a transfer's part uploads) to share one client without waiting."""


@dataclass(frozen=True)
class S3ClientConfig:
    """Where an S3 client points and how it behaves. Empty strings leave the choice to boto3 (AWS endpoint,
    boto3's credential chain: role, profile, environment)."""

    endpoint_url: str = ""
    region: str = "us-east-1"
    access_key_id: str = ""
    #: Kept out of ``repr`` (config objects end up in logs and tracebacks).
    secret_access_key: str = field(default="", repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    #: Attempts per call, the first one included (boto3's ``total_max_attempts``).
    max_attempts: int = 3
    max_pool_connections: int = MAX_POOL_CONNECTIONS

    @classmethod
    def for_storage(cls, settings: Settings) -> S3ClientConfig:
        """Crash storage's client: the ``CRASHCART_S3_*`` settings."""
        return cls(
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key.get_secret_value(),
            connect_timeout=settings.s3_connect_timeout,
            read_timeout=settings.s3_read_timeout,
            max_attempts=settings.s3_max_attempts,
        )

    @classmethod
    def for_symbols(cls, settings: Settings) -> S3ClientConfig:
        """``s3://`` symbol sources' client: each ``CRASHCART_SYMBOLS_S3_*`` setting that is set replaces the
        storage one (endpoint, region; the access key id and secret as a pair), so a symbols bucket on another
        server or account needs only what differs. Timeouts and retries are shared."""
        storage = cls.for_storage(settings)
        own_keys = bool(settings.symbols_s3_access_key_id)
        return cls(
            endpoint_url=settings.symbols_s3_endpoint_url or storage.endpoint_url,
            region=settings.symbols_s3_region or storage.region,
            access_key_id=settings.symbols_s3_access_key_id if own_keys else storage.access_key_id,
            secret_access_key=(
                settings.symbols_s3_secret_access_key.get_secret_value() if own_keys else storage.secret_access_key
            ),
            connect_timeout=storage.connect_timeout,
            read_timeout=storage.read_timeout,
            max_attempts=storage.max_attempts,
        )


def make_s3_client(config: S3ClientConfig) -> S3Client:
    """A boto3 S3 client with bounded timeouts, retries and connection pool.

    Path-style addressing is used with a custom endpoint, since S3-compatible servers rarely have wildcard
    DNS for virtual-host buckets. boto3 is imported here, on first use: a process without S3 (``crashcart
    stackwalk`` with local symbols) does not pay its ~100 ms import.
    """
    import boto3  # noqa: PLC0415 (see above)
    from botocore.config import Config  # noqa: PLC0415
    from botocore.exceptions import PartialCredentialsError  # noqa: PLC0415

    client_config = Config(
        region_name=config.region,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        # ``total_max_attempts`` counts the first try, as the setting does (``max_attempts`` would not).
        retries={"total_max_attempts": config.max_attempts, "mode": "standard"},
        max_pool_connections=config.max_pool_connections,
        s3={"addressing_style": "path"} if config.endpoint_url else None,
    )
    # A session of our own: boto3's default session is shared module state and not thread-safe to create.
    session = boto3.session.Session()
    try:
        return session.client(
            "s3",
            config=client_config,
            endpoint_url=config.endpoint_url or None,
            aws_access_key_id=config.access_key_id or None,
            aws_secret_access_key=config.secret_access_key or None,
        )
    except PartialCredentialsError as exc:
        raise ConfigError(f"S3 credentials need both an access key id and a secret access key: {exc}") from exc
