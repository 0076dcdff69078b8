"""schemathesis against the running server's ``/api/openapi.json`` (issue #10, point 11): no request it
generates, valid or not, gets a 500. Bounded (examples per operation, and 25 s per database) so both runs
together stay under a minute.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from tests.web.site import Site, shared_site

pytestmark = pytest.mark.timeout(600)

SCHEMATHESIS = Path(sys.executable).parent / "st"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The same checks on the embedded SQLite index and on PostgreSQL (their SQL differs)."""
    return shared_site(tmp_path_factory.getbasetemp(), request.param)


def test_openapi_lists_every_model_with_its_parameters(site: Site) -> None:
    document = httpx.get(f"{site.url}/api/openapi.json", timeout=30).json()
    paths = document["paths"]
    for model in ("SuperSearch", "SuperSearchUnredacted", "ProcessedCrash", "RawCrash", "CrashVerify", "NoOp"):
        assert f"/api/{model}/" in paths, model
    assert "post" in paths["/api/Reprocessing/"] and "get" not in paths["/api/Reprocessing/"]
    search = {p["name"] for p in paths["/api/SuperSearch/"]["get"]["parameters"]}
    assert {"product", "signature", "date", "_columns", "_facets", "_aggs.product", "_histogram.date"} <= search
    assert "_aggs.…" not in search and "_aggs.…" in paths["/api/SuperSearch/"]["get"]["description"]


def test_no_generated_request_gets_a_server_error(site: Site, tmp_path: Path) -> None:
    """With the full token, so every operation's handler runs (the permission matrix covers refusals)."""
    junit = tmp_path / "junit.xml"
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{site.url}/api/openapi.json",
            "--checks",
            "not_a_server_error",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "15",
            "--max-time",
            "25",
            "--seed",
            "10",
            "--generation-database",
            "none",
            "--request-timeout",
            "10",
            "--workers",
            "2",
            "--no-color",
            "--report",
            "junit",
            "--report-junit-path",
            str(junit),
            "-H",
            f"Auth-Token: {site.tokens['full']}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=tmp_path,  # its cache of found failures stays out of the repository
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:] + site.log()[-4000:]
    cases = ET.parse(junit).getroot().iter("testcase")
    operations = {case.get("name") for case in cases}
    assert len(operations) >= 12, operations  # every operation was exercised, none skipped silently
