"""The zone notice board in a real browser (Debian's Chromium) against a real server process: an admin makes a
kiosk link through the API, a fresh browser without any sign-in opens the board and sees the zone's live level
against its limits and its hazards; after the link is revoked the open board's next refresh and the same address
show the refusal page."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.kit.browser import chromium, screenshot
from tests.kit.server import ServerProcess

pytestmark = pytest.mark.slow

SHOTS = Path(os.environ.get("HAZMON_SHOTS", "/tmp/wt-board-shots"))
_shot = partial(screenshot, directory=SHOTS)


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path, emergency_dir=str(Path(__file__).resolve().parents[2] / "config" / "emergency"))
    proc.start()
    yield proc
    proc.stop()


def _seed(server: ServerProcess) -> tuple[dict[str, str], str]:
    """A tank farm with an H2S sensor whose last reading is 25 ppm (above the limit), and a shift pattern whose
    shift holds the readings; returns admin headers and the shift's start."""
    token = server.agent_token("plant-a", "gw-1")
    now = time.time_ns() // 1_000_000
    values = [2.0 + (k % 5) * 0.5 for k in range(30)] + [25.0]
    readings = [{"sensor": "tank-3-gas", "quantity": "h2s", "value": v, "unit": "ppm",
                 "ts": now - (len(values) - k) * 60_000 + 30_000, "interval_s": None, "flags": []}
                for k, v in enumerate(values)]
    body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": 1, "sent_ms": now,
            "readings": readings}
    r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(body),
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    start = time.strftime("%H:00", time.gmtime(now / 1000 - 3600))  # a shift that holds the last half hour
    for path, payload in (("/shift-patterns", {"code": "early", "start": start, "hours": 8}),
                          ("/zones", {"code": "tank-farm", "name": "Tank farm", "site": "plant-a"}),
                          ("/zones/tank-farm/sensors", {"sensor": "tank-3-gas", "site": "plant-a"}),
                          ("/zones/tank-farm/hazards", {"substance": "h2s"})):
        r = httpx.post(f"{server.url}/api/v1{path}", json=payload, headers=admin, timeout=10)
        assert r.status_code == 201, r.text
    return admin, start



def test_a_kiosk_link_opens_the_board_without_sign_in_until_revoked(server, browser):
    """The board shows the live 25 ppm against action 10 and limit 20, the hazard with its health effects in both
    languages and the day's results, with no sign-in form; revoked, the same link shows the refusal page."""
    admin, start = _seed(server)
    r = httpx.post(f"{server.url}/api/v1/zones/tank-farm/board-links", json={"label": "hall screen"},
                   headers=admin, timeout=10)
    assert r.status_code == 201, r.text
    link = r.json()

    kiosk = browser.new_context(viewport={"width": 1600, "height": 900})
    page = kiosk.new_page()
    page.goto(link["url"])
    level = page.wait_for_selector(".level.st-critical", timeout=5000)
    text = level.inner_text()
    assert "25" in text and "ppm" in text and "action 10" in text and "limit 20" in text
    hazards = page.inner_text(".board-hazards")
    assert "Hydrogen sulfide" in hazards and "硫化氢" in hazards and "Health effects" in hazards
    page.wait_for_selector(".board-results table", timeout=20_000)
    tables = page.query_selector_all(".board-results table")
    assert len(tables) == 2 and all("h2s" in t.inner_text() for t in tables)  # per shift and per day
    assert f"early {start}" in tables[0].inner_text()
    emergency = page.inner_text(".board-emergency")
    assert "Toxic gas release (H2S)" in emergency and "Sound the alarm" in emergency and "emergency-team" in emergency
    assert "Oxygen-deficient" not in emergency  # a plan for a quantity the zone neither measures nor declares
    assert page.query_selector("#login") is None and "Zhang Wei" not in page.content()  # the plan's roster
    page.wait_for_function("document.fonts.check('16px \"Hazmon CJK\"', '硫化氢')", timeout=10_000)
    _shot(page, "board-kiosk")

    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.goto(link["url"])
    phone.wait_for_selector(".board-results table", timeout=20_000)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(phone, "board-phone")

    r = httpx.delete(f"{server.url}/api/v1/zones/tank-farm/board-links/{link['id']}", headers=admin, timeout=10)
    assert r.status_code == 200, r.text
    page.evaluate("url => htmx.ajax('GET', url, {target: '#live'})", f"/board/tank-farm/live?k={link['token']}")
    page.wait_for_selector("#live .refusal", timeout=5000)  # the open board's next refresh shows the refusal
    assert page.query_selector("#live .level") is None
    response = page.goto(link["url"])
    assert response is not None and response.status == 403
    page.wait_for_selector(".refusal", timeout=5000)
    assert "not valid, or it has been revoked" in page.inner_text(".refusal")
    assert page.query_selector(".level") is None
    _shot(page, "board-refused")
    kiosk.close()
