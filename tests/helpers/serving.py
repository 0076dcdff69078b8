"""Starting a server process for a test and waiting until it answers, shared by every server helper."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable

import httpx


def wait_until_answering(
    proc: subprocess.Popen[bytes], url: str, *, what: str, timeout: float, log: Callable[[], str]
) -> None:
    """Poll ``url`` until it answers 200; raise with the server's log if it exits first or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer {url} within {timeout} s:\n{log()}")
