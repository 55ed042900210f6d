"""The facilities pages in a real browser (Debian's Chromium) against a real server process: a facilities user
sees a silent sensor marked silent and an overdue calibration marked overdue (seeded through the calibration API),
opens the sensor's page with its recent raw readings and flags; a worker and a record-keeper are refused the
partials."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.kit.browser import chromium, screenshot, sign_in
from tests.kit.server import ServerProcess

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
SHOTS = Path(os.environ.get("HAZMON_SHOTS", "/tmp/wt-fac-shots"))
_sign_in = partial(sign_in, user="fac", role="facilities")
_shot = partial(screenshot, directory=SHOTS)
PARTIALS = ("/web/partials/agents", "/web/partials/sensors", "/web/partials/calibration", "/web/partials/rules",
            "/web/partials/sensors/plant-a/tank-3-gas")


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


def _seed(server: ServerProcess) -> None:
    """tank-3-gas reports every minute up to now (one reading flagged `warmup`); old-noise last spoke 30 minutes
    ago (silent). tank-3-gas was calibrated 200 days ago on a 180-day interval (overdue)."""
    token = server.agent_token("plant-a", "gw-1")
    now = time.time_ns() // 1_000_000
    readings = [{"sensor": "tank-3-gas", "quantity": "h2s", "value": 1.0 + k * 0.1, "unit": "ppm",
                 "ts": now - (10 - k) * 60_000, "interval_s": None, "flags": ["warmup"] if k == 0 else []}
                for k in range(10)]
    readings.append({"sensor": "old-noise", "quantity": "laeq", "value": 81.5, "unit": "dBA",
                     "ts": now - 30 * 60_000, "interval_s": 60.0, "flags": []})
    body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": 1, "sent_ms": now,
            "readings": readings}
    r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(body),
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    for path, payload in (("/zones", {"code": "tank-farm", "name": "Tank farm", "site": "plant-a"}),
                          ("/zones/tank-farm/sensors", {"sensor": "tank-3-gas", "site": "plant-a"})):
        r = httpx.post(f"{server.url}/api/v1{path}", json=payload, headers=admin, timeout=10)
        assert r.status_code == 201, r.text
    today = dt.datetime.now(dt.UTC).date()
    r = httpx.put(f"{server.url}/api/v1/sensors/tank-3-gas/calibration", headers=admin, timeout=10,
                  json={"last_calibrated": str(today - dt.timedelta(days=200)), "calibration_interval_days": 180})
    assert r.status_code == 200, r.text
    assert r.json()["calibration_overdue"] is True




def test_facilities_sees_silent_sensor_overdue_calibration_and_raw_readings(server, browser):
    """/sensors marks old-noise silent and tank-3-gas's calibration overdue; /calibration lists it overdue;
    the sensor page shows its recent readings with their flags; /agents shows the agent online."""
    _seed(server)
    page = _sign_in(server, browser, "/sensors", viewport={"width": 1280, "height": 900})
    silent = page.wait_for_selector('.card[data-sensor="plant-a/old-noise"]', timeout=5000)
    assert silent.get_attribute("data-silent") == "yes" and "silent" in silent.inner_text()
    gas = page.locator('.card[data-sensor="plant-a/tank-3-gas"]')
    assert gas.get_attribute("data-silent") == "no"
    assert gas.get_attribute("data-calibration") == "overdue"
    assert "calibration overdue" in gas.inner_text() and "tank-farm" in gas.inner_text()
    _shot(page, "sensors")

    page.goto(server.url + "/calibration")
    line = page.wait_for_selector('.cal-line[data-sensor="plant-a/tank-3-gas"]', timeout=5000)
    assert line.get_attribute("data-state") == "overdue" and "overdue since" in line.inner_text()
    _shot(page, "calibration")

    page.goto(server.url + "/sensors")
    page.click('.card[data-sensor="plant-a/tank-3-gas"] h2 a')
    page.wait_for_selector("table.readings tbody tr", timeout=5000)
    assert page.locator("table.readings tbody tr").count() == 10
    assert page.locator('table.readings tr[data-flags="warmup"]').count() == 1
    _shot(page, "sensor")

    page.goto(server.url + "/agents")
    agent = page.wait_for_selector('.card[data-agent="plant-a/gw-1"]', timeout=5000)
    assert agent.get_attribute("data-state") == "online"
    _shot(page, "agents")

    page.goto(server.url + "/rules")
    try:
        page.wait_for_selector(".card[data-rule]", timeout=5000)
    finally:
        _shot(page, "rules")


def test_sensor_list_fits_a_phone(server, browser):
    """On a 390 px screen the sensors and a sensor's readings need no sideways scrolling."""
    _seed(server)
    page = _sign_in(server, browser, "/sensors", viewport={"width": 390, "height": 844}, is_mobile=True)
    page.wait_for_selector('.card[data-sensor="plant-a/old-noise"]', timeout=5000)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    _shot(page, "sensors-phone")
    page.goto(server.url + "/sensors/plant-a/tank-3-gas")
    page.wait_for_selector("table.readings tbody tr", timeout=5000)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    _shot(page, "sensor-phone")


@contextmanager
def _cookie(server: ServerProcess, name: str, role: str) -> Iterator[httpx.Client]:
    server.add_user(name, role, PASSWORD)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        r = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        yield client


@pytest.mark.parametrize("role", ["worker", "record_keeper"])
def test_partials_refuse_worker_and_record_keeper(server, role):
    """A worker and a record-keeper get 403 from every facilities partial; facilities gets 200."""
    _seed(server)
    with _cookie(server, f"u-{role}", role) as c:
        for path in PARTIALS:
            r = c.get(path)
            assert r.status_code == 403, (path, r.status_code)
    with _cookie(server, "fac2", "facilities") as c:
        for path in PARTIALS:
            assert c.get(path).status_code == 200, path
    assert httpx.get(f"{server.url}/web/partials/sensors", timeout=10).status_code == 401


NOTIFY = """
[[groups]]
name = "duty"
members = [
  { name = "server-log", url = "log://" },
  { name = "scada", webhook = "https://scada.example/hooks/hazmon", secret = "a-long-random-secret-0123456789" },
]
"""


def test_safety_manager_edits_rules_in_place_and_sends_a_test(server, browser):
    """The rules page masks the webhook secret; a rule with an unknown key is refused in place (naming the rule
    and the key) and nothing changes; a valid edit is in force; "send test" reports per member of the group."""
    r = httpx.put(f"{server.url}/api/v1/notify/config", content=NOTIFY, timeout=10,
                  headers={"Authorization": f"Bearer {server.admin_token()}", "Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    page = sign_in(server, browser, "/rules", viewport={"width": 1280, "height": 900})
    group = page.wait_for_selector('.card[data-group="duty"]', timeout=5000)
    assert "a-long-random-secret" not in page.content() and "***" in group.inner_text()
    before = len(server.get("/rules"))

    text = page.input_value("#rules-text")
    page.fill("#rules-text", text.replace('id = "h2s"', 'id = "h2s"\nthreshhold = 3', 1))
    page.click("#rules-edit button[type=submit]")
    page.wait_for_selector("#rules-error:has-text('threshhold')", timeout=5000)
    assert "rules (API)" in page.inner_text("#rules-error")
    assert len(server.get("/rules")) == before
    _shot(page, "rules-error")

    page.fill("#rules-text", text.replace('id = "h2s"', 'id = "h2s"\nenabled = false', 1))
    page.click("#rules-edit button[type=submit]")
    page.wait_for_selector("#rules-saved:has-text('rules in force')", timeout=5000)
    assert next(r for r in server.get("/rules") if r["id"] == "h2s")["enabled"] is False

    page.click('button.send-test[data-group="duty"]')
    page.wait_for_selector('.test-result[data-group="duty"] li:has-text("server-log")', timeout=10_000)
    assert "delivered" in page.inner_text('.test-result[data-group="duty"]')
    _shot(page, "rules-test")


def test_facilities_sees_rules_without_editor(server, browser):
    """Facilities reads the rules and groups but gets no editor and no send-test button (the API refuses them)."""
    page = _sign_in(server, browser, "/rules", viewport={"width": 390, "height": 844}, is_mobile=True)
    page.wait_for_selector(".card[data-rule]", timeout=5000)
    assert page.query_selector("#rules-edit") is None and page.query_selector("button.send-test") is None
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    _shot(page, "rules-phone")
