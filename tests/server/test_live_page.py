"""The live page in a real browser: a person logs in and sees the sensors and the open alert, fed by a real
server process over loopback."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "integration"))
from server_process import ServerProcess, service_missing

PASSWORD = "correct horse battery"


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        service_missing("chromium")
    return str(path)


@pytest.fixture
def browser(chromium: str):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("the playwright Python package (test extra)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path)
    proc.start()
    yield proc
    proc.stop()


def _post_h2s(server: ServerProcess, token: str, values: list[float]) -> None:
    t = time.time_ns() // 1_000_000 - 5_000
    body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": 1, "sent_ms": t,
            "readings": [{"sensor": "tank-3-gas", "quantity": "h2s", "value": v, "unit": "ppm", "ts": t + k,
                          "interval_s": None, "flags": []} for k, v in enumerate(values)]}
    r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(body),
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text


def test_logged_in_page_shows_the_sensor_and_the_open_alert(server, browser):
    """After signing in, the sensor row (in alert) and the open h2s alert appear within seconds."""
    server.cli("user", "add", "chief", "--role", "safety_manager", stdin=PASSWORD + "\n")
    _post_h2s(server, server.agent_token("plant-a", "gw-1"), [4.0, 14.5])

    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#login:not([hidden])", timeout=5000)
    assert page.is_hidden("#live")
    assert "tank-3-gas" not in page.content()  # nothing before login

    page.fill("#username", "chief")
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")

    row = page.wait_for_selector('#sensors tr[data-sensor="tank-3-gas"]', timeout=5000)
    assert "alert" in row.inner_text()
    assert "14.5" in row.inner_text()
    alert = page.wait_for_selector("#alerts tbody tr:has-text('tank-3-gas')", timeout=5000)
    assert "warning" in alert.inner_text() and "14.5 ppm" in alert.inner_text()
    assert page.inner_text("#alert-count") == "(1)"
    assert page.inner_text("#who") == "chief (safety_manager)"


def test_wrong_password_keeps_the_page_on_the_login_form(server, browser):
    """A wrong password shows an error and no data."""
    server.cli("user", "add", "chief", "--role", "safety_manager", stdin=PASSWORD + "\n")
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#login:not([hidden])", timeout=5000)
    page.fill("#username", "chief")
    page.fill("#password", "not the password")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#error:has-text('Wrong user name or password')", timeout=5000)
    assert page.is_hidden("#live")
