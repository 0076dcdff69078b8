"""Top crashers and the signature report on a real ``crashcart run`` holding processed crashes."""

from __future__ import annotations

import datetime as dt
from html import escape

import httpx
import pytest

from tests.web.site import HOSTILE_TEXTS, Site, product_page, shared_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return shared_site(tmp_path_factory.getbasetemp())


def _signatures(site: Site, product: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for crash in site.crashes:
        processed = site.processed(crash.crash_id) or {}
        if processed.get("product") == product:
            counts[processed["signature"]] = counts.get(processed["signature"], 0) + 1
    return counts


def test_top_crashers_lists_the_products_signatures_by_count(site: Site) -> None:
    expected = _signatures(site, "Firefox")
    page = httpx.get(f"{site.url}/topcrashers/", params={"product": "Firefox", "days": "1"}, timeout=30)
    assert page.status_code == 200, page.text
    html = page.text
    assert f"{sum(expected.values())} crashes from" in html
    top = max(expected, key=lambda s: (expected[s], s))
    assert html.index(">1 <span") < html.index(escape(top))
    for text in HOSTILE_TEXTS:
        assert text not in html
    default = httpx.get(f"{site.url}/topcrashers/", timeout=30)  # the busiest product by default
    assert default.status_code == 200 and "Top crashers for Firefox" in default.text


@pytest.mark.parametrize("params", [{"days": "5"}, {"_facets_size": "99999"}, {"product": "x" * 500}])
def test_top_crashers_refuses_bad_parameters_with_a_message(site: Site, params: dict[str, str]) -> None:
    page = httpx.get(f"{site.url}/topcrashers/", params=params, timeout=30)
    assert page.status_code == 400 and 'class="error"' in page.text


def test_signature_report_counts_and_lists_the_signatures_reports(site: Site) -> None:
    counts = _signatures(site, "Firefox")
    signature = max(counts, key=lambda s: (counts[s], s))
    page = httpx.get(f"{site.url}/signature/", params={"signature": signature}, timeout=30)
    assert page.status_code == 200, page.text
    ids = [c.crash_id for c in site.crashes if (site.processed(c.crash_id) or {}).get("signature") == signature]
    for crash_id in ids:
        assert f'href="/report/index/{crash_id}"' in page.text
    assert "First seen" in page.text
    assert "<polyline" in page.text and 'class="chart-numbers"' in page.text  # crashes per day by version
    for text in HOSTILE_TEXTS:
        assert text not in page.text
    assert httpx.get(f"{site.url}/signature/", timeout=30).status_code == 400
    assert httpx.get(f"{site.url}/signature/", params={"signature": "x", "days": "999"}, timeout=30).status_code == 400


def test_home_lists_products_and_a_product_page_charts_its_versions(site: Site) -> None:
    home = httpx.get(f"{site.url}/", timeout=30)
    assert home.status_code == 200
    for product in ("Firefox", "Thunderbird"):
        assert f'href="{product_page(product)}"' in home.text
    page = httpx.get(site.url + product_page("Firefox"), timeout=30)
    assert page.status_code == 200, page.text
    html = page.text
    assert "<svg" in html and "<polyline" in html and 'class="chart-numbers"' in html
    versions = {(site.processed(c.crash_id) or {}).get("version") for c in site.crashes}
    assert "<th>120.0</th>" in html and "120.0" in versions
    today = dt.datetime.now(dt.UTC).date().isoformat()
    firefox_today = sum(1 for c in site.crashes if (site.processed(c.crash_id) or {}).get("product") == "Firefox")
    row = html.split(f"<td>{today}</td>", 1)[1].split("</tr>", 1)[0]
    assert sum(int(n) for n in row.replace("<td>", " ").replace("</td>", " ").split()) == firefox_today
    assert httpx.get(site.url + product_page("NoSuchProduct"), timeout=30).status_code == 404


def test_signature_report_aggregates_on_the_fields_asked_public_ones_only_anonymously(site: Site) -> None:
    counts = _signatures(site, "Firefox")
    signature = max(counts, key=lambda s: (counts[s], s))
    params = [("signature", signature), ("_facets", "cpu_arch"), ("_facets", "url"), ("_facets", "nonsense")]
    page = httpx.get(f"{site.url}/signature/", params=params, timeout=30)
    assert page.status_code == 200
    captions = [c.split("</caption>")[0] for c in page.text.split("<caption>")[1:]]
    assert captions == ["cpu_arch"]  # url is protected: not offered, not aggregated; nonsense is ignored
    assert '<option value="url"' not in page.text and '<option value="cpu_arch" selected>' in page.text
    for text in HOSTILE_TEXTS:
        assert text not in page.text
