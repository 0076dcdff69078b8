"""Run the real collector (``crashcart collector``) as a subprocess on a free localhost port.

Used by tests that need what only a real server shows: chunked and HTTP/1.0 framing, signals, RSS,
SIGKILL durability, real crash-reporting clients.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from tests.helpers.serving import wait_until_answering

CRASHCART = [sys.executable, "-m", "crashcart.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CollectorProcess:
    """A running ``crashcart collector`` with its own data directory."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None, workers: int = 1) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"collector-{self.port}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CRASHCART_")},
            "CRASHCART_DATA_DIR": str(data_dir),
            "CRASHCART_LOG_FORMAT": "json",
            **(env or {}),
        }
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> CollectorProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = self._spawn(log)
        wait_until_answering(self.proc, f"{self.url}/__lbheartbeat__", what="collector", timeout=timeout, log=self.log)
        return self

    def _spawn(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                *CRASHCART,
                "collector",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, sig) if sig == signal.SIGKILL else self.proc.send_signal(sig)

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(10)

    def kill(self) -> None:
        """SIGKILL the whole process group: supervisor and workers die at once, mid-request."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


@contextlib.contextmanager
def running_collector(
    data_dir: Path, env: Mapping[str, str] | None = None, workers: int = 1
) -> Iterator[CollectorProcess]:
    collector = CollectorProcess(data_dir, env, workers).start()
    try:
        yield collector
    finally:
        collector.stop()
        collector.kill()


def raw_http(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send bytes exactly as given (to reproduce clients no HTTP library imitates) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)
