"""What the browser test modules share: finding Chromium, launching it, tabs that collect errors.

Without Playwright or Chromium a browser module is skipped, except when the CI
environment variable is set: there a missing browser is a failure, so CI can never
pass by silently skipping.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
IN_CI = bool(os.environ.get("CI"))

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright

    __all__ = ["expect", "require_browser", "Tab", "CHROMIUM", "IN_CI"]
except ImportError:  # pragma: no cover - depends on the environment
    PLAYWRIGHT_MISSING = "playwright is not installed (pip install playwright)"
else:
    PLAYWRIGHT_MISSING = None


def require_browser(what: str, also_missing: str | None = None) -> str | None:
    """Skip the calling module when the browser is missing (fail in CI); return what is missing."""
    missing = PLAYWRIGHT_MISSING
    if not missing and not Path(CHROMIUM).is_file():
        missing = f"chromium not found (looked for 'chromium' on PATH and {CHROMIUM})"
    missing = missing or also_missing
    if missing and not IN_CI:
        pytest.skip(f"{what} need a browser: {missing}", allow_module_level=True)
    return missing


def launch(missing: str | None, what: str):
    """The body of a module-scoped `browser` fixture: one Chromium for the whole module."""
    if missing:  # only reached with CI set: fail loudly instead of skipping
        pytest.fail(f"CI is set but the {what} cannot run: {missing}", pytrace=False)
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except PlaywrightError as error:  # pragma: no cover - depends on the environment
            reason = f"chromium at {CHROMIUM} did not start: {error}"
            if IN_CI:
                pytest.fail(reason, pytrace=False)
            pytest.skip(reason)
        yield launched
        launched.close()


class Tab:
    """A browser context with one page, collecting console errors and uncaught exceptions."""

    def __init__(self, browser, **options):
        self.context = browser.new_context(**options)
        self.errors: list[str] = []
        self.expected = []  # predicates on console messages that are not the page's fault
        self.page = self.new_page()

    def new_page(self):
        page = self.context.new_page()

        def console(message):
            if message.type == "error" and not any(expected(message) for expected in self.expected):
                self.errors.append(f"console error on {page.url}: {message.text} ({message.location})")

        page.on("console", console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught exception on {page.url}: {error}"))
        return page


@pytest.fixture(scope="module")
def browser(request):
    """One Chromium for the whole module; the module names what is missing in MISSING."""
    yield from launch(request.module.MISSING, "browser tests")


@pytest.fixture
def open_tab(browser):
    """open_tab(**context_options) -> Tab; at the end, no page may have logged an error."""
    yield from tabs(browser)


def tabs(browser):
    """Tabs that collect errors, for the open_tab fixture."""
    opened: list[Tab] = []

    def make(**options) -> Tab:
        opened.append(Tab(browser, **options))
        return opened[-1]

    yield make
    errors = [error for tab in opened for error in tab.errors]
    for tab in opened:
        tab.context.close()
    assert not errors, "the page logged errors (CSP violations included):\n" + "\n".join(errors)
