"""`/docs` in Debian's Chromium: Swagger UI from the packaged assets draws the API's operations under the
Content-Security-Policy (no inline code), with no request leaving the server (never a CDN)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.browser import chromium
from tests.kit.server import ServerProcess


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path)
    proc.start()
    yield proc
    proc.stop()


def test_docs_draw_the_operations_from_packaged_assets_under_the_csp(server: ServerProcess, tmp_path: Path) -> None:
    with chromium() as browser:
        page = browser.new_page()
        foreign: list[str] = []
        violations: list[str] = []
        page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(server.url) else None)
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{server.url}/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        operations = page.locator(".opblock").count()
        page.screenshot(path=str(tmp_path / "docs.png"))
        page.close()
    assert operations >= 50, operations
    assert foreign == [] and violations == []
