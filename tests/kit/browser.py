"""Debian's Chromium driven by Playwright: never `playwright install`, never a download at test time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.kit.require import binary, service_missing

# A page's script without src runs inline, which the Content-Security-Policy forbids; a JSON data block
# (type="application/json", the page's translations) is never run, so it is allowed.
INLINE_SCRIPT = r'<script(?![^>]*\b(?:src=|type="application/json"))'

# Headless, and quiet on the network: no first-run pages, updates, sync or QUIC probing from the test machine.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@contextmanager
def chromium() -> Iterator[Any]:
    """A Playwright Browser on /usr/bin/chromium (or `service_missing`)."""
    exe = binary("chromium", package="chromium", candidates=("/usr/bin/chromium",))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("the playwright Python package (test extra)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=list(CHROMIUM_FLAGS))
        try:
            yield browser
        finally:
            browser.close()


def sign_in(server: Any, browser: Any, path: str, *, user: str = "chief", role: str = "safety_manager",
            password: str = "correct horse battery", **context: Any) -> Any:
    """A new browser context's page on `path`, signed in through the page's own form as a new user of `role`
    (`server`: a tests.kit.server.ServerProcess); `context` goes to new_context (viewport, is_mobile ...)."""
    server.add_user(user, role, password)
    page = browser.new_context(**context).new_page()
    page.goto(server.url + path)
    page.wait_for_selector("#login:not([hidden])", timeout=5000)
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#app:not([hidden])", timeout=5000)
    return page


def screenshot(page: Any, name: str, *, directory: Path) -> None:
    """A full-page PNG `name`.png in `directory`, to look at after the run."""
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)
