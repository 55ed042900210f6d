"""The incident page in a real browser (Debian's Chromium) against a real server process: a safety manager marks
a checklist step done (a second, confirming click) and takes it back, both under their name on the timeline; a
worker's phone answers "I need help" on the muster link and the incident turns urgent; closing with open steps
is refused without a reason; a bad muster link shows a page a person can read."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from server.emergency.muster import muster_signature
from tests.kit.browser import chromium, screenshot, sign_in
from tests.kit.server import ServerProcess

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
KEY = "browser-test-secret-key"
SHOTS = Path(os.environ.get("HAZMON_SHOTS", "/tmp/wt-inc-shots"))
_sign_in = sign_in
_shot = partial(screenshot, directory=SHOTS)
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    plans = tmp_path / "emergency"
    shutil.copytree(REPO / "config" / "emergency", plans)
    for plan in plans.glob("*.toml"):  # no mail to example.com from the tests
        plan.write_text("\n".join(line for line in plan.read_text().splitlines() if not line.startswith("contact = ")))
    proc = ServerProcess(tmp_path / "data", emergency_dir=str(plans), secret_key=KEY)
    proc.start()
    yield proc
    proc.stop()


def _start(server: ServerProcess) -> int:
    r = httpx.post(f"{server.url}/api/v1/incidents", json={"plan": "toxic-release", "zone": "tank-farm"},
                   headers={"Authorization": f"Bearer {server.admin_token()}"}, timeout=10)
    assert r.status_code == 200, r.text
    return int(r.json()["id"])




def test_a_step_is_confirmed_undone_and_closing_needs_a_reason(server, browser):
    iid = _start(server)
    page = _sign_in(server, browser, f"/incidents/{iid}")
    step = page.locator("#step-1")
    step.get_by_role("button", name="Mark done").click()
    confirm = step.get_by_role("button", name="Confirm step 1 done")
    confirm.wait_for(timeout=5000)
    step.locator("input[name=note]").fill("zone clear")
    _shot(page, "incident-confirm")
    assert step.locator(".by").count() == 0  # asking changed nothing yet
    confirm.click()
    step.locator(".by").wait_for(timeout=5000)
    assert "done by chief" in step.inner_text() and "zone clear" in step.inner_text()
    step.get_by_role("button", name="Undo").click()
    step.get_by_role("button", name="Yes, undo").click()
    step.get_by_role("button", name="Mark done").wait_for(timeout=5000)
    timeline = page.locator(".timeline")
    assert "step 1 undone" in timeline.inner_text() and "marked done by chief" in timeline.inner_text()
    assert timeline.locator("li.ev-undone b").inner_text() == "chief"
    assert timeline.locator("li.ev-step b").inner_text() == "chief"
    _shot(page, "incident-undone")

    assert "Steps 1, 2, 3, 4 are not done" in page.inner_text(".close-form")
    page.fill("#close-text", "   ")
    page.get_by_role("button", name="Close incident").click()
    expect(page.locator("#incident-error")).to_contain_text("give a reason", timeout=5000)
    assert httpx.get(f"{server.url}/api/v1/incidents/{iid}", timeout=5,
                     headers={"Authorization": f"Bearer {server.admin_token()}"}).json()["state"] == "open"
    page.fill("#close-text", "false alarm: sensor fault, confirmed by hand-held meter")
    page.get_by_role("button", name="Close incident").click()
    expect(page.locator("#incident-error")).to_have_text("", timeout=5000)
    page.wait_for_selector("[data-state=closed]", timeout=5000)
    assert "reason: false alarm" in page.inner_text("#incident")
    _shot(page, "incident-closed")


def test_i_need_help_on_the_phone_makes_the_incident_urgent(server, browser):
    iid = _start(server)
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{server.url}/muster/{iid}/w-001?sig={'0' * 40}")
    assert "This link does not work" in phone.inner_text("h1") and "not valid" in phone.inner_text(".problem")
    _shot(phone, "muster-bad-link-phone")
    sig = muster_signature(KEY.encode(), iid, "w-001")
    phone.goto(f"{server.url}/muster/{iid}/w-001?sig={sig}")
    _shot(phone, "muster-phone")
    phone.get_by_role("button", name="I need help").click()
    phone.wait_for_selector(".help-sent", timeout=5000)
    _shot(phone, "muster-help-phone")

    page = _sign_in(server, browser, f"/incidents/{iid}", **PHONE)
    page.wait_for_selector("[data-urgency=help]", timeout=5000)
    assert "Someone needs help: Zhang Wei" in page.inner_text(".help-banner")
    assert "NEEDS HELP" in page.inner_text("#person-w-001")
    _shot(page, "incident-help-phone")
    page.locator("#step-2").get_by_role("button", name="Mark done").click()
    page.locator("#step-2").get_by_role("button", name="Confirm step 2 done").wait_for(timeout=5000)
    _shot(page, "incident-confirm-phone")
    page.goto(f"{server.url}/incident")
    page.wait_for_selector(".incident-card.urgent", timeout=5000)
    _shot(page, "incidents-list-phone")
