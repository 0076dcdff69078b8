"""The report page on a real ``crashcart run`` holding processed crashes with hostile protected values:
what anonymous readers, signed-in readers without ``view_pii`` and readers with it see, downloads and the
Reprocess button behind their permissions, the ``bp-`` prefix, unknown and malformed ids."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.web.site import HOSTILE_TEXTS, Site, csrf_token, shared_site

PASSWORD = secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = shared_site(tmp_path_factory.getbasetemp())
    for user, permissions in (
        ("page-full", ("view_pii", "view_rawdump", "reprocess_crashes")),
        ("page-plain", ()),
    ):
        if user not in site.tokens:
            site.make_user(user, permissions, PASSWORD)
            site.tokens[user] = ""  # made: another module sharing the site must not make it twice
    return site


@pytest.fixture(scope="module")
def full(site: Site) -> Iterator[httpx.Client]:
    with site.signed_in("page-full", PASSWORD) as client:
        yield client


@pytest.fixture(scope="module")
def plain(site: Site) -> Iterator[httpx.Client]:
    with site.signed_in("page-plain", PASSWORD) as client:
        yield client


def test_anonymous_readers_see_the_report_without_protected_values(site: Site) -> None:
    crash = site.crashes[0]
    processed = site.processed(crash.crash_id)
    assert processed is not None
    page = httpx.get(f"{site.url}/report/index/{crash.crash_id}", timeout=30)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.text
    assert crash.crash_id in html
    assert "Crashing thread" in html and "Modules (" in html
    assert f"<td>{processed['product']}</td>" in html
    for text in HOSTILE_TEXTS:
        assert text not in html, text
    assert "raw-crash.json" not in html and 'id="reprocess"' not in html and 'id="registers"' not in html


def test_signed_in_without_view_pii_sees_what_anonymous_sees(site: Site, plain: httpx.Client) -> None:
    html = plain.get(f"/report/index/{site.crashes[0].crash_id}").text
    assert "page-plain" in html  # signed in
    for text in HOSTILE_TEXTS:
        assert text not in html, text


def test_view_pii_shows_protected_annotations_downloads_and_reprocess(site: Site, full: httpx.Client) -> None:
    crash = site.crashes[0]
    html = full.get(f"/report/index/{crash.crash_id}").text
    assert "pii-comment-9c2e" in html and "pii-undeclared-e81c" in html
    assert f"/report/{crash.crash_id}/raw-crash.json" in html
    assert f"/report/{crash.crash_id}/dump/upload_file_minidump" in html
    assert 'id="reprocess"' in html
    assert 'id="registers"' in html  # the crashing thread's registers: view_pii only
    raw = full.get(f"/report/{crash.crash_id}/raw-crash.json")
    assert raw.status_code == 200 and raw.json()["Comments"] == crash.annotations["Comments"]
    dump = full.get(f"/report/{crash.crash_id}/dump/upload_file_minidump")
    assert dump.status_code == 200 and dump.content == crash.dumps["upload_file_minidump"]
    assert dump.headers["content-disposition"] == f'attachment; filename="{crash.crash_id}.dmp"'


def test_downloads_need_view_rawdump(site: Site, plain: httpx.Client) -> None:
    crash_id = site.crashes[0].crash_id
    with httpx.Client(base_url=site.url, timeout=30) as anonymous:
        for path in (f"/report/{crash_id}/raw-crash.json", f"/report/{crash_id}/dump/upload_file_minidump"):
            for client in (plain, anonymous):
                refused = client.get(path)
                assert refused.status_code == 403, path
                assert not refused.content.startswith(b"MDMP") and "pii-" not in refused.text


def test_reprocess_needs_the_permission_and_a_csrf_token(site: Site, full: httpx.Client, plain: httpx.Client) -> None:
    crash_id = site.crashes[1].crash_id
    html = full.get(f"/report/index/{crash_id}").text
    token = csrf_token(html)
    headers = {"Referer": f"{site.url}/report/index/{crash_id}"}
    assert full.post(f"/report/{crash_id}/reprocess", headers=headers).status_code == 403  # no CSRF token
    plain_html = plain.get(f"/report/index/{crash_id}").text
    plain_token = csrf_token(plain_html)
    refused = plain.post(f"/report/{crash_id}/reprocess", data={"csrfmiddlewaretoken": plain_token}, headers=headers)
    assert refused.status_code == 403
    done = full.post(f"/report/{crash_id}/reprocess", data={"csrfmiddlewaretoken": token}, headers=headers)
    assert done.status_code == 200 and "Reprocessing queued" in done.text
    site.wait_indexed([crash_id], runs=2)  # the processor really took it again


def test_bp_prefix_redirects_and_bad_ids_are_404(site: Site) -> None:
    crash_id = site.crashes[0].crash_id
    moved = httpx.get(f"{site.url}/report/index/bp-{crash_id}", timeout=30)
    assert moved.status_code == 302 and moved.headers["location"] == f"/report/index/{crash_id}"
    found = httpx.get(f"{site.url}/report/?id=bp-{crash_id}", timeout=30)
    assert found.status_code == 302 and found.headers["location"] == f"/report/index/{crash_id}"
    unknown = crash_id[:-7] + ("0" if crash_id[-7] != "0" else "1") + crash_id[-6:]
    for bad in (unknown, "not-a-crash-id", "<script>alert(1)</script>", "x" * 5000):
        page = httpx.get(f"{site.url}/report/index/{bad}", timeout=30)
        assert page.status_code == 404, bad
        assert "<script>alert" not in page.text
