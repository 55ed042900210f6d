"""Debian's Chromium driven by Playwright: never `playwright install`, never a download at test time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.kit.require import binary, service_missing

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
