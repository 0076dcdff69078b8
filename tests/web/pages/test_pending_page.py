"""A crash stored but not processed yet: its report page sends it to the priority queue (once, however often
the page reloads) and reloads itself until the processor has made its report; in a real browser the pending
page turns into the report. Real processes: ``crashcart collector`` stores the crash, ``crashcart web`` serves
the pages, ``crashcart processor`` starts later."""

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

from tests.helpers.browser import artefacts_dir, open_browser, require_browser
from tests.helpers.collector import free_port, running_collector
from tests.helpers.web import WebServer, clean_env, crashcart

MINIDUMP = Path(__file__).resolve().parents[2] / "fixtures" / "minidump" / "linux-mini.dmp"


def _priority_depth(data_dir: Path) -> int:
    out = crashcart("queue", "status", "--json", data_dir=data_dir)
    assert out.returncode == 0, out.stderr
    return int(json.loads(out.stdout)["priority"]["ready"])


def test_the_pending_page_queues_the_crash_once_and_becomes_its_report(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    require_browser()
    with running_collector(tmp_path) as collector:
        posted = httpx.post(
            f"{collector.url}/submit",
            data={"ProductName": "Pending", "Version": "1.0"},
            files={"upload_file_minidump": ("a.dmp", MINIDUMP.read_bytes(), "application/octet-stream")},
            timeout=30,
        )
        assert posted.status_code == 200, posted.text
    crash_id = posted.text.strip().removeprefix("CrashID=bp-")
    assert _priority_depth(tmp_path) == 0
    with WebServer(tmp_path, module=None) as web:
        for _ in range(3):  # reloads queue it once
            page = httpx.get(f"{web.url}/report/index/{crash_id}", timeout=30)
            assert page.status_code == 200 and 'id="pending"' in page.text
            assert '<meta http-equiv="refresh" content="5">' in page.text
            assert page.headers["cache-control"] == "no-store"
        assert _priority_depth(tmp_path) == 1
        with open_browser(artefacts_dir(tmp_path_factory)) as browser, browser.tab(web.url) as tab:
            tab.visit(f"/report/index/{crash_id}", "pending")
            assert tab.page.locator("#pending").is_visible()
            env = {**clean_env(tmp_path), "CRASHCART_PROCESSOR_STATUS_PORT": str(free_port())}
            log = (tmp_path / "processor.log").open("ab")
            processor = subprocess.Popen(
                [sys.executable, "-m", "crashcart.cli", "processor", "--workers", "1"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                deadline = time.monotonic() + 90
                while tab.page.locator("h1#signature").count() == 0:  # the page reloads itself every 5 s
                    assert time.monotonic() < deadline, (tmp_path / "processor.log").read_text()[-3000:]
                    assert processor.poll() is None, (tmp_path / "processor.log").read_text()[-3000:]
                    tab.page.wait_for_timeout(500)
                tab.settle("pending-became-report")
                assert tab.page.locator("#frames table.frames tbody tr").count() > 0
                assert crash_id in tab.page.locator("p.crash-id").inner_text()
                tab.assert_clean()
            finally:
                os.killpg(processor.pid, signal.SIGTERM)
                processor.wait(30)
                log.close()
