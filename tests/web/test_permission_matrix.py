"""Every API model × anonymous, a token without view_pii, a full token (issue #10, point 14).

Every crash on the site carries hostile protected values (``tests.web.site.HOSTILE``: ``URL``, ``Comments``,
``RemoteType``, ``GleanClientId``, an undeclared annotation, and a User-Agent the collector keeps in the
protected ``metadata``). For each request, a caller without ``view_pii`` must not find any of those texts
anywhere in what it receives; the full token must find them where the endpoint serves them, which proves
the requests really reach the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.web.site import HOSTILE, HOSTILE_TEXTS, Site, body_text, shared_site

pytestmark = pytest.mark.timeout(600)

PROTECTED_FIELDS = ("url", "user_comments", "remote_type", "glean_client_id", "collector_notes")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The same checks on the embedded SQLite index and on PostgreSQL (their SQL differs)."""
    return shared_site(tmp_path_factory.getbasetemp(), request.param)


@dataclass(frozen=True)
class Case:
    """One request and, per caller, the status it must get and whether protected data may be in it."""

    label: str
    model: str
    method: str
    params: Any
    #: caller -> expected status
    status: dict[str, int]
    #: True when the full token's answer must contain a planted protected value (the test can fail).
    full_sees_protected: bool = False


def cases(site: Site) -> list[Case]:
    from crashcart.search.fields import catalogue

    crash = site.crashes[0]
    crash_id = crash.crash_id
    unknown = crash_id[:-12] + "0" * 6 + crash_id[-6:]
    every_column = [("_columns", name) for name in catalogue().fields]
    ok = {"anonymous": 200, "nopii": 200, "full": 200}
    processed = site.processed(crash_id) or {}
    signature = str(processed.get("signature", ""))
    return [
        Case("supersearch every column", "SuperSearch", "GET", [*every_column, ("_facets", "url")], ok, True),
        Case(
            "supersearch protected filters, facets, aggs, histograms",
            "SuperSearch",
            "GET",
            [
                ("url", "~pii"),
                ("user_comments", "~pii"),
                ("remote_type", "!__null__"),
                *[("_facets", name) for name in PROTECTED_FIELDS],
                ("_facets", "_cardinality.url"),
                ("_aggs.product", "url"),
                ("_aggs.product.version", "user_comments"),
                ("_histogram.date", "remote_type"),
                ("_columns", "uuid"),
                ("_columns", "url"),
                ("_sort", "url"),
            ],
            ok,
            True,
        ),
        Case(
            "supersearch unredacted",
            "SuperSearchUnredacted",
            "GET",
            [*every_column, ("_facets", "url")],
            {"anonymous": 403, "nopii": 403, "full": 200},
            True,
        ),
        Case("supersearch fields", "SuperSearchFields", "GET", {}, ok),
        Case("processed crash", "ProcessedCrash", "GET", {"crash_id": crash_id, "format": "meta"}, ok, True),
        Case("raw crash meta", "RawCrash", "GET", {"crash_id": crash_id}, ok, True),
        Case(
            "raw crash raw",
            "RawCrash",
            "GET",
            {"crash_id": crash_id, "format": "raw", "name": "dump"},
            {"anonymous": 403, "nopii": 200, "full": 200},
        ),
        Case(
            "raw crash unknown dump",
            "RawCrash",
            "GET",
            {"crash_id": unknown, "format": "raw", "name": "dump"},
            {"anonymous": 404, "nopii": 404, "full": 404},
        ),
        Case(
            "reprocessing",
            "Reprocessing",
            "POST",
            {"crash_ids": [unknown]},
            {"anonymous": 403, "nopii": 200, "full": 200},
        ),
        Case("signature first date", "SignatureFirstDate", "GET", {"signatures": [signature]}, ok),
        Case(
            "version string",
            "VersionString",
            "GET",
            {"product": "Firefox", "channel": "beta", "build_id": "20231212101010"},
            ok,
        ),
        Case("bugs", "Bugs", "GET", {"signatures": [signature]}, ok),
        Case("signatures by bugs", "SignaturesByBugs", "GET", {"bug_ids": ["123456"]}, ok),
        Case("crash verify", "CrashVerify", "GET", {"crash_id": crash_id}, ok),
        Case("noop", "NoOp", "GET", {"product": "Firefox"}, ok),
    ]


def callers(site: Site) -> dict[str, str | None]:
    return {"anonymous": None, "nopii": site.tokens["nopii"], "full": site.tokens["full"]}


def test_no_protected_value_reaches_a_caller_without_view_pii(site: Site) -> None:
    bug = site.cli("bugs", "add", "123456", str((site.processed(site.crashes[0].crash_id) or {}).get("signature")))
    assert bug.returncode == 0, bug.stderr
    failures = []
    for case in cases(site):
        for caller, token in callers(site).items():
            if case.method == "GET":
                response = site.get(case.model, case.params, token=token)
            else:
                response = site.post(case.model, case.params, token=token)
            text = body_text(response)
            where = f"{case.label} as {caller}"
            if response.status_code != case.status[caller]:
                failures.append(f"{where}: status {response.status_code}: {response.text[:300]}")
            leaked = [t for t in HOSTILE_TEXTS if t in text]
            if caller != "full" and leaked:
                failures.append(f"{where}: protected values in the answer: {leaked}")
            if caller == "full" and case.full_sees_protected and HOSTILE["URL"] not in text:
                failures.append(f"{where}: the full token did not see the planted URL (the request missed the data)")
    assert not failures, "\n".join(failures)


def test_api_listing_shows_only_models_the_caller_may_use(site: Site) -> None:
    listing = httpx.get(f"{site.url}/api/", timeout=30)
    assert listing.status_code == 200
    for model in ("SuperSearch", "ProcessedCrash", "RawCrash", "SuperSearchFields", "CrashVerify"):
        assert model in listing.text
    full = httpx.get(f"{site.url}/api/", headers={"Auth-Token": site.tokens["full"]}, timeout=30)
    assert "SuperSearchUnredacted" in full.text and "Reprocessing" in full.text
    assert "SuperSearchUnredacted" not in listing.text
