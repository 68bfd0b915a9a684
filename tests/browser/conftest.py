"""A real Chromium through Playwright, for every test in this folder.

MARQUEE_CHROMIUM names the browser (default /usr/bin/chromium). The tests skip only when Chromium
(or Playwright) is missing AND MARQUEE_REQUIRE_BROWSER is unset; with MARQUEE_REQUIRE_BROWSER=1 a
missing browser is a failure, so CI can't pass by skipping.
"""

import os
import shutil

import pytest
from django.db import connections

from tests.support import ROOT

CHROMIUM = os.environ.get("MARQUEE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = ROOT / "artifacts"  # screenshots, for a human to look at


def _browser_required() -> bool:
    return os.environ.get("MARQUEE_REQUIRE_BROWSER", "") not in ("", "0", "false")


@pytest.fixture(scope="session", autouse=True)
def sync_api():
    """Playwright's sync API, once Chromium is known to be there; else skip (or fail, if required).

    Autouse, so every test here checks first, before any database or live-server set-up."""
    try:
        from playwright import sync_api
    except ImportError:
        sync_api, missing = None, "the playwright package is not installed"
    else:
        missing = None if os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) else f"Chromium not found at {CHROMIUM}"
    if missing:
        if _browser_required():
            pytest.fail(f"MARQUEE_REQUIRE_BROWSER is set but {missing}")
        pytest.skip(missing)
    return sync_api


@pytest.fixture
def page(sync_api, live_server, monkeypatch):
    """A fresh page (1280x900, downloads accepted) whose console's CSP reports collect in page.csp_errors."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test body
    # are still synchronous and safe. Set for these tests only (monkeypatch undoes it): left in
    # os.environ it would leak into subprocesses such as `manage.py check --deploy`.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.csp_errors = []
        page.on(
            "console",
            lambda msg: page.csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # ORM calls made while Playwright's loop runs get their own (context-local)
            # connection; close it, or PostgreSQL refuses to drop the test database.
            connections.close_all()


@pytest.fixture
def screenshot(page):
    """screenshot("home.png", full_page=True) saves the page under artifacts/."""

    def take(name: str, **kwargs) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / name), **kwargs)

    return take
