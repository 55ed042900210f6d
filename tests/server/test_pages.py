"""The operations pages in a real browser (Debian's Chromium), walked as a safety manager against a real server
process: the dashboard tile of a zone with a gas leak, the zone's trend chart, the alert inbox's filters, and the
alert page acknowledged and resolved with a note on a phone-sized screen."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.kit.browser import chromium, screenshot, sign_in
from tests.kit.server import ServerProcess

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
SHOTS = Path(os.environ.get("HAZMON_SHOTS", "/tmp/wt14-shots"))
_sign_in = sign_in
_shot = partial(screenshot, directory=SHOTS)


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path)
    proc.start()
    yield proc
    proc.stop()


def _seed(server: ServerProcess) -> int:
    """A tank farm measured by an H2S sensor: an hour of readings that ends in a leak (25 ppm, a critical alert);
    returns the alert's id."""
    token = server.agent_token("plant-a", "gw-1")
    now = time.time_ns() // 1_000_000
    values = [2.0 + (k % 5) * 0.5 for k in range(60)] + [25.0]
    readings = [{"sensor": "tank-3-gas", "quantity": "h2s", "value": v, "unit": "ppm",
                 "ts": now - (len(values) - k) * 60_000 + 30_000, "interval_s": None, "flags": []}
                for k, v in enumerate(values)]
    body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": 1, "sent_ms": now,
            "readings": readings}
    r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(body),
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    for path, payload in (("/zones", {"code": "tank-farm", "name": "Tank farm", "site": "plant-a"}),
                          ("/zones/tank-farm/sensors", {"sensor": "tank-3-gas", "site": "plant-a"}),
                          ("/zones/tank-farm/hazards", {"substance": "h2s"})):
        r = httpx.post(f"{server.url}/api/v1{path}", json=payload, headers=admin, timeout=10)
        assert r.status_code == 201, r.text
    [alert] = server.get("/alerts", state="active")
    assert alert["severity"] == "critical"
    return int(alert["id"])




def test_safety_manager_walks_dashboard_zone_and_inbox(server, browser):
    """The dashboard's tank-farm tile is critical with its live H2S value against its levels; the zone page draws a
    uPlot trend for 1 h and 7 d; the inbox filters by severity and kind."""
    _seed(server)
    page = _sign_in(server, browser, "/", viewport={"width": 1280, "height": 900})
    tile = page.wait_for_selector('.tile[data-zone="tank-farm"]', timeout=5000)
    assert tile.get_attribute("data-state") == "critical"
    text = tile.inner_text()
    assert "Tank farm" in text and "tank-3-gas" in text and "25" in text and "ppm" in text
    assert "action 10 · limit 20 ppm" in text and "h2s" in text
    assert page.is_hidden("#connection")
    _shot(page, "dashboard")

    page.click('.tile[data-zone="tank-farm"] h2 a')
    page.wait_for_selector('figure.chart[data-drawn] canvas', timeout=20_000)  # a loaded machine
    assert int(page.get_attribute("figure.chart", "data-drawn") or 0) > 30  # an hour of one-minute means
    assert "Declared hazards" in page.inner_text("#zone") and "h2s" in page.inner_text(".hazards")
    _shot(page, "zone-1h")
    page.click('button[data-range="604800000"]')
    page.wait_for_function("document.querySelector('button[data-range=\"604800000\"]')"
                           ".getAttribute('aria-pressed') === 'true'")
    page.wait_for_selector("figure.chart .chart-note:has-text('-min means')", timeout=10_000)
    assert "17-min means" in page.inner_text("figure.chart .chart-note")
    _shot(page, "zone-7d")

    page.goto(server.url + "/alerts")
    page.wait_for_selector("#inbox .alert-card", timeout=5000)
    assert page.get_attribute("#inbox .count", "data-count") == "1"
    page.select_option("select[name=kind]", "watchdog")
    page.wait_for_selector("#inbox .count[data-count='0']", timeout=5000)
    page.select_option("select[name=kind]", "")
    page.select_option("select[name=severity]", "critical")
    page.wait_for_selector("#inbox .count[data-count='1']", timeout=5000)
    page.select_option("select[name=severity]", "emergency")
    page.wait_for_selector("#inbox .count[data-count='0']", timeout=5000)
    page.select_option("select[name=severity]", "")
    page.wait_for_selector("#inbox .count[data-count='1']", timeout=5000)
    _shot(page, "inbox")


def test_critical_alert_is_acknowledged_and_resolved_on_a_phone(server, browser):
    """On a 390x844 screen the critical alert page shows its chart and its buttons without sideways scrolling;
    acknowledging with a note and resolving with a reason are recorded under the user's name."""
    alert_id = _seed(server)
    page = _sign_in(server, browser, f"/alerts/{alert_id}", viewport={"width": 390, "height": 844},
                    is_mobile=True, has_touch=True)
    page.wait_for_selector("#acknowledge", timeout=5000)
    page.wait_for_selector("#alert-chart canvas", timeout=10_000)
    assert "CRITICAL" in page.inner_text(".alert-head .sev").upper()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert page.locator("#acknowledge").bounding_box()["y"] < 844  # the button is on the first screen
    # what to do first, then the chart, then the record
    assert page.locator("#alert-chart").bounding_box()["y"] < page.locator(".evidence").bounding_box()["y"]
    _shot(page, "alert-phone")

    page.fill("#ack-note", "evacuated, gas team on the way")
    page.click("#acknowledge")
    page.wait_for_selector(".alert-head[data-state='acknowledged']", timeout=5000)
    assert "by chief" in page.inner_text(".evidence") and "gas team" in page.inner_text(".evidence")
    assert page.query_selector("#acknowledge") is None  # acknowledged once: only resolve is left
    page.fill("#resolve-note", "valve replaced, reading back to 1 ppm")
    page.click("#resolve")
    page.wait_for_selector(".alert-head[data-state='resolved']", timeout=5000)
    assert "valve replaced" in page.inner_text(".evidence")
    timeline = page.inner_text(".timeline")
    assert "acknowledged · chief" in timeline and "resolved · chief" in timeline
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    _shot(page, "alert-phone-resolved")
    a = server.get(f"/alerts/{alert_id}")
    assert a["acknowledged_by"] == "chief" and a["resolved_by"] == "chief"


def test_the_dashboard_says_when_its_connection_is_lost(server, browser):
    """When the server goes away, the dashboard says "connection lost at ..." within 10 s."""
    _seed(server)
    page = _sign_in(server, browser, "/")
    page.wait_for_selector('.tile[data-zone="tank-farm"]', timeout=5000)
    server.kill()
    killed = time.monotonic()
    page.wait_for_selector("#connection:not([hidden])", timeout=10_000)
    assert time.monotonic() - killed < 10
    assert "Connection lost at" in page.inner_text("#connection")
    assert page.inner_text("#cadence") == "Not updating."
    _shot(page, "dashboard-lost")


def test_pages_are_shells_and_their_parts_need_a_sign_in(server):
    """Each page is served without data; its partials and the trend answer 401 without a session."""
    for path in ("/", "/live", "/zones/tank-farm", "/alerts", "/alerts/1", "/incident"):
        r = httpx.get(server.url + path, timeout=5)
        assert r.status_code == 200 and "<script>" not in r.text and " style=" not in r.text
    for path in ("/web/partials/dashboard", "/web/partials/zones/tank-farm", "/web/partials/alerts",
                 "/web/partials/alerts/1"):
        assert httpx.get(server.url + path, timeout=5).status_code == 401
    assert httpx.get(server.url + "/static/vendor/uPlot.iife.min.js", timeout=5).status_code == 200


def test_a_role_that_may_not_acknowledge_sees_no_buttons(server):
    """Facilities may read the alert page but not act: no acknowledge or resolve form, a line that says so."""
    alert_id = _seed(server)
    server.add_user("fac", "facilities", PASSWORD)
    login = httpx.post(f"{server.url}/api/v1/auth/login", json={"username": "fac", "password": PASSWORD}, timeout=5)
    assert login.status_code == 200, login.text
    part = httpx.get(f"{server.url}/web/partials/alerts/{alert_id}", cookies=login.cookies, timeout=5)
    assert part.status_code == 200
    assert 'id="acknowledge"' not in part.text and 'id="resolve"' not in part.text
    assert "Your role may not acknowledge or resolve alerts." in part.text
