"""Browser helpers for the end-to-end tests: headless Debian Chromium driven by Playwright.

Playwright's sync API runs an event loop in the test's thread, so the Django ORM refuses to run
inside `browser_page()`: create rows before entering it and read the database after leaving it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


@contextmanager
def browser_page(timezone_id: str = "UTC", locale: str = "en-GB") -> Iterator[Page]:
    """A fresh Chromium (own context, cookies and time zone) for one test; closed afterwards."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(timezone_id=timezone_id, locale=locale)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            yield page
            context.close()
        finally:
            browser.close()


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def site(live_server) -> str:
    """The live server's root URL (a transactional database comes with it)."""
    return live_server.url
