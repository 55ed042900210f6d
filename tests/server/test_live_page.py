"""The live page in a real browser: a person logs in and sees the sensors and the open alert, fed by a real
server process over loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.kit.browser import chromium
from tests.kit.server import ServerProcess
from tests.kit.waiting import wait_for

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module; each test's new_page() opens a browser context of its own."""
    with chromium() as b:
        yield b


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
    server.add_user("chief", "safety_manager", PASSWORD)
    _post_h2s(server, server.agent_token("plant-a", "gw-1"), [4.0, 14.5])

    page = browser.new_page()
    page.goto(server.url + "/live")
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
    server.add_user("chief", "safety_manager", PASSWORD)
    page = browser.new_page()
    page.goto(server.url + "/live")
    page.wait_for_selector("#login:not([hidden])", timeout=5000)
    page.fill("#username", "chief")
    page.fill("#password", "not the password")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#error:has-text('Wrong user name or password')", timeout=5000)
    assert page.is_hidden("#live")


def _signed_in(server: ServerProcess, browser, role: str = "safety_manager"):  # type: ignore[no-untyped-def]
    server.add_user("chief", role, PASSWORD)
    page = browser.new_page()
    # the desktop is the one boundary a test cannot run: record what the page asks it to show
    page.add_init_script("""
      window.__notes = [];
      window.Notification = function (title, options) { window.__notes.push(title + ": " + options.body); };
      window.Notification.permission = "granted";
      window.Notification.requestPermission = async () => "granted";
    """)
    page.goto(server.url + "/live")
    page.wait_for_selector("#login:not([hidden])", timeout=5000)
    page.fill("#username", "chief")
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#live:not([hidden])", timeout=5000)
    return page


def test_the_page_says_nobody_would_be_notified_and_when_its_connection_is_lost(server, browser, tmp_path):
    """Without a notification channel the page shows the standing warning; when the server goes away the page
    says "connection lost at ..." within 10 s and stops claiming to update."""
    page = _signed_in(server, browser)
    page.wait_for_selector("#warnings .banner:has-text('alerts reach nobody')", timeout=5000)
    assert page.is_hidden("#connection")
    page.screenshot(path=str(tmp_path / "live-warning.png"))
    server.kill()
    killed = time.monotonic()
    page.wait_for_selector("#connection:not([hidden])", timeout=10_000)
    assert time.monotonic() - killed < 10
    assert "Connection lost at" in page.inner_text("#connection")
    assert "values may be stale" in page.inner_text("#connection")
    assert page.inner_text("#cadence") == "Not updating."
    page.screenshot(path=str(tmp_path / "live-lost.png"))


def test_a_new_critical_alert_sounds_and_shows_a_desktop_notification(server, browser):
    """A safety manager's open page announces a critical alert that opens while it is open: a sound and a desktop
    notification, once; the warning that was open before it loaded is not announced."""
    token = server.agent_token("plant-a", "gw-1")
    _post_h2s(server, token, [14.5])  # a warning, open before the page loads
    page = _signed_in(server, browser)
    page.wait_for_selector("#alerts tbody tr:has-text('tank-3-gas')", timeout=5000)
    t = time.time_ns() // 1_000_000 - 1_000
    body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": 2, "sent_ms": t,
            "readings": [{"sensor": "tank-9-gas", "quantity": "h2s", "value": 60.0, "unit": "ppm", "ts": t,
                          "interval_s": None, "flags": []}]}
    r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(body),
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    # polled through page.evaluate: wait_for_function evaluates a string, which the page's CSP (no eval) forbids
    wait_for(lambda: page.evaluate("window.__notes.length") > 0, timeout=10, what="the desktop notification")
    notes = page.evaluate("window.__notes")
    assert len(notes) == 1 and "tank-9-gas" in notes[0]
    assert page.evaluate("window.hazmonAnnounced") == 1
