"""Symbol source: an HTTP(S) symbol server in the Breakpad/Tecken layout (``https://symbols.mozilla.org/``).

One ``httpx.Client`` per source keeps connections alive between lookups. Redirects are followed (Tecken
answers with a 302 to storage, and code-id lookups with a 302 to the debug-id path); gzip transfer encoding is
undone by httpx. A 404 (or another 4xx: S3-backed servers answer 403 for absent keys) means "not here"; 5xx,
timeouts and connection errors are retried with back-off and then reported as ``SymbolSourceUnavailable``.
Bodies are read in chunks and refused above ``max_size``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote

import httpx

from crashcart.redact import mask_url, redact
from crashcart.symbols.interfaces import SymbolData, SymbolMalformed, SymbolNotFound, SymbolSourceUnavailable
from crashcart.symbols.paths import candidate_paths

LOGGER = logging.getLogger(__name__)

GiB = 1024 * 1024 * 1024


class HttpSymbolSource:
    """A symbol server at ``base_url``; ``retries`` extra attempts after a 5xx or a transport error."""

    #: Each lookup is a network round trip: misses are worth remembering (``SymbolCache``'s ``.missing``).
    is_local = False

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.25,
        max_size: int = 4 * GiB,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self._retries = retries
        self._backoff = backoff
        self._max_size = max_size
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True,
            max_redirects=5,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            headers={"User-Agent": "crashcart-symbols"},
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"HttpSymbolSource({mask_url(self.base_url)!r})"

    def locate(
        self, debug_file: str, debug_id: str, code_file: str | None = None, code_id: str | None = None
    ) -> SymbolData:
        return self.locate_paths(candidate_paths(debug_file, debug_id, code_file, code_id), f"{debug_file}/{debug_id}")

    def locate_paths(self, paths: Sequence[str], what: str, exclude: Path | None = None) -> SymbolData:
        """The body at the first of these relative paths the server has (``what`` names the module; ``exclude``,
        a local file, is never one of ours)."""
        for relative in paths:
            data = self._get(self.base_url + quote(relative))
            if data is not None:
                return data
        raise SymbolNotFound(f"{what} not on {mask_url(self.base_url)}")

    def close(self) -> None:
        self._client.close()

    def _get(self, url: str) -> bytes | None:
        """The body at ``url``; ``None`` for a 4xx; raises ``SymbolSourceUnavailable`` after the retries."""
        attempt = 0
        while True:
            try:
                with self._client.stream("GET", url) as response:
                    if response.status_code == 200:
                        return self._read(response, url)
                    if 400 <= response.status_code < 500:
                        return None
                    problem = f"HTTP {response.status_code}"
            except httpx.TransportError as exc:  # connect, read and pool timeouts, refused connections
                problem = f"{type(exc).__name__}: {exc}"
                cause: Exception | None = exc
            else:
                cause = None
            if attempt >= self._retries:
                raise SymbolSourceUnavailable(redact(f"GET {url}: {problem}")) from cause
            attempt += 1
            LOGGER.info("retrying GET %s after %s (attempt %d)", mask_url(url), redact(problem), attempt + 1)
            self._sleep(self._backoff * 2 ** (attempt - 1))

    def _read(self, response: httpx.Response, url: str) -> bytes:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > self._max_size:
            raise SymbolMalformed(f"{mask_url(url)}: {declared} bytes is over the {self._max_size}-byte limit")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self._max_size:
                raise SymbolMalformed(f"{mask_url(url)}: over the {self._max_size}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)
