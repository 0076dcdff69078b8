"""The README's screenshots: the pages of real crashes POSTed to a real ``crashcart run``, in headless Chromium.

It starts the same site the page tests use (``tests.web.site.shared_site``: ``crashcart run`` on embedded
backends, the fixture minidumps posted with annotations and processed), signs nobody in (what anonymous
readers see), and saves the report view, top crashers, a signature report and a product page as PNG.

usage: .venv/bin/python -m devtools.screenshots [OUT_DIR]   (default docs/images; needs /usr/bin/chromium)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from devtools.shared import REPO
from tests.helpers.browser import open_browser, require_browser
from tests.web.site import shared_site, stop_shared_sites


def main(out: Path) -> None:
    require_browser()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crashcart-screenshots-") as tmp:
        site = shared_site(Path(tmp))
        try:
            with open_browser(Path(tmp)) as browser, browser.tab(site.url) as tab:
                crash = site.crashes[1]
                processed = site.processed(crash.crash_id) or {}
                pages = {
                    "report-view": f"/report/index/{crash.crash_id}",
                    "top-crashers": "/topcrashers/?product=Firefox&days=1",
                    "signature-report": f"/signature/?signature={quote(str(processed.get('signature', '')))}",
                    "product-home": "/home/product/Firefox",
                }
                for name, path in pages.items():
                    tab.page.set_viewport_size({"width": 1280, "height": 900})
                    tab.page.goto(site.url + path, wait_until="load")
                    tab.page.screenshot(path=str(out / f"{name}.png"), full_page=False)
                    print(out / f"{name}.png")
        finally:
            stop_shared_sites()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "images")
