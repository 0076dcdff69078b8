"""The Super Search page on a real ``crashcart run`` holding processed crashes (``tests/web/site.py``)."""

from __future__ import annotations

import re
import secrets
from collections import Counter
from html import unescape
from typing import Any

import httpx
import pytest

from tests.web.site import HOSTILE, HOSTILE_TEXTS, Site, shared_site

PASSWORD = secrets.token_urlsafe(16)
PII_USER = "search-pii"
PROTECTED = ("url", "user_comments", "remote_type", "glean_client_id")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = shared_site(tmp_path_factory.getbasetemp())
    if PII_USER not in site.tokens:
        site.make_user(PII_USER, ("view_pii",), PASSWORD)
        site.tokens[PII_USER] = ""
    return site


def search(site: Site, params: Any = None, path: str = "/search/") -> httpx.Response:
    return httpx.get(f"{site.url}{path}", params=params, timeout=30)


def processed(site: Site) -> list[dict[str, Any]]:
    return [p for c in site.crashes if (p := site.processed(c.crash_id)) is not None]


def result_ids(html: str) -> list[str]:
    table = html.split('<table class="results">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/report/index/([0-9a-f-]{36})">', table)


def facet(html: str, name: str) -> dict[str, tuple[int, str | None]]:
    """A facet table's terms: count and link (unescaped), by term."""
    table = html.split(f'<table class="facet" data-facet="{name}">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr><td>(?:<a href="([^"]*)">)?(.*?)(?:</a>)?</td><td>(\d+)</td></tr>', table)
    return {unescape(term): (int(count), unescape(href) if href else None) for href, term, count in rows}


def select_options(html: str, name: str) -> set[str]:
    select = html.split(f'<select name="{name}"', 1)[1].split("</select>", 1)[0]
    return {unescape(v) for v in re.findall(r'<option value="([^"]*)"', select)}


def follow(site: Site, href: str) -> httpx.Response:
    assert href.startswith("?"), href
    return httpx.get(f"{site.url}/search/{href}", timeout=30)


def test_without_parameters_the_form_is_empty_and_nothing_is_searched(site: Site) -> None:
    page = search(site)
    assert page.status_code == 200, page.text
    assert '<form method="get" action="/search/" class="search">' in page.text
    assert 'id="results"' not in page.text and "api-url" not in page.text
    assert '<a href="/search/">Super Search</a>' in page.text  # in the nav


def test_a_product_search_finds_exactly_its_crashes(site: Site) -> None:
    for product in ("Firefox", "Thunderbird"):
        expected = {p["uuid"] for p in processed(site) if p.get("product") == product}
        page = search(site, {"product": product, "_columns": ["uuid", "product"]})
        assert page.status_code == 200, page.text
        ids = result_ids(page.text)
        assert len(ids) == len(set(ids)) and set(ids) == expected, product
        assert f"of {len(expected)}." in page.text


def test_facet_counts_are_the_crashes_counts(site: Site) -> None:
    firefox = [p for p in processed(site) if p.get("product") == "Firefox"]
    page = search(site, {"product": "Firefox", "_facets": ["version", "release_channel", "signature"]})
    assert page.status_code == 200, page.text
    for name in ("version", "release_channel", "signature"):
        counts = {term: count for term, (count, _) in facet(page.text, name).items()}
        assert counts == dict(Counter(str(p[name]) for p in firefox)), name


def test_pages_of_two_walk_every_result_once(site: Site) -> None:
    expected = {p["uuid"] for p in processed(site)}
    seen: list[str] = []
    page = search(site, {"_results_number": "2", "_columns": "uuid"})
    for _ in range(len(expected)):
        assert page.status_code == 200, page.text
        ids = result_ids(page.text)
        assert 1 <= len(ids) <= 2
        seen += ids
        nxt = re.search(r'<a rel="next" href="([^"]*)">', page.text)
        if nxt is None:
            break
        assert "_results_number=2" in unescape(nxt[1]) and "_columns=uuid" in unescape(nxt[1])
        page = follow(site, unescape(nxt[1]))
    assert len(seen) == len(set(seen)) and set(seen) == expected
    assert '<a rel="prev"' in page.text


def test_a_facet_term_narrows_the_search(site: Site) -> None:
    page = search(site, {"_facets": ["product", "signature"], "_columns": "uuid"})
    product_terms = facet(page.text, "product")
    assert set(product_terms) >= {"Firefox", "Thunderbird"}
    count, href = product_terms["Thunderbird"]
    assert href is not None
    narrowed = follow(site, href)
    thunderbird = {p["uuid"] for p in processed(site) if p.get("product") == "Thunderbird"}
    assert set(result_ids(narrowed.text)) == thunderbird and count == len(thunderbird)
    # a text field's term links with "=": exactly that signature
    signature, (count, href) = next(iter(facet(page.text, "signature").items()))
    assert href is not None and "signature==" in href.replace("%3D", "=")
    narrowed = follow(site, href)
    assert set(result_ids(narrowed.text)) == {p["uuid"] for p in processed(site) if p["signature"] == signature}
    assert len(result_ids(narrowed.text)) == count


def test_the_api_url_shown_answers_the_same_search(site: Site) -> None:
    page = search(site, {"product": "Firefox", "version": "120.0", "_facets": "platform"})
    match = re.search(r'<p class="api-url">API: <a href="([^"]*)">', page.text)
    assert match is not None, page.text
    api_url = unescape(match[1])
    assert api_url.startswith("/api/SuperSearch/?product=Firefox&version=120.0&_facets=platform")
    answer = httpx.get(f"{site.url}{api_url}", timeout=30)
    assert answer.status_code == 200
    total = answer.json()["total"]
    expected = [p for p in processed(site) if p.get("product") == "Firefox" and p.get("version") == "120.0"]
    assert total == len(expected) > 0 and f"of {total}." in page.text


def test_a_submitted_form_redirects_to_super_searchs_query(site: Site) -> None:
    form = {
        "product": "Firefox",
        "version": "",
        "platform": "",
        "date_from": "",
        "f0_field": "signature",
        "f0_op": "!~",
        "f0_value": "no-such-thing",
        "f1_field": "",
        "f1_op": "",
        "f1_value": "",
        "_results_number": "50",
    }
    answer = search(site, form)
    assert answer.status_code == 302
    assert answer.headers["location"] == "/search/?product=Firefox&signature=%21~no-such-thing&_results_number=50"
    bad = search(site, {**form, "f0_op": ">"})
    assert bad.status_code == 400 and "filter 1: signature does not take the operator" in bad.text
    assert 'value="no-such-thing"' in bad.text  # the refused form keeps what was typed


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"build_id": "abc"}, "Bad value for parameter build_id: not a valid int"),
        ({"_columns": "nope"}, "Unknown field &#x27;nope&#x27;"),
        ({"date": [">=2020-01-01", "<2026-01-01"]}, "Date range is bigger than 365 days"),
        ({"_results_number": "101"}, "_results_number cannot be greater than 100 on this page"),
        ({"signature": "@" + "(a" * 600}, "Search query is too complex"),
        ({"f0_field": "x" * 10_000, "f0_value": "y"}, "filter 1: unknown field"),
    ],
)
def test_bad_parameters_are_a_400_with_the_message(site: Site, params: dict[str, Any], message: str) -> None:
    page = search(site, params)
    assert page.status_code == 400, page.text[:300]
    assert f'<p class="error">{message}' in page.text


def test_anonymous_readers_are_offered_no_protected_field(site: Site) -> None:
    page = search(site, {"product": "Firefox", "_columns": ["uuid", "url", "user_comments"], "_facets": "url"})
    assert page.status_code == 200, page.text
    for text in HOSTILE_TEXTS:
        assert text not in page.text
    for name in ("f0_field", "_columns", "_sort", "_facets"):
        options = select_options(page.text, name)
        assert "signature" in options or "-signature" in options
        assert not {o.lstrip("-") for o in options} & set(PROTECTED), name
    assert "<th>url</th>" not in page.text and 'data-facet="url"' not in page.text
    with site.signed_in(PII_USER, PASSWORD) as client:
        page = client.get("/search/", params={"product": "Firefox", "_columns": ["uuid", "url"], "_facets": "url"})
        assert page.status_code == 200, page.text
        assert set(PROTECTED) <= select_options(page.text, "f0_field")
        assert set(PROTECTED) <= select_options(page.text, "_columns")
        assert "<th>url</th>" in page.text and HOSTILE["URL"] in page.text
        assert HOSTILE["URL"] in facet(page.text, "url")


def test_a_keyset_page_goes_on_from_its_next_cursor(site: Site) -> None:
    first = site.get("SuperSearch", {"_results_number": "2", "_sort": "-date", "_columns": "uuid"}).json()
    params = {"_results_number": "2", "_sort": "-date", "_columns": "uuid", "_cursor": first["next_cursor"]}
    second = site.get("SuperSearch", params).json()
    page = search(site, params)
    assert page.status_code == 200, page.text
    assert result_ids(page.text) == [hit["uuid"] for hit in second["hits"]]
    nxt = re.search(r'<a rel="next" href="([^"]*)">', page.text)
    assert nxt is not None and f"_cursor={second['next_cursor']}" in unescape(nxt[1]).replace("%3D", "=")
    third = follow(site, unescape(nxt[1]))
    expected = site.get("SuperSearch", {**params, "_cursor": second["next_cursor"]}).json()
    assert result_ids(third.text) == [hit["uuid"] for hit in expected["hits"]]
