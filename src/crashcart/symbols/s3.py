"""Symbol source: an S3 bucket (or S3-compatible server) in the Breakpad layout (``s3://bucket/prefix``).

The client is made by ``crashcart.s3client`` (as crash storage's is) from ``CRASHCART_SYMBOLS_S3_*``, falling
back to the storage ``CRASHCART_S3_*`` settings (endpoint, credentials; timeouts and retries are shared).
``NoSuchKey``/404 means "not here"; any other botocore error is ``SymbolSourceUnavailable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from crashcart.errors import ConfigError
from crashcart.symbols.interfaces import SymbolData, SymbolMalformed, SymbolNotFound, SymbolSourceUnavailable
from crashcart.symbols.paths import candidate_paths

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

GiB = 1024 * 1024 * 1024

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def parse_symbols_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")``."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigError(f"not an S3 symbols URL (s3://bucket[/prefix]): {url!r}")
    return parts.netloc, parts.path.strip("/")


class S3SymbolSource:
    """Objects ``<prefix>/<debug_file>/<DEBUG_ID>/<stem>.sym`` in one bucket."""

    #: Each lookup is a network round trip: misses are worth remembering (``SymbolCache``'s ``.missing``).
    is_local = False

    def __init__(self, client: S3Client, bucket: str, prefix: str = "", *, max_size: int = 4 * GiB) -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._max_size = max_size

    def __repr__(self) -> str:
        return f"S3SymbolSource('s3://{self.bucket}/{self.prefix}')"

    def locate(
        self, debug_file: str, debug_id: str, code_file: str | None = None, code_id: str | None = None
    ) -> SymbolData:
        return self.locate_paths(candidate_paths(debug_file, debug_id, code_file, code_id), f"{debug_file}/{debug_id}")

    def locate_paths(self, paths: Sequence[str], what: str, exclude: Path | None = None) -> SymbolData:
        """The object at the first of these relative keys the bucket has (``what`` names the module; ``exclude``,
        a local file, is never one of ours)."""
        for relative in paths:
            key = f"{self.prefix}/{relative}" if self.prefix else relative
            data = self._get(key)
            if data is not None:
                return data
        raise SymbolNotFound(f"{what} not in s3://{self.bucket}/{self.prefix}")

    def close(self) -> None:
        self._client.close()

    def _get(self, key: str) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            length = response.get("ContentLength", 0)
            body = response["Body"]
            try:
                if length > self._max_size:
                    raise SymbolMalformed(f"s3://{self.bucket}/{key}: {length} bytes is over the limit")
                data = body.read(self._max_size + 1)
            finally:
                body.close()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _NOT_FOUND_CODES:
                return None
            raise SymbolSourceUnavailable(f"s3://{self.bucket}/{key}: {code or exc}") from exc
        except BotoCoreError as exc:
            raise SymbolSourceUnavailable(f"s3://{self.bucket}/{key}: {exc}") from exc
        if len(data) > self._max_size:
            raise SymbolMalformed(f"s3://{self.bucket}/{key}: over the {self._max_size}-byte limit")
        return data
