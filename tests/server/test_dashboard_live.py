"""The live dashboard and zone page in a real browser against a real server process: a tile turns red without a
reload when a leak reading arrives (through the /web/events stream), the banner shows when the server stops, the
tiles and the zone page show exposure so far this shift (checked against a figure computed here from the same
readings), sign-out returns to the login form, and a worker is offered no page it may not read."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.kit.browser import chromium, screenshot, sign_in
from tests.kit.server import ServerProcess

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
SHOTS = Path(os.environ.get("HAZMON_SHOTS", "/tmp/wt-dash-shots"))
_sign_in = sign_in
_shot = partial(screenshot, directory=SHOTS)
MINUTE = 60_000
H2S = [2.0 + (k % 5) * 0.5 for k in range(60)]  # an hour of one-minute means, ppm
NOISE = [84.0] * 60  # dB(A): a projected dose under the 50 % action level
H2S_OEL_EU = 5.0  # ppm, the EU 8-h IOELV (Directive 2009/161/EU)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with chromium() as b:
        yield b


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path, profile="eu")
    proc.start()
    yield proc
    proc.stop()


def _reading(sensor: str, quantity: str, value: float, unit: str, ts: int) -> dict[str, Any]:
    return {"sensor": sensor, "quantity": quantity, "value": value, "unit": unit, "ts": ts, "interval_s": 60.0,
            "flags": []}


def _ingest(server: ServerProcess, readings: list[dict[str, Any]], seq: int) -> None:
    token = server.agent_token("plant-a", "gw-1")
    body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": seq,
            "sent_ms": time.time_ns() // 1_000_000, "readings": readings}
    r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(body),
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text


def _seed(server: ServerProcess) -> int:
    """A tank farm with an H2S sensor and a noise meter: an hour of one-minute means ending a minute ago, nothing
    above an alert level. Returns the end of the hour (where the leak reading will go)."""
    now = time.time_ns() // 1_000_000
    end = now - MINUTE
    readings = [_reading("tank-3-gas", "h2s", v, "ppm", end - (len(H2S) - 1 - k) * MINUTE) for k, v in enumerate(H2S)]
    readings += [_reading("tank-3-noise", "laeq", v, "dB(A)", end - (len(NOISE) - 1 - k) * MINUTE)
                 for k, v in enumerate(NOISE)]
    _ingest(server, readings, 1)
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    for path, payload in (("/zones", {"code": "tank-farm", "name": "Tank farm", "site": "plant-a"}),
                          ("/zones/tank-farm/sensors", {"sensor": "tank-3-gas", "site": "plant-a"}),
                          ("/zones/tank-farm/sensors", {"sensor": "tank-3-noise", "site": "plant-a"}),
                          ("/zones/tank-farm/hazards", {"substance": "h2s"}),
                          ("/zones/tank-farm/hazards", {"substance": "noise", "quantity": "laeq"})):
        r = httpx.post(f"{server.url}/api/v1{path}", json=payload, headers=admin, timeout=10)
        assert r.status_code == 201, r.text
    return now


def _twa_percent(values: list[float]) -> float:
    """8-h TWA = sum(Ci x Ti) / 8 h, each one-minute mean covering its minute; as % of the OEL."""
    return sum(v * 60 for v in values) / (8 * 3600) / H2S_OEL_EU * 100


def _osha_hc_dose(levels: list[float]) -> float:
    """OSHA 1910.95 Appendix A: D = 100 x sum(C/T), T = 8 / 2^((L - 90) / 5) h, levels under 80 dB not counted."""
    return 100 * sum((1 / 60) / (8 / 2 ** ((lv - 90) / 5)) for lv in levels if lv >= 80)




def _percent(page, zone_sel: str, substance: str) -> float:  # type: ignore[no-untyped-def]
    el = page.wait_for_selector(f'{zone_sel} .exposure li[data-substance="{substance}"]', timeout=10_000)
    return float(el.get_attribute("data-percent") or "nan")


def test_a_tile_turns_red_without_a_reload_and_shows_shift_exposure(server, browser):
    """The tank-farm tile shows the H2S TWA as % of the OEL and the noise dose so far, as computed here; a leak
    reading turns it critical through the live stream, with no reload and no polling; the zone page shows the
    same exposure; on a 390 px phone nothing overflows."""
    leak_ts = _seed(server)
    page = _sign_in(server, browser, "/", viewport={"width": 1280, "height": 900})
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if r.url.endswith("/web/events") else None)
    tile = '.tile[data-zone="tank-farm"]'
    el = page.wait_for_selector(tile, timeout=5000)
    assert el.get_attribute("data-state") == "ok", el.inner_text()
    assert _percent(page, tile, "h2s") == pytest.approx(_twa_percent(H2S), abs=0.05)
    assert _percent(page, tile, "noise") == pytest.approx(_osha_hc_dose(NOISE), abs=0.05)
    _shot(page, "dashboard-before-leak")

    page.evaluate("window.__same_page = true")
    _ingest(server, [_reading("tank-3-gas", "h2s", 25.0, "ppm", leak_ts)], 2)
    page.wait_for_selector(f'{tile}[data-state="critical"]', timeout=10_000)
    assert page.evaluate("window.__same_page") is True  # no reload
    assert _percent(page, tile, "h2s") == pytest.approx(_twa_percent([*H2S, 25.0]), abs=0.05)
    assert "25" in page.inner_text(tile)
    assert page.is_hidden("#connection")
    _shot(page, "dashboard-leak")

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)  # a re-layout, not a wait for data
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _shot(page, "dashboard-leak-390")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.click(f"{tile} h2 a")
    page.wait_for_selector("#zone-live .exposure", timeout=10_000)
    assert _percent(page, "#zone-live", "h2s") == pytest.approx(_twa_percent([*H2S, 25.0]), abs=0.05)
    assert "PPE" in page.inner_text("#zone .hazards")
    _shot(page, "zone-live")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _shot(page, "zone-live-390")


def test_the_banner_shows_when_the_server_stops_and_goes_when_it_is_back(server, browser, tmp_path):
    """The live stream's loss shows the connection banner within 10 s; once the server is back the stream
    reconnects, the banner goes and the tile is current again."""
    _seed(server)
    page = _sign_in(server, browser, "/")
    page.wait_for_selector('.tile[data-zone="tank-farm"]', timeout=5000)
    server.kill()
    page.wait_for_selector("#connection:not([hidden])", timeout=10_000)
    assert "Connection lost at" in page.inner_text("#connection")
    _shot(page, "dashboard-lost-live")
    again = ServerProcess(tmp_path, port=server.port, profile="eu")
    again.start()
    try:
        page.wait_for_selector("#connection[hidden]", state="attached", timeout=15_000)
        page.wait_for_selector('.tile[data-zone="tank-farm"]', timeout=5000)
    finally:
        again.stop()


def test_sign_out_returns_to_the_login_form(server, browser):
    """Sign out ends the session: the login form shows, and stays after a reload."""
    _seed(server)
    page = _sign_in(server, browser, "/")
    page.wait_for_selector('.tile[data-zone="tank-farm"]', timeout=5000)
    assert page.is_visible("#signout button")
    page.click("#signout button")
    page.wait_for_selector("#login:not([hidden])", timeout=5000)
    assert page.is_hidden("#app") and page.is_hidden("#signout")
    page.reload()
    page.wait_for_selector("#login:not([hidden])", timeout=5000)
    assert page.is_hidden("#app")


def test_a_worker_is_offered_no_operations_page(server, browser):
    """A worker may read none of the operations pages: the nav hides them and the page says why; staff see them."""
    page = _sign_in(server, browser, "/", user="wk", role="worker")
    page.wait_for_selector("#no-access:not([hidden])", timeout=5000)
    assert "worker" in page.inner_text("#no-access")
    visible = "els => els.filter(e => e.offsetParent !== null).map(e => e.getAttribute('href'))"
    assert page.eval_on_selector_all("header.top nav a", visible) == ["/me"]  # their own file only
    assert page.is_visible("#signout button")
    staff = _sign_in(server, browser, "/", user="aud", role="auditor")
    staff.wait_for_selector("header.top nav a:visible", timeout=5000)
    # no facilities, organisation or administration link: an auditor may not follow them
    assert sorted(staff.eval_on_selector_all("header.top nav a", visible)) == [
        "/", "/alerts", "/exams", "/incident", "/live", "/workers"]
    assert staff.is_hidden("#no-access")


def test_the_live_stream_needs_a_staff_session(server):
    """/web/events answers 401 without a session and 403 to a worker; a safety manager gets an event stream."""
    assert httpx.get(server.url + "/web/events", timeout=5).status_code == 401
    for user, role, status in (("wk", "worker", 403), ("chief", "safety_manager", 200)):
        server.add_user(user, role, PASSWORD)
        login = httpx.post(f"{server.url}/api/v1/auth/login", json={"username": user, "password": PASSWORD},
                           timeout=5)
        assert login.status_code == 200, login.text
        with httpx.stream("GET", server.url + "/web/events", cookies=login.cookies, timeout=5) as r:
            assert r.status_code == status
            if status == 200:
                assert r.headers["content-type"].startswith("text/event-stream")
                assert next(r.iter_lines()).startswith("retry:")
