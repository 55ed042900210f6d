"""The records application's organisation and surveillance pages in a real browser (Debian's Chromium) against a
real server process in Asia/Shanghai time: the record-keeper imports a roster with one bad row (the row is
reported in a table, the good rows are imported), adds a zone with a declared silica hazard and its free-SiO2
class, adds and ends an assignment with date/time pickers read in the site's time zone, filters the exams-due
list and downloads its CSV (ISO dates, no epoch ms), records an exam result, hands out and takes back a personal
sensor and imports laboratory samples with the same row report; an auditor reads the due list without the result
form, and a safety manager never gets the exam-result form (hidden, and refused by the API)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.kit.browser import INLINE_SCRIPT, chromium, screenshot, sign_in
from tests.kit.server import ServerProcess

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect

TZ = ZoneInfo("Asia/Shanghai")
SHOTS = Path(os.environ.get("HAZMON_SHOTS", "/tmp/wt-org-shots"))
_rk = partial(sign_in, user="records", role="record_keeper", viewport={"width": 1280, "height": 900})
_shot = partial(screenshot, directory=SHOTS)


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path, health_timezone="Asia/Shanghai")
    proc.start()
    yield proc
    proc.stop()


def _api(server: ServerProcess, method: str, path: str, **kw) -> httpx.Response:
    return httpx.request(method, f"{server.url}/api/v1{path}", timeout=10,
                         headers={"Authorization": f"Bearer {server.admin_token()}"}, **kw)


def _today() -> dt.date:
    return dt.datetime.now(TZ).date()


def _seed(server: ServerProcess) -> dict[str, int]:
    """Two zones on two sites, a day shift, two workers; W001 has a periodic exam scheduled in 20 days."""
    ids = {}
    for path, body in (("/shift-patterns", {"code": "day", "start": "08:00", "hours": 8}),
                       ("/zones", {"code": "grinding", "name": "Grinding shop", "site": "plant-a"}),
                       ("/zones", {"code": "kiln", "name": "Kiln hall", "site": "plant-b"}),
                       ("/workers", {"employee_no": "W001", "name": "李明"}),
                       ("/workers", {"employee_no": "W002", "name": "Ana Silva"})):
        r = _api(server, "POST", path, json=body)
        assert r.status_code == 201, r.text
        if path == "/workers":
            ids[body["employee_no"]] = r.json()["id"]
    r = _api(server, "POST", f"/workers/{ids['W001']}/exams",
             json={"exam_type": "periodic", "hazard": "silica_crystalline", "status": "scheduled",
                   "due_date": str(_today() + dt.timedelta(days=20)), "reason": "annual silica exam"})
    assert r.status_code == 201, r.text
    ids["exam"] = r.json()["id"]
    return ids


def test_record_keeper_imports_roster_with_one_bad_row(server, browser, tmp_path):
    """Three rows, one naming an unknown zone: the table shows that row's line, column and reason; the two good
    rows are imported and appear in the week grid on their day, at their local times."""
    _seed(server)
    day = _today()
    roster = tmp_path / "roster.csv"
    roster.write_text("employee_no,date,shift,zone,post,start,end\n"
                      f"W001,{day},day,grinding,,,\n"
                      f"W002,{day},day,paint-shop,,,\n"
                      f"W002,{day},day,kiln,,09:00,15:30\n", encoding="utf-8")
    page = _rk(server, browser, "/org/roster")
    page.set_input_files("#roster-file", str(roster))
    page.click("#roster-form button[type=submit]")
    page.wait_for_selector("#roster-report:not([hidden]) .row-errors tbody tr", timeout=5000)
    assert "3 rows read: 2 imported, 1 with an error" in page.inner_text("#roster-report .outcome")
    rows = page.locator("#roster-report .row-errors tbody tr")
    assert rows.count() == 1
    cells = [c.inner_text() for c in rows.first.locator("td").all()]
    assert cells[0] == "3" and cells[1] == "zone" and "paint-shop" in cells[2]
    _shot(page, "roster-import")
    stored = _api(server, "GET", "/assignments").json()
    assert sorted(a["zone"] for a in stored) == ["grinding", "kiln"]

    page.goto(server.url + "/org/assignments")
    page.wait_for_selector('.week-grid tr[data-worker="W002"] .asg', timeout=5000)
    col = day.weekday() + 1
    cell = page.locator(f'.week-grid tr[data-worker="W002"] td:nth-of-type({col})')
    assert "kiln" in cell.inner_text() and "09:00–15:30" in cell.inner_text()
    assert "08:00–16:00" in page.locator(f'.week-grid tr[data-worker="W001"] td:nth-of-type({col})').inner_text()
    _shot(page, "week")


def test_assignment_added_and_ended_in_site_time(server, browser):
    """An assignment entered with datetime-local pickers is stored at that Shanghai time; ending it early from
    the grid stores the new end; a time outside the assignment is refused in place."""
    ids = _seed(server)
    day = _today()
    page = _rk(server, browser, "/org/assignments")
    page.wait_for_selector("#asg-worker", timeout=5000)
    page.select_option("#asg-worker", "W002")
    page.select_option("#asg-zone", "kiln")
    page.fill("#asg-start", f"{day}T22:00")
    page.fill("#asg-end", f"{day + dt.timedelta(days=1)}T06:00")
    page.click("form[data-json='/web/actions/assignments'] button[type=submit]")
    page.wait_for_selector('.week-grid tr[data-worker="W002"] .asg', timeout=5000)
    assert "22:00–06:00 +1" in page.inner_text('.week-grid tr[data-worker="W002"]')
    (a,) = _api(server, "GET", "/assignments", params={"worker_id": ids["W002"]}).json()
    start = dt.datetime.combine(day, dt.time(22), tzinfo=TZ)
    assert a["start_ms"] == int(start.timestamp() * 1000)
    assert a["end_ms"] - a["start_ms"] == 8 * 3600_000

    page.click(f'button[data-end="{a["id"]}"]')
    page.fill("#end-at", f"{day + dt.timedelta(days=1)}T09:00")  # after the stored end: refused
    page.click("#end-form button[type=submit]")
    page.wait_for_selector("#end-form .error:has-text('not after its stored end')", timeout=5000)
    page.fill("#end-at", f"{day + dt.timedelta(days=1)}T02:30")
    page.click("#end-form button[type=submit]")
    page.wait_for_selector("#records-status:has-text('Assignment ended')", timeout=5000)
    page.wait_for_selector('.week-grid tr[data-worker="W002"] .asg:has-text("22:00–02:30")', timeout=5000)
    (a,) = _api(server, "GET", "/assignments", params={"worker_id": ids["W002"]}).json()
    assert a["end_ms"] - a["start_ms"] == int(4.5 * 3600_000)
    _shot(page, "week-ended")


def test_record_keeper_adds_zone_with_silica_hazard(server, browser):
    """A new zone, then crystalline silica declared in it with its free-SiO2 class: the variant choice appears
    only for a substance that has variants, and the zone's card and the API show the class."""
    _seed(server)
    page = _rk(server, browser, "/org")
    page.wait_for_selector("#zone-code", timeout=5000)
    page.fill("#zone-code", "sandblast")
    page.fill("#zone-name", "Sandblasting booth")
    page.fill("#zone-site", "plant-a")
    page.click("form[data-json='/api/v1/zones'] button[type=submit]")
    page.wait_for_selector('.card[data-zone="sandblast"]', timeout=5000)

    page.select_option("#hazard-zone", "sandblast")
    page.select_option("#hazard-substance", "co")
    assert page.locator(".variant-field").get_attribute("hidden") is not None or \
        page.locator("#hazard-variant option[data-substance=co]").count() > 0
    page.select_option("#hazard-substance", "silica_crystalline")
    page.wait_for_selector(".variant-field:not([hidden])", timeout=2000)
    page.select_option("#hazard-variant", "sio2-50-80pct")
    page.click(".hazard-form button[type=submit]")
    item = page.wait_for_selector('.card[data-zone="sandblast"] li[data-hazard="silica_crystalline"]', timeout=5000)
    assert item.get_attribute("data-variant") == "sio2-50-80pct" and "free SiO2 50–80 %" in item.inner_text()
    _shot(page, "zones")
    z = _api(server, "GET", "/zones/sandblast").json()
    assert z["site"] == "plant-a"
    assert z["hazards"] == [{"substance": "silica_crystalline", "quantity": z["hazards"][0]["quantity"], "post": None,
                             "variant": "sio2-50-80pct", "ppe": None}]


def test_exams_due_filtered_and_exported_as_csv(server, browser):
    """Both workers lack a pre-placement exam (due today); W001's periodic silica exam is due in 20 days. The
    filters narrow the list by type and by site; the CSV holds the filtered rows with ISO dates, the listing time
    with the +08:00 offset, and no epoch milliseconds. The record-keeper then records W001's result."""
    ids = _seed(server)
    day = _today()
    r = httpx.post(f"{server.url}/api/v1/rosters/import", params={"mode": "atomic"}, timeout=10,
                   headers={"Authorization": f"Bearer {server.admin_token()}", "Content-Type": "text/csv"},
                   content=f"employee_no,date,shift,zone\nW001,{day},day,grinding\nW002,{day},day,kiln\n")
    assert r.json()["imported"] == 2, r.text
    page = _rk(server, browser, "/exams")
    page.wait_for_selector(".due-table tbody tr[data-worker]", timeout=5000)
    assert page.locator(".due-table tbody tr[data-worker]").count() == 3
    assert [o.get_attribute("value") for o in page.locator("#due-sites option").all()] == ["plant-a", "plant-b"]
    page.select_option("#due-type", "periodic")
    expect(page.locator(".due-table tbody tr[data-worker]")).to_have_count(1)
    assert page.locator('.due-table tr[data-worker="W001"][data-type="periodic"]').count() == 1
    page.select_option("#due-type", "")
    page.fill("#due-site", "plant-b")
    page.press("#due-site", "Enter")
    expect(page.locator(".due-table tbody tr[data-worker]")).to_have_count(1)
    assert page.locator('.due-table tr[data-worker="W002"][data-type="pre_placement"]').count() == 1
    page.fill("#due-site", "plant-a")
    page.press("#due-site", "Enter")
    expect(page.locator(".due-table tbody tr[data-worker]")).to_have_count(2)
    _shot(page, "exams-due")

    with page.expect_download() as got:
        page.click(".due-summary a.export")
    text = Path(got.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {(r["employee_no"], r["exam_type"]) for r in rows} == {("W001", "pre_placement"), ("W001", "periodic")}
    periodic = next(r for r in rows if r["exam_type"] == "periodic")
    assert periodic["due_date"] == str(day + dt.timedelta(days=20)) and periodic["name"] == "李明"
    assert periodic["sites"] == "plant-a" and periodic["exam_id"] == str(ids["exam"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", periodic["listed_at"])
    assert not re.search(r"\d{12,}", text), "an epoch-ms number in the CSV"

    page.click('.due-table tr[data-type="periodic"] a.record-result')
    page.wait_for_selector("#exam-form", timeout=5000)
    assert page.input_value("#exam-date") == str(day)
    page.select_option("#exam-outcome", "fit")
    page.fill("#exam-examiner", "Dr Wang")
    page.click("#exam-form button[type=submit]")
    page.wait_for_url(server.url + "/exams", timeout=5000)
    exam = next(e for e in _api(server, "GET", f"/workers/{ids['W001']}/exams").json() if e["id"] == ids["exam"])
    assert exam["status"] == "done" and exam["outcome"] == "fit" and exam["exam_date"] == str(day)


def test_safety_manager_never_gets_the_exam_result_form(server, browser):
    """No exams link in the nav and no due list; the result form's page shows a refusal instead of the form; the
    API refuses the result (PATCH /exams/{id}) and the form's partial, and the exam's result stays unread."""
    ids = _seed(server)
    page = sign_in(server, browser, "/exams", user="chief", role="safety_manager")
    assert page.locator('header nav a[href="/exams"]').is_hidden()
    page.wait_for_selector("#due [data-refused]", timeout=5000)
    assert page.locator(".due-table").count() == 0
    page.goto(f"{server.url}/exams/record?worker_id={ids['W001']}&exam_id={ids['exam']}")
    page.wait_for_selector("#exam-record [data-refused]", timeout=5000)
    assert page.locator("#exam-form").count() == 0
    _shot(page, "exam-form-refused")
    r = page.request.patch(f"{server.url}/api/v1/exams/{ids['exam']}",
                           data={"status": "done", "exam_date": str(_today()), "outcome": "fit"})
    assert r.status == 403
    r = page.request.get(f"{server.url}/web/partials/exams/record?worker_id={ids['W001']}&exam_id={ids['exam']}")
    assert r.status == 403 and "outcome" not in r.text()
    assert page.request.get(f"{server.url}/web/exports/exams-due.csv").status == 403
    exam = next(e for e in _api(server, "GET", f"/workers/{ids['W001']}/exams").json() if e["id"] == ids["exam"])
    assert exam["status"] == "scheduled" and exam["outcome"] is None


def test_personal_sensor_handed_out_and_returned(server, browser):
    """A badge handed out with the pickers is listed as out; its return (the picker defaults to now) marks it
    returned and shortens the stored interval; the page fits a phone."""
    ids = _seed(server)
    token = server.agent_token("plant-a", "gw-1")
    now = dt.datetime.now(TZ).replace(second=0, microsecond=0)
    body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": 1,
            "sent_ms": int(now.timestamp() * 1000),
            "readings": [{"sensor": "badge-7", "quantity": "pm4", "value": 0.05, "unit": "mg/m3",
                          "ts": int(now.timestamp() * 1000), "interval_s": None, "flags": []}]}
    r = httpx.post(f"{server.url}/api/v1/ingest", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    page = _rk(server, browser, "/org/personal-sensors")
    page.wait_for_selector("#ps-sensor", timeout=5000)
    page.select_option("#ps-worker", "W001")
    page.select_option("#ps-sensor", "plant-a/badge-7")
    start, due = now - dt.timedelta(hours=2), now + dt.timedelta(hours=6)
    page.fill("#ps-start", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#ps-end", due.strftime("%Y-%m-%dT%H:%M"))
    page.click("form[data-json='/web/actions/personal-sensors'] button[type=submit]")
    row = page.wait_for_selector(".handouts tr[data-handout]", timeout=5000)
    assert "out" in row.inner_text() and start.strftime("%Y-%m-%d %H:%M") in row.inner_text()
    (p,) = _api(server, "GET", "/personal-sensors", params={"worker_id": ids["W001"]}).json()
    assert p["start_ms"] == int(start.timestamp() * 1000) and p["end_ms"] == int(due.timestamp() * 1000)

    page.click("form[data-json$='/return'] button[type=submit]")
    page.wait_for_selector(".handouts tr[data-handout] .badge:has-text('returned')", timeout=5000)
    (p,) = _api(server, "GET", "/personal-sensors", params={"worker_id": ids["W001"]}).json()
    assert int(start.timestamp() * 1000) < p["end_ms"] <= int(dt.datetime.now(TZ).timestamp() * 1000)
    _shot(page, "personal-sensors")
    phone = _rk(server, browser, "/org", user="records2", viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.wait_for_selector('.card[data-zone="grinding"]', timeout=5000)
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390
    _shot(phone, "org-phone")


def test_an_auditor_reads_the_due_list_without_the_result_form(server, browser):
    """The auditor may read the surveillance list (and its CSV) but holds no exams.write: no "record result"."""
    _seed(server)
    page = sign_in(server, browser, "/exams", user="audit", role="auditor")
    page.wait_for_selector(".due-table tbody tr[data-worker]", timeout=5000)
    assert page.locator("a.record-result").count() == 0
    assert page.locator('header nav a[href="/exams"]').is_visible()
    assert page.locator('header nav a[href="/org"]').is_hidden()
    assert page.request.get(f"{server.url}/web/exports/exams-due.csv").status == 200


def test_record_keeper_imports_laboratory_samples_with_a_row_report(server, browser, tmp_path):
    """Two samples, one for an unknown employee number: the good one is stored in W001's file, the other is
    reported by line, column and reason."""
    ids = _seed(server)
    day = _today() - dt.timedelta(days=1)
    results = tmp_path / "lab.csv"
    results.write_text("sample_id,employee_no,substance,start,end,result,unit,loq,laboratory,method\n"
                       f"L-1,W001,co,{day}T08:00,{day}T16:00,1.5,ppm,0.1,Lab A,NIOSH 6604\n"
                       f"L-2,NOBODY,co,{day}T08:00,{day}T16:00,1.5,ppm,0.1,Lab A,NIOSH 6604\n", encoding="utf-8")
    page = _rk(server, browser, "/exams/samples")
    page.set_input_files("#samples-file", str(results))
    page.click("#samples-form button[type=submit]")
    page.wait_for_selector("#samples-report:not([hidden]) .row-errors tbody tr", timeout=5000)
    assert "2 rows read: 1 imported, 1 with an error" in page.inner_text("#samples-report .outcome")
    cells = [c.inner_text() for c in page.locator("#samples-report .row-errors tbody tr td").all()]
    assert cells[:2] == ["3", "employee_no"]
    _shot(page, "samples-import")
    (sample,) = _api(server, "GET", f"/workers/{ids['W001']}/samples").json()
    assert sample["sample_id"] == "L-1"
    assert sample["start_ms"] == int(dt.datetime.combine(day, dt.time(8), tzinfo=TZ).timestamp() * 1000)


SHELLS = ("/org", "/org/shifts", "/org/roster", "/org/assignments", "/org/personal-sensors", "/exams",
          "/exams/record?worker_id=1", "/exams/samples")
PARTS = ("/web/partials/org/zones", "/web/partials/org/shifts", "/web/partials/org/assignments",
         "/web/partials/org/personal-sensors", "/web/partials/exams/due", "/web/partials/exams/record?worker_id=1",
         "/web/exports/exams-due.csv")


def test_records_pages_are_shells_and_their_parts_check_the_role(server):
    """Every shell answers without a sign-in, holds no data and no inline script or style, and its assets are
    served; every part refuses an anonymous request (401) and a worker (403); a record-keeper gets them all."""
    _seed(server)
    for path in SHELLS:
        r = httpx.get(server.url + path, timeout=10)
        assert r.status_code == 200, path
        assert "李明" not in r.text and "W001" not in r.text, path
        assert not re.search(INLINE_SCRIPT, r.text) and "<style" not in r.text, path
        assert not re.search(r"\s(style|on[a-z]+)=", r.text), path
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', r.text):
            assert httpx.get(server.url + asset, timeout=10).status_code == 200, asset
    for path in PARTS:
        assert httpx.get(server.url + path, timeout=10).status_code == 401, path
    for role, want in (("worker", 403), ("record_keeper", 200)):
        server.add_user(f"u-{role}", role)
        with httpx.Client(base_url=server.url, timeout=10) as c:
            assert c.post("/api/v1/auth/login", json={"username": f"u-{role}",
                                                      "password": "correct horse battery"}).status_code == 200
            for path in PARTS:
                assert c.get(path).status_code == want, (role, path)
            r = c.post("/web/actions/assignments", json={"employee_no": "W001", "zone": "grinding",
                                                         "start": "2026-02-30T08:00", "end": "2026-03-01T16:00"})
            assert r.status_code == (403 if role == "worker" else 422), r.text
            if role == "record_keeper":
                assert "is not a date and time" in r.json()["detail"]
