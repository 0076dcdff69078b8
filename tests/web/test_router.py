"""``crashcart run``'s one port: the collector never loads Django; the web application answers the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers.collector import free_port
from tests.helpers.web import ROOT, clean_env


def test_submitting_through_the_router_never_imports_django(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.web.router_scenario", str(tmp_path)],
        cwd=ROOT,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.strip().splitlines()[-1] == "ok"


def test_the_collector_modules_do_not_import_django() -> None:
    code = (
        "import sys, crashcart.collector.app, crashcart.collector.server, crashcart.web.router;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
def test_crashcart_run_serves_submit_and_the_api_on_one_port(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crashcart.cli", "run", "--port", str(port)],
            cwd=ROOT,
            env=clean_env(tmp_path, {"CRASHCART_PROCESSOR_STATUS_PORT": str(free_port())}),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{url}/__lbheartbeat__", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        files = {"upload_file_minidump": ("d.dmp", b"MDMP" + bytes(64), "application/octet-stream")}
        submitted = httpx.post(f"{url}/submit", data={"ProductName": "Test", "Version": "1"}, files=files)
        assert submitted.status_code == 200 and submitted.text.startswith("CrashID=bp-")
        listing = httpx.get(f"{url}/api/", params={"format": "json"}, timeout=30)
        assert listing.status_code == 200, log.read_text()
        assert listing.headers["access-control-allow-origin"] == "*"
        assert json.loads(listing.text)["openapi"] == "/api/openapi.json"
        assert httpx.get(f"{url}/api/openapi.json", timeout=10).json()["openapi"] == "3.0.3"
        assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert proc.returncode == 0, log.read_text()
