"""The API models over HTTP against a real ``crashcart run``: Socorro's status codes, bodies and headers
(``../shared/reference/socorro-api.md`` §2), for what crashstats-tools does not exercise.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.web.site import Site, shared_site

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return shared_site(tmp_path_factory.getbasetemp())


def unknown_id(site: Site) -> str:
    crash_id = site.crashes[0].crash_id
    return crash_id[:-12] + "000000" + crash_id[-6:]


def signature_of(site: Site, index: int) -> str:
    return str((site.processed(site.crashes[index].crash_id) or {})["signature"])


# --- crashes by id ----------------------------------------------------------------------------------------


def test_processed_and_raw_crash_send_no_cache_header_and_ignore_unknown_params(site: Site) -> None:
    crash_id = site.crashes[0].crash_id
    for model in ("ProcessedCrash", "RawCrash"):
        response = site.get(model, {"crash_id": crash_id, "format": "meta", "whatever": "1"})
        assert response.status_code == 200, response.text
        assert "cache-control" not in response.headers
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["access-control-allow-origin"] == "*"
    fields = site.get("SuperSearchFields")
    assert fields.headers["cache-control"] == "private, max-age=300"


def test_crash_errors(site: Site) -> None:
    missing = site.get("ProcessedCrash", {"crash_id": unknown_id(site)})
    assert (missing.status_code, missing.json()) == (404, {"error": f"Not found: CrashIDNotFound {unknown_id(site)}"})
    malformed = site.get("RawCrash", {"crash_id": "1' OR '1'='1"})
    assert malformed.status_code == 400 and malformed.json()["error"].startswith("Bad request: BadArgumentError")
    required = site.get("ProcessedCrash")
    assert (required.status_code, required.json()) == (400, {"errors": {"crash_id": ["This field is required."]}})
    bad_format = site.get("RawCrash", {"crash_id": site.crashes[0].crash_id, "format": "xml"})
    assert bad_format.status_code == 400
    assert site.post("ProcessedCrash", {"crash_id": site.crashes[0].crash_id}).status_code == 405
    removed = site.get("UnredactedCrash", {"crash_id": site.crashes[0].crash_id})
    assert (removed.status_code, removed.json()) == (404, {"error": "No service called 'UnredactedCrash'"})


def test_raw_dumps_bytes_filenames_and_permission_order(site: Site) -> None:
    crash = next(c for c in site.crashes if len(c.dumps) == 2)
    token = site.tokens["nopii"]  # view_rawdump without view_pii: dump bytes are not protected data
    for name in ("dump", "upload_file_minidump", ""):
        response = site.get("RawCrash", {"crash_id": crash.crash_id, "format": "raw", "name": name}, token=token)
        assert response.status_code == 200 and response.content == crash.dumps["upload_file_minidump"]
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"] == f'attachment; filename="{crash.crash_id}.dmp"'
    browser = site.get(
        "RawCrash", {"crash_id": crash.crash_id, "format": "raw", "name": "upload_file_minidump_browser"}, token=token
    )
    assert browser.content == crash.dumps["upload_file_minidump_browser"]
    assert f'filename="{crash.crash_id}-upload_file_minidump_browser.dmp"' in browser.headers["content-disposition"]
    anonymous = site.get("RawCrash", {"crash_id": crash.crash_id, "format": "raw", "name": "dump"})
    assert (anonymous.status_code, anonymous.json()) == (
        403,
        {"error": "Binary response requires permissions: View Raw Dumps"},
    )
    unknown = site.get("RawCrash", {"crash_id": unknown_id(site), "format": "raw", "name": "dump"})
    assert unknown.status_code == 404  # before the permission check
    no_such_dump = site.get("RawCrash", {"crash_id": crash.crash_id, "format": "raw", "name": "nope"}, token=token)
    assert no_such_dump.status_code == 404


def test_crash_verify(site: Site) -> None:
    crash_id = site.crashes[0].crash_id
    known = site.get("CrashVerify", {"crash_id": crash_id}).json()
    assert known == {
        "uuid": crash_id,
        "raw_crash": True,
        "processed_crash": True,
        "elasticsearch_crash": True,
        "telemetry_crash": False,
    }
    unknown = site.get("CrashVerify", {"crash_id": unknown_id(site)}).json()
    assert not any(unknown[k] for k in ("raw_crash", "processed_crash", "elasticsearch_crash"))
    for bad in ({"crash_id": "nope"}, {}):
        response = site.get("CrashVerify", bad)
        assert (response.status_code, response.json()) == (400, {"error": "unknown crash id"})


# --- Reprocessing -----------------------------------------------------------------------------------------


def test_reprocessing_method_permission_and_errors(site: Site) -> None:
    assert site.get("Reprocessing", {"crash_ids": site.crashes[0].crash_id}).status_code == 405
    anonymous = site.post("Reprocessing", {"crash_ids": [site.crashes[0].crash_id]})
    assert (anonymous.status_code, anonymous.json()) == (
        403,
        {"error": "Use of this endpoint requires the 'Reprocess Crashes' permission"},
    )
    token = site.tokens["full"]
    bad_id = site.post("Reprocessing", {"crash_ids": [unknown_id(site), "xyz"]}, token=token)
    assert (bad_id.status_code, bad_id.json()) == (
        400,
        {"error": "Bad request: BadArgumentError: Crash id 'xyz' is not valid."},
    )
    bad_ruleset = site.post("Reprocessing", {"crash_ids": [f"{unknown_id(site)}:nope"]}, token=token)
    assert bad_ruleset.json() == {"error": "Bad request: BadArgumentError: Ruleset 'nope' is not valid."}
    missing = site.post("Reprocessing", {}, token=token)
    assert missing.status_code == 400 and "crash_ids" in missing.json()["errors"]


# --- signatures, versions, bugs ---------------------------------------------------------------------------


def test_signature_first_date(site: Site) -> None:
    signature = signature_of(site, 0)
    answer = site.get("SignatureFirstDate", {"signatures": [signature, "no such signature"]}).json()
    assert answer["total"] == 1 and answer["hits"][0]["signature"] == signature
    first = dt.datetime.fromisoformat(answer["hits"][0]["first_date"])
    assert abs(first - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=2)
    assert answer["hits"][0]["first_build"] in {c.annotations["BuildID"] for c in site.crashes}


def test_version_string(site: Site) -> None:
    beta = site.get("VersionString", {"product": "Firefox", "channel": "beta", "build_id": "20231212101010"}).json()
    assert beta == {"hits": [{"version_string": "121.0b3"}], "total": 1}
    none = site.get("VersionString", {"product": "Firefox", "channel": "beta", "build_id": "20231211093035"}).json()
    assert none == {"hits": [], "total": 0}
    bad = site.get("VersionString", {"product": "Firefox", "channel": "beta", "build_id": "2023x"})
    assert (bad.status_code, bad.json()) == (400, {"errors": {"build_id": ["Enter a whole number."]}})


def test_bugs_and_signatures_by_bugs_filled_with_the_cli(site: Site) -> None:
    a, b = signature_of(site, 0), "OOM | small"
    assert site.cli("bugs", "add", "7001", a, b).returncode == 0
    assert site.cli("bugs", "add", "7002", a).returncode == 0
    listed = site.cli("bugs", "list", "7001")
    assert listed.stdout.splitlines() == sorted([f"7001\t{a}", f"7001\t{b}"])
    bugs = site.get("Bugs", {"signatures": [a]}).json()
    expected = sorted([(7001, a), (7001, b), (7002, a)])
    assert [(h["id"], h["signature"]) for h in bugs["hits"]] == expected and bugs["total"] == 3
    assert site.post("Bugs", {"signatures": [b]}).json()["total"] == 2  # POST too, for long signature lists
    by_bug = site.get("SignaturesByBugs", {"bug_ids": ["7002"]}).json()
    assert by_bug == {"hits": [{"id": 7002, "signature": a}], "total": 1}
    not_digits = site.get("SignaturesByBugs", {"bug_ids": ["7002", "x7"]})
    assert not_digits.status_code == 400
    assert site.cli("bugs", "remove", "7001").returncode == 0
    assert site.get("SignaturesByBugs", {"bug_ids": ["7001"]}).json() == {"hits": [], "total": 0}


# --- Super Search -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", [None, "product", "-build_id"])
def test_supersearch_pages_by_offset_cover_every_crash_once(site: Site, sort: str | None) -> None:
    seen: list[str] = []
    for offset in range(0, len(site.crashes) + 2, 2):
        params = {"_results_number": "2", "_results_offset": str(offset), "_columns": "uuid", "_facets_size": "0"}
        if sort:
            params["_sort"] = sort
        page = site.get("SuperSearch", params).json()
        assert page["total"] == len(site.crashes)
        seen += [hit["uuid"] for hit in page["hits"]]
    assert sorted(seen) == sorted(c.crash_id for c in site.crashes)


def test_supersearch_hits_hold_every_requested_column(site: Site) -> None:
    page = site.get("SuperSearch", {"_columns": ["uuid", "install_time", "android_model", "url"]}).json()
    assert page["hits"] and all(set(hit) == {"uuid", "install_time", "android_model"} for hit in page["hits"])
    installs = {c.crash_id: int(c.annotations["InstallTime"]) for c in site.crashes}
    assert all(hit["install_time"] == installs[hit["uuid"]] for hit in page["hits"])
    assert all(hit["android_model"] is None for hit in page["hits"])  # absent: present as null
    assert page["facets"] and page["errors"] == []
    full = site.get("SuperSearch", {"_columns": ["uuid", "url"]}, token=site.tokens["full"]).json()
    assert all(set(hit) == {"uuid", "url"} for hit in full["hits"])


def test_supersearch_unredacted_needs_view_pii(site: Site) -> None:
    refused = site.get("SuperSearchUnredacted", {"_columns": "url"}, token=site.tokens["nopii"])
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "Use of this endpoint requires the 'View Personal Identifiable Information' permission"},
    )
    allowed = site.get("SuperSearchUnredacted", {"url": "~pii-url", "_columns": "url"}, token=site.tokens["full"])
    assert allowed.status_code == 200 and allowed.json()["total"] == len(site.crashes)


def test_supersearch_bad_arguments_are_400(site: Site) -> None:
    for params in ({"_results_number": "1001"}, {"date": "2024-01-01"}, {"_columns": "no_such_field"}):
        response = site.get("SuperSearch", params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["error"].startswith("Bad request: BadArgumentError: "), response.text


def test_bugs_cli_refuses_bad_ids_and_needs_a_signature_to_add(site: Site) -> None:
    for args in (("add", "0", "sig"), ("add", "x", "sig"), ("add", str(2**31), "sig"), ("add", "5")):
        refused = site.cli("bugs", *args)
        assert refused.returncode == 2, (args, refused.stdout, refused.stderr)
        assert "Traceback" not in refused.stderr
    hostile = "sig\x1b[31m\u202e"
    assert site.cli("bugs", "add", "7100", hostile).returncode == 0
    listed = site.cli("bugs", "list", "7100").stdout
    assert "\x1b" not in listed and "\u202e" not in listed and listed.startswith("7100\t")
    assert site.get("Bugs", {"signatures": [hostile]}).json()["hits"] == [{"id": 7100, "signature": hostile}]
    assert site.cli("bugs", "remove", "7100", hostile).stdout.strip() == "bug 7100: 1 association(s) removed"
