"""Every page passes axe-core's WCAG 2.1 A/AA checks (labels, names, contrast, landmarks) with no serious or
critical violation, in Debian's Chromium against a real server holding the demo's data (its zones, its plan,
an hour of its simulated sensors ending in the gas leak: alerts, an incident), signed in as a role that may see
the page, after its htmx parts have loaded.

A new page: add one line to SEEN_BY (path, the roles that may see it, what is on the page once it has loaded).
Paths may name the seeded objects: {alert}, {incident}, {board} (a kiosk link's path and query), {muster} (a
signed muster link), {worker}, {exam}.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hazmon.demo import AGENT, SITE, demo_history, write_demo_config
from hazmon.demo_site import declare_zones
from server.emergency.muster import muster_signature
from tests.kit.a11y import assert_accessible, describe, violations
from tests.kit.browser import chromium, screenshot, sign_in
from tests.kit.server import ServerProcess, wall_ms

pytestmark = pytest.mark.slow

KEY = "a11y-test-secret-key"
SHOTS = Path(os.environ.get("HAZMON_SHOTS", "/tmp/hazmon-a11y-shots"))

STAFF = ("admin", "safety_manager", "facilities", "record_keeper", "auditor")
FACILITIES = ("admin", "safety_manager", "facilities")
RECORDS = ("admin", "record_keeper")

#: (path, roles that may see it (None: no sign-in), a selector present once the page's parts have loaded)
SEEN_BY: tuple[tuple[str, tuple[str | None, ...], str], ...] = (
    ("/", (None,), "#login:not([hidden])"),
    ("/", STAFF, "#app .tile"),
    ("/zones/tank-farm", STAFF, "#app canvas"),
    ("/alerts", STAFF, "#app .count"),
    ("/alerts?state=all", ("safety_manager",), "#app .count"),
    ("/alerts/{alert}", STAFF, "#app canvas"),
    ("/live", STAFF, "#live tbody tr"),
    ("/incident", STAFF, "#app .incident-card"),
    ("/incidents/{incident}", STAFF, "#app .steps"),
    ("{muster}", (None,), ".answers"),
    ("{board}", (None,), ".board-state"),
    ("/agents", FACILITIES, "#app .card"),
    ("/sensors", FACILITIES, "#app .card"),
    (f"/sensors/{SITE}/tank-3-gas", FACILITIES, "#sensor h1"),
    ("/calibration", FACILITIES, "#calibration > *"),
    ("/rules", FACILITIES, "#app .card"),
    ("/org", RECORDS, "#app .card[data-zone]"),
    ("/org/shifts", RECORDS, "#shifts table"),
    ("/org/roster", RECORDS, "#roster-form"),
    ("/org/assignments", RECORDS, "#week .week-grid"),
    ("/org/personal-sensors", RECORDS, "#personal > :not(.muted)"),
    ("/exams", (*RECORDS, "auditor"), "#app .due-table"),
    ("/exams/record?worker_id={worker}&exam_id={exam}", RECORDS, "#exam-form"),
    ("/exams/samples", RECORDS, "#samples-form"),
    ("/admin/users", ("admin",), "#users table"),
    ("/admin/tokens", ("admin",), "#tokens table"),
    ("/admin/agents", ("admin",), "#agents .card, #agents table"),
    ("/admin/audit", ("admin",), "#audit table"),
    ("/admin/settings", ("admin",), "#settings .standing"),
    ("/board-links", ("admin",), "#app .card[data-zone]"),
    ("/workers", (*RECORDS, "safety_manager", "auditor"), "#workers table"),
    ("/workers/W001", (*RECORDS, "safety_manager", "auditor"), "#file h2"),
    ("/me", ("worker",), "#file > :not(.muted)"),
    # the pages a person reaches when something is wrong
    ("/", ("worker",), "#no-access:not([hidden])"),
    ("/board/tank-farm?k=not-a-key", (None,), "body.refused"),
    ("/muster/{incident}/w-001?sig=" + "0" * 40, (None,), ".problem"),
    ("/exams", ("safety_manager",), "[data-refused]"),
    ("/alerts/999999", ("safety_manager",), "#app > * :is(p, h1, h2)"),
)
#: one (path, role or None for no sign-in, ready selector) per page and role
PAGES: tuple[tuple[str, str | None, str], ...] = tuple(
    (path, role, ready) for path, roles, ready in SEEN_BY for role in roles)


#: Swagger UI (fastapi-offline's, unchanged) at /docs, the developers' API page: its own markup nests buttons in
#: buttons (nested-interactive) and its method badges are white on light colours (color-contrast). Kept here,
#: expected to fail, so a Swagger UI that fixes them is noticed.
THIRD_PARTY: tuple[tuple[str, str | None, str], ...] = (
    ("/docs", None, ".swagger-ui .opblock"),
)


def _page_id(entry: tuple[str, str | None, str]) -> str:
    return f"{entry[0]} as {entry[1] or 'nobody'}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _api(server: ServerProcess, method: str, path: str, *, headers: dict[str, str] | None = None,
         **kw: Any) -> httpx.Response:
    r = httpx.request(method, f"{server.url}/api/v1{path}", timeout=30,
                      headers={"Authorization": f"Bearer {server.admin_token()}", **(headers or {})}, **kw)
    assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
    return r


def _seed(server: ServerProcess) -> dict[str, str]:
    """The demo's site (hazmon/demo_site.py) and an hour of its simulated sensors ending in the gas leak, a kiosk
    link, a muster link, two workers on today's roster with an exam due."""
    token = server.agent_token(SITE, AGENT)
    now = wall_ms()
    with server._session() as s:  # the demo's own declaration of its zones
        declare_zones(s, site=SITE, agent=AGENT, now_ms=now)
    body = {"schema": "hazmon.batch/1", "site": SITE, "agent": AGENT, "seq": 1, "sent_ms": now,
            "readings": demo_history(now_ms=now)}
    r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(body), timeout=30,
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    alerts = server.get("/alerts", state="active")
    assert alerts, "the demo's leak raised no alert"
    incidents = _api(server, "GET", "/incidents").json()
    assert incidents, "the demo's leak started no incident (its plan: hazmon/demo.py DEMO_PLAN)"
    incident = int(incidents[0]["id"])
    board = _api(server, "POST", "/zones/tank-farm/board-links", json={"label": "a11y"}).json()["url"]
    board = "/" + (board.split("://", 1)[1].partition("/")[2] if "://" in board else board.lstrip("/"))
    sig = muster_signature(KEY.encode(), incident, "w-001")
    ids = {"alert": str(alerts[0]["id"]), "incident": str(incident), "board": board,
           "muster": f"/muster/{incident}/w-001?sig={sig}"}
    today = dt.date.today()
    _api(server, "POST", "/shift-patterns", json={"code": "day", "start": "08:00", "hours": 8})
    workers = [_api(server, "POST", "/workers", json={"employee_no": no, "name": name}).json()["id"]
               for no, name in (("W001", "李明"), ("W002", "Ana Silva"))]
    exam = _api(server, "POST", f"/workers/{workers[0]}/exams",
                json={"exam_type": "periodic", "hazard": "silica_crystalline", "status": "scheduled",
                      "due_date": str(today + dt.timedelta(days=20)), "reason": "annual silica exam"}).json()
    _api(server, "POST", "/rosters/import", params={"mode": "atomic"}, headers={"Content-Type": "text/csv"},
         content=f"employee_no,date,shift,zone\nW001,{today},day,grinding\nW002,{today},day,tank-farm\n")
    ids.update(worker=str(workers[0]), exam=str(exam["id"]))
    return ids


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("a11y")
    plans, notify = write_demo_config(tmp / "config")
    proc = ServerProcess(tmp / "data", emergency_dir=str(plans), notify_file=str(notify), secret_key=KEY)
    proc.start()
    try:
        yield proc, _seed(proc)
    finally:
        proc.stop()


def _loaded(page: Any, ready: str) -> None:
    """The page's parts are in: its ready selector, no htmx request in flight, no "Loading…" placeholder (unless
    the page says the role may not see it: then it loads nothing)."""
    page.wait_for_selector(ready, timeout=15_000)
    page.wait_for_function("() => !document.querySelector('.htmx-request') && "
                           "(!!document.querySelector('#no-access:not([hidden])') || "
                           "!document.body.innerText.includes('Loading…'))", timeout=15_000)
    page.wait_for_timeout(300)  # charts draw after their data arrives


@pytest.mark.parametrize("entry", [*PAGES, *(pytest.param(e, marks=pytest.mark.xfail(
    reason="Swagger UI's own markup (see THIRD_PARTY)", strict=True)) for e in THIRD_PARTY)], ids=_page_id)
def test_page_has_no_serious_accessibility_violation(site, browser, entry):
    server, ids = site
    path, role, ready = entry
    path = path.format(**ids)
    if role is None:
        page = browser.new_context().new_page()
        page.goto(server.url + path)
    else:
        page = sign_in(server, browser, "/", user=f"a11y-{role}", role=role)  # /live has its own sign-in form
        page.goto(server.url + path)
    try:
        _loaded(page, ready)
        name = re.sub(r"[^A-Za-z0-9_]+", "-", ("dashboard" if entry[0] == "/" else "") + _page_id(entry)).strip("-")
        screenshot(page, name, directory=SHOTS)
        lesser = assert_accessible(page, what=_page_id(entry))
        if lesser:
            print(f"\n{_page_id(entry)}: moderate/minor\n{describe(lesser)}")
        undecided = violations(page, kind="incomplete")
        if undecided:  # axe could not decide: shown for a person to judge (the screenshots are in SHOTS)
            print(f"\n{_page_id(entry)}: to review\n{describe(undecided)}")
    finally:
        page.context.close()


def test_the_parts_shown_on_request_have_no_serious_violation(site, browser, tmp_path):
    """What appears after a click or an event: a step's confirmation with its note field (incident page), the
    dashboard once its connection is lost, and an import report's row errors (roster)."""
    server, ids = site
    page = sign_in(server, browser, f"/incidents/{ids['incident']}", user="a11y-confirm", role="safety_manager")
    try:
        _loaded(page, "#app .steps")
        page.locator("#step-1").get_by_role("button", name="Mark done").click()
        page.locator("#step-1 .confirm:not([hidden])").wait_for(timeout=5000)
        assert_accessible(page, what="a step's confirmation")
    finally:
        page.context.close()
    page = sign_in(server, browser, "/", user="a11y-lost", role="safety_manager")
    try:  # the connection lost: the banner, the page's values faded (the class hazmon.js sets)
        _loaded(page, "#app .tile")
        page.evaluate("() => { document.body.classList.add('stale-data'); const c = document.getElementById("
                      "'connection'); c.hidden = false; c.textContent = 'Connection lost: values may be stale.'; }")
        screenshot(page, "dashboard-connection-lost", directory=SHOTS)
        assert_accessible(page, what="the dashboard, connection lost")
    finally:
        page.context.close()
    roster = tmp_path / "roster.csv"
    roster.write_text(f"employee_no,date,shift,zone\nW001,{dt.date.today()},day,paint-shop\n", encoding="utf-8")
    page = sign_in(server, browser, "/org/roster", user="a11y-roster", role="record_keeper")
    try:
        page.set_input_files("#roster-file", str(roster))
        page.click("#roster-form button[type=submit]")
        page.wait_for_selector("#roster-report:not([hidden]) .row-errors tbody tr", timeout=5000)
        screenshot(page, "roster-report", directory=SHOTS)
        assert_accessible(page, what="a roster import's row errors")
    finally:
        page.context.close()


def test_the_check_finds_an_unlabelled_field_and_faint_text(browser):
    """The check is not vacuous: axe (as the kit injects it, no network) fails a page with a field without a label
    and grey-on-white text below 4.5:1, and names both."""
    page = browser.new_page()
    try:
        page.set_content('<!doctype html><html lang="en"><head><title>t</title><style>p{color:#999}</style></head>'
                         '<body><main><h1>t</h1><input id="x"><p>faint</p></main></body></html>')
        with pytest.raises(AssertionError) as failed:
            assert_accessible(page, what="bad page")
        assert "label (critical)" in str(failed.value) and "color-contrast (serious)" in str(failed.value)
        assert "#x" in str(failed.value)
    finally:
        page.close()
