"""Site admin (Django's, for staff) and the generated documentation pages, on a real ``crashcart run``."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import httpx
import pytest

from crashcart.search.fields import catalogue
from tests.web.site import Site, csrf_token, shared_site

PASSWORD = secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = shared_site(tmp_path_factory.getbasetemp())
    if "admin-root" not in site.tokens:
        made = site.cli("user", "create", "admin-root", "--superuser", "--password-stdin", stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
        site.make_user("admin-plain", (), PASSWORD)
        site.tokens["admin-root"] = site.tokens["admin-plain"] = ""
    return site


@contextlib.contextmanager
def _admin_client(site: Site, user: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        form = client.get("/admin/login/")
        assert form.status_code == 200
        client.post(
            "/admin/login/",
            data={
                "username": user,
                "password": PASSWORD,
                "csrfmiddlewaretoken": csrf_token(form.text),
                "next": "/admin/",
            },
            headers={"Referer": f"{site.url}/admin/login/"},
        )
        yield client


def test_staff_manage_tokens_bugs_and_the_site_message(site: Site) -> None:
    with _admin_client(site, "admin-root") as admin:
        index = admin.get("/admin/")
        assert index.status_code == 200, index.text
        for section in ("Tokens", "Bug associations", "Site messages", "Users", "Groups"):
            assert section in index.text, section
        css = admin.get("/static/admin/css/base.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        add = admin.get("/admin/pages/sitemessage/add/")
        assert add.status_code == 200
        text = "Maintenance <b>tonight</b> at 22:00"
        saved = admin.post(
            "/admin/pages/sitemessage/add/",
            data={"text": text, "level": "warning", "active": "on", "csrfmiddlewaretoken": csrf_token(add.text)},
            headers={"Referer": f"{site.url}/admin/pages/sitemessage/add/"},
        )
        assert saved.status_code == 302, saved.text
        home = httpx.get(f"{site.url}/", timeout=30).text
        assert 'id="site-message"' in home and "Maintenance &lt;b&gt;tonight&lt;/b&gt; at 22:00" in home
        bug_add = admin.get("/admin/search/bugassociation/add/")
        made = admin.post(
            "/admin/search/bugassociation/add/",
            data={"bug_id": "424242", "signature": "admin | linked", "csrfmiddlewaretoken": csrf_token(bug_add.text)},
            headers={"Referer": f"{site.url}/admin/search/bugassociation/add/"},
        )
        assert made.status_code == 302
        bugs = site.get("Bugs", {"signatures": "admin | linked"}).json()
        assert bugs["hits"] == [{"id": 424242, "signature": "admin | linked"}], bugs
        tokens = admin.get("/admin/accounts/token/")
        assert tokens.status_code == 200 and "key_hash" not in tokens.text
        assert admin.get("/admin/accounts/token/add/").status_code == 403  # tokens are made by their users


def test_non_staff_users_and_anonymous_readers_get_no_admin(site: Site) -> None:
    assert httpx.get(f"{site.url}/admin/", timeout=30).status_code == 302
    with _admin_client(site, "admin-plain") as plain:
        page = plain.get("/admin/", follow_redirects=True)
        assert "Site administration" not in page.text


def test_data_dictionary_and_api_documentation_come_from_the_code(site: Site) -> None:
    dictionary = httpx.get(f"{site.url}/documentation/datadictionary/", timeout=30)
    assert dictionary.status_code == 200
    assert f"Super Search fields ({len(catalogue())})" in dictionary.text
    assert 'id="field-signature"' in dictionary.text and 'id="field-user_comments"' in dictionary.text
    api = httpx.get(f"{site.url}/documentation/api/", timeout=30)
    assert api.status_code == 200
    for model in ("SuperSearch", "ProcessedCrash", "RawCrash", "Reprocessing", "SignatureFirstDate"):
        assert f'id="{model}"' in api.text, model
    assert "Reprocess Crashes" in api.text and "TestEcho" not in api.text
