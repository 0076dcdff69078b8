"""A real web application server for tests, and the CLI to make its users and tokens.

``WebServer(data_dir, env).start()`` runs ``tests.web.serve`` (``crashcart web`` with the test models
registered first, one worker); ``module=None`` runs the real ``crashcart web --workers N`` (the shipped
endpoints only) on a free localhost port; ``crashcart(...)`` runs a CLI
command against the same settings, e.g. ``token create`` to get a key for ``Auth-Token``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.helpers.collector import free_port
from tests.helpers.serving import wait_until_answering

ROOT = Path(__file__).resolve().parents[2]


def clean_env(data_dir: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CRASHCART_", "DJANGO_"))},
        "CRASHCART_DATA_DIR": str(data_dir),
        "CRASHCART_LOG_FORMAT": "json",
        **(env or {}),
    }


def crashcart(
    *args: str, data_dir: Path, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``crashcart ARGS`` with these settings; output captured."""
    return subprocess.run(
        [sys.executable, "-m", "crashcart.cli", *args],
        cwd=ROOT,
        env=clean_env(data_dir, env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def make_token(user: str, permissions: Sequence[str], *, data_dir: Path, env: Mapping[str, str] | None = None) -> str:
    """Create ``user`` with ``permissions`` (if new) and a token carrying them; the token."""
    perms = ",".join(permissions)
    created = crashcart("user", "create", user, "--permissions", perms, data_dir=data_dir, env=env)
    assert created.returncode == 0 or "already exists" in created.stderr, created.stderr
    made = crashcart("token", "create", user, "--permissions", perms, data_dir=data_dir, env=env)
    assert made.returncode == 0, made.stderr
    return made.stdout.splitlines()[-1]


class WebServer:
    """A running web application server with its own data directory; its log is ``log()``."""

    def __init__(
        self,
        data_dir: Path,
        env: Mapping[str, str] | None = None,
        module: str | None = "tests.web.serve",
        workers: int = 1,
    ) -> None:
        self.data_dir = data_dir
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"web-{self.port}.log"
        if module is None:
            self.argv = [sys.executable, "-m", "crashcart.cli", "web", "--host", "127.0.0.1"]
            self.argv += ["--port", str(self.port), "--workers", str(workers)]
        else:
            self.argv = [sys.executable, "-m", module, str(self.port)]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> WebServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=clean_env(self.data_dir, self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_answering(self.proc, f"{self.url}/__lbheartbeat__", what="web server", timeout=timeout, log=self.log)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
