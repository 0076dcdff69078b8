"""The pages in a real browser (headless system Chromium through Playwright) on the shared ``crashcart run``:
every page loads without a console error, an uncaught exception or a Content-Security-Policy violation and
shows what it must; a reader finds a crash from the front page and walks to its signature report and back;
a crash whose every annotation is an XSS payload renders as inert text (with the CSP enforced, and with it
bypassed, so the escaping is tested on its own); anonymous readers never get a protected value.

Screenshots of every page visited: ``<basetemp or $TESTS_ARTEFACTS>/screenshots/``.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from tests.helpers.browser import Chromium, Tab, artefacts_dir, open_browser, require_browser
from tests.web.site import (
    CRASH_PLAN,
    HOSTILE_TEXTS,
    MINIDUMPS,
    Site,
    Submitted,
    private_site,
    product_page,
    shared_site,
)

PASSWORD = secrets.token_urlsafe(16)
PII_USER = "browser-pii"

#: Payloads, each setting ``window.__xss`` if the page ever ran it.
SCRIPT = "<script>window.__xss=1</script>Prod"
IMG = '"><img src=x onerror="window.__xss=2">'
JS_URL = "javascript:window.__xss=3"
SVG = "<svg onload=window.__xss=4>"
CELL = "</td></tr><script>window.__xss=5</script>"
#: Protected annotations (shown to view_pii only), told apart from the public ones by their tails.
COMMENTS = SVG + " xss-comment-tail"
URL = CELL + " xss-url-tail"
HOSTILE_NAME = "Xss<svg onload=window.__xss=6>"


def xss_annotations() -> dict[str, str]:
    return {
        "ProductName": SCRIPT,
        "Version": IMG,
        "ReleaseChannel": JS_URL,
        "BuildID": "20231211093035",
        "CrashTime": str(int(dt.datetime.now(dt.UTC).timestamp())),
        "AbortMessage": SVG,  # public, in the summary
        "Notes": CELL,  # public, among the annotations
        # Public, and siggen makes the signature of it: "AsyncShutdownTimeout | <phase> | <conditions>".
        "AsyncShutdownTimeout": json.dumps({"phase": SVG, "conditions": [{"name": CELL}]}),
        "Comments": COMMENTS,
        "URL": URL,
        HOSTILE_NAME: IMG,  # undeclared, so protected; its name is hostile too
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    require_browser()  # before the site: without a browser there is nothing to start it for
    site = shared_site(tmp_path_factory.getbasetemp())
    if PII_USER not in site.tokens:
        site.make_user(PII_USER, ("view_pii",), PASSWORD)
        site.tokens[PII_USER] = ""  # made: another module sharing the site must not make it twice
    return site


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    require_browser()
    with open_browser(artefacts_dir(tmp_path_factory)) as browser:
        yield browser


@pytest.fixture(scope="module")
def anonymous(chromium: Chromium, site: Site) -> Iterator[Tab]:
    """One anonymous tab for the module's tests (each test starts with its problems cleared)."""
    with chromium.tab(site.url) as tab:
        yield tab


@pytest.fixture
def anon(anonymous: Tab) -> Tab:
    anonymous.clear()
    return anonymous


@pytest.fixture(scope="module")
def xss_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A site of its own holding the hostile crash: the shared site's other readers count its crashes."""
    require_browser()
    site = private_site(tmp_path_factory.getbasetemp(), "xss")
    if PII_USER not in site.tokens:
        site.make_user(PII_USER, ("view_pii",), PASSWORD)
        site.tokens[PII_USER] = ""
    return site


@pytest.fixture(scope="module")
def xss_crash(xss_site: Site) -> Submitted:
    dump = (MINIDUMPS / "linux-mini.dmp").read_bytes()
    crash = xss_site.submit(xss_annotations(), {"upload_file_minidump": dump})
    xss_site.wait_indexed([crash.crash_id])
    return crash


def signature_of(site: Site, crash_id: str) -> str:
    processed = site.processed(crash_id)
    assert processed is not None, crash_id
    return str(processed["signature"])


def assert_no_protected_values(tab: Tab) -> None:
    html = tab.page.content()
    for text in HOSTILE_TEXTS:
        assert text not in html, f"{tab.page.url} shows the protected {text!r}"


def visit_ok(tab: Tab, path: str, name: str) -> None:
    response = tab.visit(path, name)
    assert response.status == 200, f"{path}: {response.status}"


def sign_in(tab: Tab, user: str, password: str, name: str) -> None:
    """Through the /login/ form, as a person does."""
    visit_ok(tab, "/login/", f"{name}-login")
    tab.page.fill("#id_username", user)
    tab.page.fill("#id_password", password)
    with tab.page.expect_navigation():
        tab.page.click("form.login button[type=submit]")
    tab.settle(f"{name}-signed-in")
    assert tab.page.url == f"{tab.base_url}/", tab.page.url
    assert tab.page.locator("header.site .who").inner_text() == user


# --- every page -------------------------------------------------------------------------------------------


def test_every_page_loads_cleanly_and_shows_what_it_must(site: Site, anon: Tab) -> None:
    page = anon.page
    visit_ok(anon, "/", "home")
    assert page.locator("h1").inner_text() == "Crash Stats"
    assert page.locator("input#crash-id").is_visible()
    assert_no_protected_values(anon)

    crashes = [c for c in site.crashes if site.processed(c.crash_id) is not None]
    assert len(crashes) >= len(CRASH_PLAN)
    for crash in crashes:
        visit_ok(anon, f"/report/index/{crash.crash_id}", f"report-{crash.crash_id}")
        assert page.locator("h1#signature").inner_text() == signature_of(site, crash.crash_id), crash.crash_id
        assert page.locator("#frames table.frames tbody tr").count() > 0, f"{crash.crash_id}: no frames"
        assert page.locator("#modules table.modules tbody tr").count() > 0, f"{crash.crash_id}: no modules"
        assert_no_protected_values(anon)

    visit_ok(anon, "/topcrashers/?product=Firefox&days=1", "topcrashers-firefox")
    assert page.locator("h1").inner_text() == "Top crashers for Firefox"
    assert page.locator("select[name=product] option[selected]").inner_text() == "Firefox"
    firefox = [c for c in crashes if (site.processed(c.crash_id) or {}).get("product") == "Firefox"]
    assert page.locator("p.note").inner_text().startswith(f"{len(firefox)} crashes from")
    ranked = page.locator("table.topcrashers td.signature a").all_inner_texts()
    assert ranked and set(ranked) == {signature_of(site, c.crash_id) for c in firefox}
    assert_no_protected_values(anon)

    signature = signature_of(site, site.crashes[0].crash_id)
    visit_ok(anon, f"/signature/?signature={quote(signature)}", "signature-report")
    assert page.locator("h1.signature").inner_text() == signature
    assert page.locator(f'table.reports a[href="/report/index/{site.crashes[0].crash_id}"]').count() == 1
    assert_no_protected_values(anon)

    visit_ok(anon, product_page("Firefox"), "product-firefox")
    assert page.locator("h1").inner_text() == "Firefox"
    assert page.locator("figure.chart svg polyline").count() > 0
    listed = page.locator("table.signatures td.signature a").all_inner_texts()
    assert set(listed) == {signature_of(site, c.crash_id) for c in firefox}
    assert_no_protected_values(anon)

    visit_ok(anon, "/login/", "login")
    assert page.locator("#id_username").is_visible() and page.locator("#id_password").is_visible()
    assert_no_protected_values(anon)

    anon.assert_clean()


def test_a_crash_found_from_home_then_its_signature_report_and_back(site: Site, anon: Tab) -> None:
    crash_id = site.crashes[0].crash_id
    signature = signature_of(site, crash_id)
    page = anon.page
    visit_ok(anon, "/", "flow-home")
    page.fill("#crash-id", f"bp-{crash_id}")
    with page.expect_navigation():
        page.click("form.find button[type=submit]")
    anon.settle("flow-report")
    assert page.url == f"{site.url}/report/index/{crash_id}"
    assert page.locator("h1#signature").inner_text() == signature

    with page.expect_navigation():
        page.get_by_role("link", name="signature report").click()
    anon.settle("flow-signature")
    assert page.url.startswith(f"{site.url}/signature/?signature=")
    assert page.locator("h1.signature").inner_text() == signature
    link = page.locator(f'table.reports a[href="/report/index/{crash_id}"]')
    assert link.inner_text() == crash_id

    with page.expect_navigation():
        link.click()
    anon.settle("flow-report-again")
    assert page.url == f"{site.url}/report/index/{crash_id}"
    assert page.locator("h1#signature").inner_text() == signature
    assert_no_protected_values(anon)
    anon.assert_clean()


# --- XSS ----------------------------------------------------------------------------------------------------


def assert_inert(tab: Tab, where: str) -> None:
    """Nothing of the payloads became markup or ran."""
    page = tab.page
    assert page.evaluate("window.__xss") is None, f"{where}: a payload ran"
    assert page.locator("script").count() == 0, f"{where}: a <script> element (the pages have none)"
    assert page.locator('img[src="x"]').count() == 0, f"{where}: the payload's <img>"
    assert page.locator("svg[onload], svg:not(figure.chart svg)").count() == 0, f"{where}: the payload's <svg>"
    assert page.locator("[onload], [onerror]").count() == 0, f"{where}: an event handler attribute"
    assert page.locator('a[href^="javascript:" i]').count() == 0, f"{where}: a javascript: link"


@pytest.mark.parametrize("enforce_csp", [True, False], ids=["csp", "no-csp"])
@pytest.mark.parametrize("reader", ["anonymous", "view_pii"])
def test_annotations_holding_xss_payloads_render_as_text(
    xss_site: Site, chromium: Chromium, xss_crash: Submitted, reader: str, enforce_csp: bool
) -> None:
    site = xss_site
    crash_id = xss_crash.crash_id
    signature = signature_of(site, crash_id)
    assert SVG in signature and CELL in signature, signature  # the signature is hostile too
    name = f"xss-{reader}-{'csp' if enforce_csp else 'nocsp'}"
    with chromium.tab(site.url, bypass_csp=not enforce_csp) as tab:
        if reader == "view_pii":
            sign_in(tab, PII_USER, PASSWORD, name)
            visit_ok(tab, "/account/", f"{name}-account")
            assert tab.page.locator("h1").inner_text() == PII_USER
            assert "view_pii" in tab.page.locator("#permissions").inner_text()

        visit_ok(tab, "/", f"{name}-home")  # the product is listed, its link leads to its page
        assert_inert(tab, "home")
        with tab.page.expect_navigation():
            tab.page.locator("ul.products a", has_text=SCRIPT).first.click()
        tab.settle(f"{name}-product")
        assert_inert(tab, "product page")
        assert tab.page.locator("h1").inner_text() == SCRIPT
        assert tab.page.locator("table.signatures td.signature a").all_inner_texts() == [signature]
        if reader == "anonymous":
            assert_no_protected_values(tab)

        visit_ok(tab, f"/report/index/{crash_id}", f"{name}-report")
        assert_inert(tab, "report")
        assert tab.page.locator("h1#signature").inner_text() == signature
        text = tab.page.locator("main").inner_text()
        for payload in (SCRIPT, IMG, JS_URL, SVG, CELL):
            assert payload in text, f"{payload!r} is not shown as text"
        for protected in (COMMENTS, URL, HOSTILE_NAME):
            assert (protected in text) is (reader == "view_pii"), protected
        if reader == "anonymous":
            assert_no_protected_values(tab)

        visit_ok(tab, f"/topcrashers/?product={quote(SCRIPT, safe='')}&days=1", f"{name}-topcrashers")
        assert_inert(tab, "top crashers")
        assert tab.page.locator("h1").inner_text() == f"Top crashers for {SCRIPT}"
        if reader == "anonymous":
            assert_no_protected_values(tab)

        visit_ok(tab, f"/signature/?signature={quote(signature, safe='')}", f"{name}-signature")
        assert_inert(tab, "signature report")
        assert tab.page.locator("h1.signature").inner_text() == signature
        row = tab.page.locator("table.reports tbody tr", has=tab.page.locator(f'a[href="/report/index/{crash_id}"]'))
        assert row.locator("td").nth(2).inner_text() == SCRIPT and row.locator("td").nth(3).inner_text() == IMG
        if reader == "anonymous":
            assert_no_protected_values(tab)

        query = f"product={quote(SCRIPT, safe='')}&_columns=uuid&_columns=signature&_columns=version&_columns=url"
        visit_ok(tab, f"/search/?{query}&_facets=signature&_facets=release_channel&_facets=url", f"{name}-search")
        assert_inert(tab, "super search")
        cells = tab.page.locator("table.results tbody tr td").all_inner_texts()
        assert cells[:3] == [crash_id, signature, IMG]
        assert (URL in cells) is (reader == "view_pii")
        assert tab.page.locator("table.facet[data-facet=release_channel] a").inner_text() == JS_URL
        if reader == "anonymous":
            assert_no_protected_values(tab)

        tab.assert_clean()


# --- Super Search -----------------------------------------------------------------------------------------


def test_super_search_form_results_and_a_facet_term(site: Site, anon: Tab) -> None:
    page = anon.page
    visit_ok(anon, "/search/", "search-form")
    assert page.locator("h1").inner_text() == "Super Search"
    page.select_option("select[name=product]", ["Firefox"])
    page.select_option("select[name=_facets]", ["signature", "version"])
    page.select_option("select[name=_results_number]", "10")
    page.select_option("select[name=f0_field]", "build_id")
    page.select_option("select[name=f0_op]", ">=")
    page.fill("input[name=f0_value]", "20231211093035")
    with page.expect_navigation():
        page.click("form.search button[type=submit]")
    anon.settle("search-results")
    assert page.url.startswith(f"{site.url}/search/?product=Firefox&build_id=%3E%3D20231211093035"), page.url
    firefox = [p for c in site.crashes if (p := site.processed(c.crash_id) or {}).get("product") == "Firefox"]
    shown = page.locator("table.results tbody tr")
    assert shown.count() == min(10, len(firefox))
    assert page.locator("p.api-url a").get_attribute("href") == page.url.removeprefix(site.url).replace(
        "/search/", "/api/SuperSearch/", 1
    )
    # the form shows the search back: the extra filter is a row of its own, its operator among build_id's
    assert page.locator("select[name=f0_field]").input_value() == "build_id"
    assert page.locator("select[name=f0_op]").input_value() == ">="
    assert "contains" not in page.locator("select[name=f0_op]").inner_text()
    assert_no_protected_values(anon)

    versions = Counter(str(p["version"]) for p in firefox)
    version, count = versions.most_common(1)[0]
    with page.expect_navigation():
        page.locator("table.facet[data-facet=version] a", has_text=version).first.click()
    anon.settle("search-facet-term")
    assert page.locator("table.results tbody tr").count() == min(10, count)
    headers = page.locator("table.results thead th").all_inner_texts()
    assert headers == ["uuid", "date", "signature", "product", "version"]  # the default columns, in their order
    cells = page.locator("table.results tbody tr td:nth-child(5)").all_inner_texts()
    assert cells and set(cells) == {version}
    assert page.locator("select[name=version]").count() == 0  # (a text input)
    assert page.locator("input[name=version]").input_value() == version
    assert_no_protected_values(anon)
    anon.assert_clean()
