"""The operations pages' newer parts in a real browser (Debian's Chromium) against a real server process:
the zone page and the notice board show the site's required PPE or the general guidance; the alert inbox, the
alert page and the live table follow the live stream (no polling) and say when their connection is lost; an admin
creates a kiosk link on /board-links, copies its address (shown once), the board opens without a sign-in, and
stops once the admin revokes it after confirming."""

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

SHOTS = Path(os.environ.get("HAZMON_SHOTS", "/tmp/wt-ops14-shots"))
_shot = partial(screenshot, directory=SHOTS)
H2S_PPE = "Personal H2S monitor at the collar; escape set on the belt; work in pairs."
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


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


def _api(server: ServerProcess, method: str, path: str, body: object = None) -> httpx.Response:
    r = httpx.request(method, f"{server.url}/api/v1{path}", json=body, timeout=10,
                      headers={"Authorization": f"Bearer {server.admin_token()}"})
    assert r.status_code in (200, 201), r.text
    return r


def _post(server: ServerProcess, seq: int, value: float) -> None:
    t = time.time_ns() // 1_000_000 - 500
    body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": seq, "sent_ms": t,
            "readings": [{"sensor": "tank-3-gas", "quantity": "h2s", "value": value, "unit": "ppm", "ts": t,
                          "interval_s": None, "flags": []}]}
    r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(body), timeout=10,
                   headers={"Authorization": f"Bearer {server.agent_token('plant-a', 'gw-1')}"})
    assert r.status_code == 200, r.text


def _zone(server: ServerProcess) -> None:
    """tank-farm, measured by tank-3-gas, with h2s (the site's PPE declared) and co (none declared)."""
    _post(server, 1, 2.0)
    for path, payload in (("/zones", {"code": "tank-farm", "name": "Tank farm", "site": "plant-a"}),
                          ("/zones/tank-farm/sensors", {"sensor": "tank-3-gas", "site": "plant-a"}),
                          ("/zones/tank-farm/hazards", {"substance": "h2s", "ppe": H2S_PPE}),
                          ("/zones/tank-farm/hazards", {"substance": "co"})):
        _api(server, "POST", path, payload)


def test_zone_page_and_board_show_the_sites_ppe_or_the_general_guidance(server, browser):
    """The zone page lists h2s with the site's requirement and co with the general guidance, labelled; the
    notice board the same (and in Chinese for the guidance)."""
    _zone(server)
    page = sign_in(server, browser, "/zones/tank-farm", **DESKTOP)
    page.wait_for_selector("#zone .hazards li[data-hazard='h2s']", timeout=10_000)
    h2s = page.inner_text("#zone li[data-hazard='h2s'] .ppe")
    assert "site requirement" in h2s and H2S_PPE in h2s
    co = page.inner_text("#zone li[data-hazard='co'] .ppe")
    assert "general guidance" in co and "Personal CO monitor" in co
    _shot(page, "zone-ppe")

    link = _api(server, "POST", "/zones/tank-farm/board-links", {"label": "test"}).json()
    board = browser.new_context(**DESKTOP).new_page()
    board.goto(link["url"])
    assert H2S_PPE in board.inner_text(".hazard:has-text('Hydrogen sulfide') .ppe.declared")
    general = board.inner_text(".hazard:has-text('Carbon monoxide')")
    assert "Wear (general guidance)" in general and "一般建议" in general
    _shot(board, "board-ppe")


def test_the_inbox_and_the_alert_page_follow_the_live_stream(server, browser):
    """A new alert appears in the open inbox within seconds with no polling (the inbox is a live part of the
    stream); its page shows the acknowledgement made elsewhere; both say when the connection is lost."""
    _zone(server)
    page = sign_in(server, browser, "/alerts", **DESKTOP)
    page.wait_for_selector("#inbox .count", timeout=10_000)
    assert page.get_attribute("#inbox", "data-refresh") == "0" and page.get_attribute("#inbox", "data-live") == ""
    assert page.inner_text("#inbox .count") == "0 alerts"
    _post(server, 2, 14.5)  # above the h2s warning level: an alert opens
    card = page.wait_for_selector("#inbox .alert-card", timeout=8_000)
    alert_id = card.get_attribute("data-alert")

    other = sign_in(server, browser, f"/alerts/{alert_id}", user="chief2", **DESKTOP)
    other.wait_for_selector(".alert-head[data-state='open']", timeout=10_000)
    other.fill("#resolve-note", "half-written reason")  # a note being written is never swapped away
    _api(server, "POST", f"/alerts/{alert_id}/acknowledge", {"note": "on my way"})
    page.wait_for_selector(".alert-card:has-text('acknowledged')", timeout=8_000)  # the inbox follows too
    time.sleep(2.5)  # two stream ticks: the part would have been reloaded by now
    assert other.input_value("#resolve-note") == "half-written reason"
    other.fill("#resolve-note", "")
    other.click("#app h1")  # leave the field: the next change reloads the part
    _post(server, 3, 15.0)
    other.wait_for_selector(".alert-head[data-state='acknowledged']", timeout=8_000)
    assert "on my way" in other.inner_text(".evidence")
    _shot(other, "alert-live")

    server.kill()
    for p in (page, other):
        p.wait_for_selector("#connection:not([hidden])", timeout=10_000)
        assert "Connection lost at" in p.inner_text("#connection")
        assert p.inner_text("#cadence") == "Not updating."
    _shot(page, "alerts-lost")


def test_the_live_table_uses_the_layout_and_follows_the_stream(server, browser):
    """/live has the operations layout (nav, sign-out) and shows a new alert from the stream."""
    _zone(server)
    page = sign_in(server, browser, "/live", **DESKTOP)
    page.wait_for_selector('#sensors tr[data-sensor="tank-3-gas"]', timeout=10_000)
    assert page.is_visible("header.top nav a[href='/live'][aria-current='page']")
    assert page.is_visible("#signout button")
    assert page.inner_text("#alert-count") == "(0)"
    _post(server, 2, 14.5)
    page.wait_for_selector("#alerts tbody tr:has-text('tank-3-gas')", timeout=8_000)
    assert page.inner_text("#alert-count") == "(1)"
    _shot(page, "live-layout")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)  # a re-layout, not a wait for data
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_admin_creates_copies_and_revokes_a_kiosk_link(server, browser):
    """The nav shows "kiosk links" to admins only; a new link's address is shown once with a copy button; it
    opens the board without a sign-in; revoking asks first, and then the board refuses the link."""
    _zone(server)
    manager = sign_in(server, browser, "/", **DESKTOP)
    assert manager.is_hidden("header.top a[href='/board-links']")

    page = sign_in(server, browser, "/board-links", user="boss", role="admin", **DESKTOP)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    assert page.is_visible("header.top a[href='/board-links']")
    page.wait_for_selector(".card[data-zone='tank-farm'] form.create-link", timeout=10_000)
    page.fill("#label-tank-farm", "north door screen")
    page.click(".card[data-zone='tank-farm'] form.create-link button")
    page.wait_for_selector("#new-link:not([hidden])", timeout=5_000)
    url = page.input_value("#new-link-url")
    assert url.startswith(server.url + "/board/tank-farm?k=hzm_b_")
    page.wait_for_selector(".card[data-zone='tank-farm'] li[data-link]:has-text('north door screen')", timeout=5_000)
    page.click("#copy-link")
    page.wait_for_selector("#copy-status:has-text('Copied')", timeout=5_000)
    assert page.evaluate("navigator.clipboard.readText()") == url
    _shot(page, "board-links-new")

    kiosk = browser.new_context(**DESKTOP).new_page()  # no sign-in
    kiosk.goto(url)
    assert "Tank farm" in kiosk.inner_text(".board-head")

    page.click("#hide-new-link")
    assert page.is_hidden("#new-link") and page.input_value("#new-link-url") == ""
    item = ".card[data-zone='tank-farm'] li[data-link]"
    page.click(f"{item} .revoke")
    assert page.is_visible(f"{item} .confirm")
    page.click(f"{item} .cancel")  # changing one's mind revokes nothing
    assert page.is_hidden(f"{item} .confirm")
    assert httpx.get(url, timeout=5).status_code == 200
    page.click(f"{item} .revoke")
    _shot(page, "board-links-confirm")
    page.click(f"{item} .do")
    page.wait_for_selector(".card[data-zone='tank-farm'] li[data-revoked-link]", state="attached", timeout=5_000)
    assert page.query_selector(item) is None
    kiosk.reload()
    assert "not valid" in kiosk.content()
    assert httpx.get(url, timeout=5).status_code == 403


def test_the_kiosk_links_part_is_for_admins_only(server):
    """A safety manager's session gets 403 from the partial; without a session, 401."""
    assert httpx.get(f"{server.url}/web/partials/board-links", timeout=5).status_code == 401
    server.add_user("chief", "safety_manager")
    with httpx.Client(base_url=server.url, timeout=10) as c:
        assert c.post("/api/v1/auth/login", json={"username": "chief", "password": "correct horse battery"}
                      ).status_code == 200
        assert c.get("/web/partials/board-links").status_code == 403
