"""In a real browser: the documentation pages, the account page's token form (a token made, shown once,
revoked) and the site admin load without console errors or Content-Security-Policy violations."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.helpers.browser import Chromium, Tab, artefacts_dir, open_browser, require_browser
from tests.web.site import Site, shared_site

PASSWORD = secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    require_browser()
    site = shared_site(tmp_path_factory.getbasetemp())
    if "browser-admin" not in site.tokens:
        made = site.cli("user", "create", "browser-admin", "--superuser", "--password-stdin", stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
        site.tokens["browser-admin"] = ""
    return site


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Iterator[Chromium]:
    with open_browser(artefacts_dir(tmp_path_factory)) as chromium:
        yield chromium


def _sign_in(tab: Tab, path: str, name: str) -> None:
    tab.visit(path, name)
    tab.page.fill("#id_username", "browser-admin")
    tab.page.fill("#id_password", PASSWORD)
    with tab.page.expect_navigation():
        tab.page.locator("input[type=submit], button[type=submit]").last.click()
    tab.settle(f"{name}-signed-in")


def test_documentation_pages(site: Site, browser: Chromium) -> None:
    with browser.tab(site.url) as tab:
        for path, name, heading in (
            ("/documentation/datadictionary/", "data-dictionary", "Data dictionary"),
            ("/documentation/api/", "api-documentation", "API"),
        ):
            assert tab.visit(path, name).status == 200
            assert tab.page.locator("h1").inner_text() == heading
        assert tab.page.locator("section.api-model").count() >= 10
        tab.assert_clean()


def test_the_token_page_makes_shows_once_and_revokes_a_token(site: Site, browser: Chromium) -> None:
    with browser.tab(site.url) as tab:
        _sign_in(tab, "/login/?next=/account/", "account")
        assert tab.page.url.endswith("/account/"), tab.page.url
        tab.page.check("input[name=permissions][value=view_pii]")
        tab.page.fill("input[name=notes]", "from the browser")
        with tab.page.expect_navigation():
            tab.page.click("#create-token")
        tab.settle("account-token-made")
        key = tab.page.locator("#new-token-key").inner_text().strip()
        assert len(key) == 40
        assert site.get("ProcessedCrash", {"crash_id": site.crashes[0].crash_id}, token=key).status_code == 200
        row = tab.page.locator("table.tokens tr", has_text=key[:8])
        with tab.page.expect_navigation():
            row.locator("button", has_text="Revoke").click()
        tab.settle("account-token-revoked")
        assert "revoked" in tab.page.locator("table.tokens tr", has_text=key[:8]).inner_text()
        assert key not in tab.page.content()
        assert site.get("ProcessedCrash", {"crash_id": site.crashes[0].crash_id}, token=key).status_code == 403
        tab.assert_clean()


def test_site_admin_pages(site: Site, browser: Chromium) -> None:
    with browser.tab(site.url) as tab:
        _sign_in(tab, "/admin/login/?next=/admin/", "admin")
        assert "Site administration" in tab.page.content()
        for path, name in (
            ("/admin/accounts/token/", "admin-tokens"),
            ("/admin/search/bugassociation/add/", "admin-bug-add"),
            ("/admin/pages/sitemessage/add/", "admin-site-message-add"),
            ("/admin/auth/user/", "admin-users"),
        ):
            assert tab.visit(path, name).status == 200, path
        tab.assert_clean()
