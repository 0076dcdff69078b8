"""Account pages on a real server: permissions shown, tokens made (only with the user's own permissions,
shown once, usable on the API), listed and revoked (only one's own); sign-in attempts limited; a private
deployment (``CRASHCART_WEB_REQUIRE_LOGIN``) shows nothing to anonymous readers."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from tests.helpers.web import WebServer, crashcart
from tests.web.site import Site, csrf_token, shared_site

PASSWORD = secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = shared_site(tmp_path_factory.getbasetemp())
    for user, permissions in (("acct-a", ("view_pii", "view_rawdump")), ("acct-b", ())):
        if user not in site.tokens:
            site.make_user(user, permissions, PASSWORD)
            site.tokens[user] = ""
    return site


def test_anonymous_readers_are_sent_to_sign_in(site: Site) -> None:
    page = httpx.get(f"{site.url}/account/", timeout=30)
    assert page.status_code == 302 and page.headers["location"] == "/login/?next=/account/"


def test_tokens_made_listed_used_and_revoked(site: Site) -> None:
    with site.signed_in("acct-a", PASSWORD) as client:
        page = client.get("/account/")
        assert page.status_code == 200
        assert "View Personal Identifiable Information" in page.text and "Upload Symbols" not in page.text
        referer = {"Referer": f"{site.url}/account/"}
        # A permission the user lacks cannot be given to a token.
        lacking = client.post(
            "/account/tokens/",
            headers=referer,
            data={"csrfmiddlewaretoken": csrf_token(page.text), "permissions": ["reprocess_crashes"]},
        )
        assert lacking.status_code == 400 and "lacks permission" in lacking.text
        made = client.post("/account/tokens/", headers=referer,
                           data={"csrfmiddlewaretoken": csrf_token(page.text), "permissions": ["view_pii"], "days": "3",
                                 "notes": "<b>ci</b>"})  # fmt: skip
        assert made.status_code == 200 and made.headers["cache-control"] == "private, no-store"
        key = made.text.split('id="new-token-key">', 1)[1].split("<", 1)[0]
        assert len(key) == 40 and "&lt;b&gt;ci&lt;/b&gt;" in made.text
        assert key not in client.get("/account/").text  # shown once
        crash_id = site.crashes[0].crash_id
        seen = site.get("ProcessedCrash", {"crash_id": crash_id}, token=key)
        assert seen.status_code == 200 and "user_comments" in seen.json()  # view_pii through the new token
        public_id = key[:8]
        refused = client.post(f"/account/tokens/{public_id}/revoke", headers=referer)
        assert refused.status_code == 403  # no CSRF token
        page = client.get("/account/")
        done = client.post(f"/account/tokens/{public_id}/revoke", headers=referer,
                           data={"csrfmiddlewaretoken": csrf_token(page.text)})  # fmt: skip
        assert done.status_code == 302
        assert site.get("ProcessedCrash", {"crash_id": crash_id}, token=key).status_code == 403
    with site.signed_in("acct-b", PASSWORD) as other:  # another user cannot revoke a's tokens
        page = other.get("/account/")
        assert public_id not in page.text
        attempt = other.post(f"/account/tokens/{public_id}/revoke", headers={"Referer": f"{site.url}/account/"},
                             data={"csrfmiddlewaretoken": csrf_token(page.text)})  # fmt: skip
        assert attempt.status_code == 404


def test_sign_in_attempts_are_limited_and_a_private_site_shows_nothing_anonymously(tmp_path: Path) -> None:
    env = {"CRASHCART_WEB_LOGIN_ATTEMPTS": "3", "CRASHCART_WEB_REQUIRE_LOGIN": "true"}
    made = crashcart("user", "create", "priv", "--password-stdin", data_dir=tmp_path, env=env, stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    with WebServer(tmp_path, env, module=None) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.get("/").status_code == 302  # to the sign-in page
        assert client.get("/topcrashers/").headers["location"].startswith("/login/")
        api = client.get("/api/SuperSearch/")
        assert api.status_code == 403 and "requires an API token" in api.json()["error"]
        form = client.get("/login/")
        assert form.status_code == 200
        statuses = []
        for _ in range(5):
            answer = client.post("/login/", data={"username": "priv", "password": "wrong",
                                                  "csrfmiddlewaretoken": csrf_token(form.text)},
                                 headers={"Referer": f"{server.url}/login/"})  # fmt: skip
            statuses.append(answer.status_code)
        assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429], statuses
        assert "Too many attempts" in answer.text and int(answer.headers["retry-after"]) > 0
