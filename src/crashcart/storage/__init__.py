"""Crash storage: the ``CrashStorage`` protocol and ``open_storage``, which picks a backend by URL scheme.

``file:///path`` is the filesystem backend (production-grade, for self-hosted nodes); ``s3://bucket[/prefix]``
is S3 or an S3-compatible server. The S3 backend is imported only when asked for, so a node on files never
loads boto3.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from crashcart.errors import ConfigError
from crashcart.settings import check_storage_url
from crashcart.storage.access import Role
from crashcart.storage.interfaces import CrashStorage, DumpFile, PendingCrash

if TYPE_CHECKING:
    from crashcart.settings import Settings

__all__ = ["CrashStorage", "DumpFile", "PendingCrash", "Role", "open_storage"]


def open_storage(settings: Settings, role: Role | None) -> CrashStorage:
    """The backend for ``settings.storage_url``, limited to ``role``'s operations (``crashcart.storage.access``;
    ``None`` for operator tools that need everything). Raises ``ConfigError`` for a URL it cannot serve.

    No I/O that can fail on an outage happens here (an S3 bucket creation that fails is retried by
    ``check``), so a node comes up while its storage is down and reports it on its health endpoint.
    """
    url = settings.storage_url
    try:
        # Settings already validated the URL; checking again covers settings built without validation.
        check_storage_url(url)
    except ValueError as exc:
        raise ConfigError(f"storage URL {url!r}: {exc}") from exc
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(f"storage URL {url!r}: file:// URLs name no host (file:///path)")
        from crashcart.storage.fs import FSCrashStorage  # noqa: PLC0415  (import only the backend used)

        return FSCrashStorage(Path(unquote(parts.path)), role=role)
    from crashcart.storage.s3 import S3CrashStorage  # noqa: PLC0415  (boto3 only when S3 is used)

    return S3CrashStorage.from_settings(settings, role)
