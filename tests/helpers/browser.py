"""Pages in a real browser: Debian's Chromium (``/usr/bin/chromium``) driven by Playwright, headless.

``open_browser(screenshots)`` starts one browser (a test module shares it); ``browser.tab(base_url)`` opens a
tab in a fresh context (its own cookies) and records what went wrong while it was open: console errors,
uncaught exceptions (page errors) and Content-Security-Policy violations (from the console, where Chromium
reports each, and from ``securitypolicyviolation`` events). ``tab.visit(path, name)`` loads a page and saves a
full-page screenshot as ``<screenshots>/<name>.png``; ``artefacts_dir`` says where: ``$TESTS_ARTEFACTS``
or the session's pytest basetemp.

No browser is ever downloaded (``playwright install`` is not used): without ``/usr/bin/chromium`` (``make
system`` installs it as root) or the ``playwright`` package the tests skip and say why, or fail when
``TESTS_REQUIRE_BROWSER=1`` (CI sets it: there the browser must be there, and a skip would pass unseen).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response

CHROMIUM = Path("/usr/bin/chromium")
#: Not ``CRASHCART_*``: Crashcart's settings refuse an unknown ``CRASHCART_`` variable (a typo would otherwise
#: pass unseen), and every server the tests start inherits this environment.
ARTEFACTS_ENV = "TESTS_ARTEFACTS"
REQUIRE_ENV = "TESTS_REQUIRE_BROWSER"
#: Chromium's console message for every blocked load or inline script/style/handler.
CSP_MARKER = "Content Security Policy"
#: Runs before any page script (through the DevTools protocol, so the pages' CSP does not apply to it; it adds
#: no element to the DOM): keeps the page's CSP violation events where ``Tab`` reads them.
RECORD_CSP_EVENTS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.is_file():
        return f"no system Chromium at {CHROMIUM} (Debian's chromium; `make system` installs it as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (`make setup`)"
    return None


def require_browser() -> None:
    """Skip the calling test (or fail, under ``TESTS_REQUIRE_BROWSER=1``) when the browser is missing."""
    reason = unavailable()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
    pytest.skip(reason)


def artefacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests leave files for people to look at: ``$TESTS_ARTEFACTS`` or pytest's basetemp."""
    given = os.environ.get(ARTEFACTS_ENV)
    return Path(given) if given else tmp_path_factory.getbasetemp()


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:120] or "page"


@dataclass
class Tab:
    """One page in its own browser context, with everything that went wrong in it since the last ``clear``."""

    page: Page
    base_url: str
    screenshots: Path
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.page_errors.append(f"{self.page.url}: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        source = message.location.get("url") or ""
        text = f"{self.page.url}: {message.text}" + (f" ({source})" if source and source != self.page.url else "")
        if CSP_MARKER in message.text:
            self.csp_violations.append(text)
        elif message.type == "error":
            self.console_errors.append(text)

    def visit(self, path: str, name: str) -> Response:
        """Load ``path`` (relative to the site), wait for it to load, record its CSP events, screenshot it."""
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None, path
        self.settle(name)
        return response

    def settle(self, name: str) -> Path:
        """After a navigation (a visit, a click): collect the page's CSP events and save its screenshot."""
        self.page.wait_for_load_state("load")
        events = self.page.evaluate("window.__cspViolations || []")
        self.csp_violations.extend(f"{self.page.url}: {event}" for event in events)
        self.page.evaluate("window.__cspViolations = []")
        return self.screenshot(name)

    def screenshot(self, name: str) -> Path:
        path = self.screenshots / f"{_file_name(name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def problems(self) -> list[str]:
        return [
            *(f"console error: {e}" for e in self.console_errors),
            *(f"page error: {e}" for e in self.page_errors),
            *(f"CSP violation: {e}" for e in self.csp_violations),
        ]

    def assert_clean(self) -> None:
        """No console error, uncaught exception or CSP violation since the last ``clear``."""
        problems = self.problems()
        assert not problems, "\n".join(problems)

    def clear(self) -> None:
        self.console_errors.clear()
        self.page_errors.clear()
        self.csp_violations.clear()


@dataclass
class Chromium:
    browser: Browser
    screenshots: Path

    @contextlib.contextmanager
    def tab(self, base_url: str, **context_options: Any) -> Iterator[Tab]:
        """A tab in a new context (no cookies shared with any other tab); ``context_options`` go to
        Playwright's ``new_context`` (``bypass_csp=True``, say)."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 900}, **context_options)
        try:
            context.add_init_script(RECORD_CSP_EVENTS)
            context.set_default_timeout(30_000)
            yield Tab(context.new_page(), base_url.rstrip("/"), self.screenshots)
        finally:
            context.close()


@contextlib.contextmanager
def open_browser(artefacts: Path) -> Iterator[Chromium]:
    """Headless system Chromium for the duration; screenshots go to ``<artefacts>/screenshots``.

    Call ``require_browser()`` first: this assumes the browser and Playwright are there.
    """
    from playwright.sync_api import sync_playwright

    screenshots = artefacts / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield Chromium(browser, screenshots)
        finally:
            browser.close()
