"""The records pages in a real browser (Debian's Chromium) against a real server process, the data set up through
the API (a zone with a CO monitor fed through the real ingest, a shift pattern, a roster, the exposure records
computed by POST /exposure-records/compute):

- the record-keeper adds a worker with a Chinese name on /workers, the roster puts them in the zone, opens their
  exposure record (its chart against the limit) and downloads the PDF, in which the name renders (pdftotext);
- a worker sees their own file on /me and gets 403 or 404 for anyone else's page part, record and exports;
- a safety manager opening a worker page never sees an exam result (the record-keeper does)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from server.accounts.models import AuditEntry
from tests.kit.browser import chromium, screenshot, sign_in
from tests.kit.server import ServerProcess, wall_ms

pytestmark = pytest.mark.slow

SHOTS = Path(os.environ.get("HAZMON_SHOTS", "/tmp/wt-records-shots"))
_shot = partial(screenshot, directory=SHOTS)
CHINESE = "王小明"
SECRET = "SECRET-FINDING-7431"
MIN = 60_000
UTC = ZoneInfo("UTC")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path, health_scheduler_s="0")
    proc.start()
    yield proc
    proc.stop()


def _api(server: ServerProcess, method: str, path: str, **kw: Any) -> Any:
    r = httpx.request(method, f"{server.url}/api/v1{path}", timeout=30,
                      headers={"Authorization": f"Bearer {server.admin_token()}", **kw.pop("headers", {})}, **kw)
    assert r.status_code < 300, (method, path, r.status_code, r.text)
    return r.json()


def _yesterday(tz: ZoneInfo = UTC) -> dt.date:
    return dt.datetime.now(tz).date() - dt.timedelta(days=1)


def _plant(server: ServerProcess, tz: ZoneInfo = UTC, *, spike: bool = False) -> None:
    """Zone A, its CO monitor a-co at 10-16 ppm every minute 06:00-16:00 yesterday in the site's zone `tz` (sent
    through the ingest as an agent sends it), the hazard co declared, the day shift 07:00 for 8 h."""
    token = server.agent_token("plant-a", "gw-1")
    day0 = int(dt.datetime.combine(_yesterday(tz), dt.time(6), tzinfo=tz).timestamp() * 1000)
    readings = [{"sensor": "a-co", "quantity": "co", "value": 10.0 + (k % 7), "unit": "ppm", "ts": day0 + k * MIN,
                 "interval_s": None, "flags": []} for k in range(600)]
    if spike:  # 80 ppm at 09:00: a peak the record and its chart show
        readings[180]["value"] = 80.0
    for seq, start in enumerate(range(0, 600, 200), start=1):
        body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": seq, "sent_ms": wall_ms(),
                "readings": readings[start:start + 200]}
        r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(body), timeout=30,
                       headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
    _api(server, "POST", "/zones", json={"code": "A", "name": "Press shop", "site": "plant-a"})
    _api(server, "POST", "/zones/A/sensors", json={"sensor": "a-co", "site": "plant-a"})
    _api(server, "POST", "/zones/A/hazards", json={"substance": "co"})
    _api(server, "POST", "/shift-patterns", json={"code": "day", "start": "07:00", "hours": 8})


def _roster(server: ServerProcess, *employee_nos: str, tz: ZoneInfo = UTC) -> None:
    rows = "".join(f"{e},{_yesterday(tz)},day,A,,07:00,15:00\n" for e in employee_nos)
    report = _api(server, "POST", "/rosters/import", content=("employee_no,date,shift,zone,post,start,end\n" + rows)
                  .encode(), headers={"content-type": "text/csv"})
    assert report["imported"] == len(employee_nos), report
    assert _api(server, "POST", "/exposure-records/compute")["records"] >= len(employee_nos)


def _user_id(server: ServerProcess, name: str) -> int:
    return next(u["id"] for u in _api(server, "GET", "/users") if u["name"] == name)


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as poppler's pdftotext reads it (pypdf where poppler-utils is not installed)."""
    exe = shutil.which("pdftotext")
    if exe is None:
        from pypdf import PdfReader

        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    path = tmp_path / "file.pdf"
    path.write_bytes(pdf)
    return subprocess.run([exe, "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout


def test_record_keeper_adds_a_chinese_named_worker_opens_the_record_and_downloads_the_pdf(server, browser,
                                                                                         tmp_path):
    _plant(server)
    page = sign_in(server, browser, "/workers", user="rk", role="record_keeper",
                   viewport={"width": 1280, "height": 900})
    page.wait_for_selector("form#new-worker", timeout=5000)
    # the form says in place what is wrong: no employee number, a leave date before the hire date
    page.fill("#new-worker-name", CHINESE)
    page.fill("#new-worker-hire_date", "2024-05-02")
    page.fill("#new-worker-leave_date", "2024-05-01")
    page.click("#new-worker button[type=submit]")
    assert page.locator('#new-worker [data-error-for="employee_no"]').inner_text().strip()
    assert "before the hire date" in page.locator('#new-worker [data-error-for="leave_date"]').inner_text()
    page.fill("#new-worker-leave_date", "")
    page.fill("#new-worker-employee_no", "CN-001")
    page.fill("#new-worker-department", "冲压车间")
    page.select_option("#new-worker-shift_pattern", "day")
    page.click("#new-worker button[type=submit]")
    page.wait_for_url("**/workers/CN-001", timeout=5000)
    page.wait_for_selector('.identity[data-worker="CN-001"]', timeout=5000)
    assert CHINESE in page.locator(".identity h1").inner_text()

    # an employee number taken: the refusal sits next to the field
    page.goto(server.url + "/workers")
    page.wait_for_selector(".add-worker summary", timeout=5000)  # closed: there are workers now
    page.click(".add-worker summary")
    page.fill("#new-worker-employee_no", "CN-001")
    page.fill("#new-worker-name", "someone else")
    page.click("#new-worker button[type=submit]")
    page.wait_for_selector('#new-worker [aria-invalid="true"][name="employee_no"]', timeout=5000)
    assert "exists" in page.locator('#new-worker [data-error-for="employee_no"]').inner_text()

    # the search finds the worker by the Chinese name and by a part of it
    page.goto(server.url + "/workers?q=" + "小明")
    page.wait_for_selector('tr[data-employee="CN-001"]', timeout=5000)
    page.goto(server.url + "/workers?q=nobody-like-this")
    page.wait_for_selector("table.workers", timeout=5000)
    assert page.locator('tr[data-employee="CN-001"]').count() == 0

    _roster(server, "CN-001")
    page.goto(server.url + "/workers?zone=A")
    page.wait_for_selector('tr[data-employee="CN-001"]', timeout=5000)
    _shot(page, "workers")
    page.click('tr[data-employee="CN-001"] td a >> nth=1')
    page.wait_for_selector("tr[data-record]", timeout=5000)
    assert page.locator(".timeline li[data-zone=A]").count() == 1
    page.click("tr[data-record] a.open-record")
    page.wait_for_selector("figure.record-chart[data-drawn]", timeout=5000)
    detail = page.locator("#record-detail").inner_text()
    assert "GBZ 2.1-2019" in detail and "v1" in detail and "area presence" in detail
    _shot(page, "worker-file")

    # edited in place: the department emptied, the job and the leave date set (a date before hiring refused)
    page.click(".edit-worker summary")
    page.fill("#edit-worker-department", "")
    page.fill("#edit-worker-job", "压力机操作工")
    page.fill("#edit-worker-leave_date", "2020-01-01")
    page.click("#edit-worker button[type=submit]")
    assert "before the hire date" in page.locator('#edit-worker [data-error-for="leave_date"]').inner_text()
    page.fill("#edit-worker-leave_date", "")
    page.click("#edit-worker button[type=submit]")
    page.wait_for_selector('.identity dd:has-text("压力机操作工")', timeout=5000)
    assert page.locator(".identity dl").inner_text().count("压力机操作工") == 1

    href = page.locator('a.export[data-format="pdf"]').get_attribute("href")
    r = page.request.get(server.url + href)
    assert r.status == 200 and r.body().startswith(b"%PDF")
    text = _pdf_text(r.body(), tmp_path)
    assert CHINESE in text, text[:500]
    csv = page.request.get(server.url + page.locator('a.export[data-format="csv"]').get_attribute("href"))
    assert csv.status == 200 and "CN-001" in csv.text()


def test_a_worker_sees_their_own_file_and_nobody_elses(server, browser):
    _plant(server, spike=True)
    server.add_user("wk", "worker")
    own = _api(server, "POST", "/workers", json={"employee_no": "W-OWN", "name": "Own Worker",
                                                "user_id": _user_id(server, "wk")})
    other = _api(server, "POST", "/workers", json={"employee_no": "W-OTHER", "name": "Other Person"})
    _roster(server, "W-OWN", "W-OTHER")
    _api(server, "POST", f"/workers/{own['id']}/exams", json={"exam_type": "periodic", "status": "done",
                                                              "exam_date": "2025-01-10", "outcome": "fit",
                                                              "findings": "own findings"})
    page = sign_in(server, browser, "/me", user="wk", role="worker", viewport={"width": 390, "height": 844},
                   is_mobile=True)
    page.wait_for_selector('.identity[data-worker="W-OWN"]', timeout=5000)
    assert page.locator('nav a[href="/me"]').is_visible()
    assert page.locator("tr[data-record]").count() >= 1
    assert "own findings" in page.locator("section.exams").inner_text()  # their own results
    assert "Other Person" not in page.content()
    page.click("tr[data-record] a.open-record")
    page.wait_for_selector("figure.record-chart[data-drawn]", timeout=5000)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    _shot(page, "me-phone")
    pdf = page.request.get(server.url + page.locator('a.export[data-format="pdf"]').get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # anyone else's file: the page's part, a record, every export, the API
    other_record = _api(server, "GET", f"/workers/{other['id']}/exposure-records")[0]["id"]
    for path in ("/web/partials/worker-file?employee_no=W-OTHER", "/web/partials/worker-file?employee_no=NOPE",
                 f"/web/partials/exposure-records/{other_record}", "/web/partials/exposure-records/999999",
                 "/web/partials/workers", f"/api/v1/workers/{other['id']}/export.pdf",
                 f"/api/v1/workers/{other['id']}/export.csv", f"/api/v1/workers/{other['id']}/export.json",
                 f"/api/v1/workers/{other['id']}/file", f"/api/v1/workers/{other['id']}"):
        r = page.request.get(server.url + path)
        assert r.status in (403, 404), (path, r.status)
        assert "Other Person" not in r.text()
    page.goto(server.url + "/workers/W-OTHER")
    page.wait_for_selector(".refused", timeout=5000)
    assert "Other Person" not in page.content()
    _shot(page, "worker-refused")

    # every view of their own file is in the audit log
    with server._session() as s:  # the server's own audit table (no API reads it yet)
        reads = [(a, t) for a, t in s.execute(select(AuditEntry.action, AuditEntry.target)
                                              .where(AuditEntry.actor == "user:wk")).all()
                 if a in ("health.file.read", "health.exposure.read", "health.file.export")]
    reads = [{"action": a, "target": t} for a, t in reads]
    assert {e["target"] for e in reads} == {f"worker:{own['id']}"}
    assert {e["action"] for e in reads} >= {"health.file.read", "health.exposure.read", "health.file.export"}


def test_a_safety_manager_never_sees_an_exam_result(browser, tmp_path):
    """... on a site in Shanghai: the page's times are the site's (CST), the shift 07:00-15:00 local."""
    server = ServerProcess(tmp_path / "cn", health_scheduler_s="0", health_timezone="Asia/Shanghai")
    server.start()
    try:
        _safety_manager_walk(server, browser)
    finally:
        server.stop()


def _safety_manager_walk(server: ServerProcess, browser: Any) -> None:
    _plant(server, SHANGHAI)
    w = _api(server, "POST", "/workers", json={"employee_no": "W-EX", "name": "Examined Worker"})
    _roster(server, "W-EX", tz=SHANGHAI)
    _api(server, "POST", f"/workers/{w['id']}/exams", json={"exam_type": "periodic", "status": "done",
                                                            "exam_date": "2025-01-10", "outcome": "restricted",
                                                            "findings": SECRET})
    # on shift now in zone A when its monitor reads 80 ppm: the critical CO alert, linked to the worker
    now = wall_ms()
    _api(server, "POST", "/assignments", json={"worker_id": w["id"], "zone": "A", "start_ms": now - 30 * MIN,
                                               "end_ms": now + 30 * MIN})
    body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": 4, "sent_ms": now,
            "readings": [{"sensor": "a-co", "quantity": "co", "value": v, "unit": "ppm", "ts": now - (3 - k) * 1000,
                          "interval_s": None, "flags": []} for k, v in enumerate((12.0, 80.0, 85.0))]}
    r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(body), timeout=30,
                   headers={"Authorization": f"Bearer {server.agent_token('plant-a', 'gw-1')}"})
    assert r.status_code == 200, r.text
    page = sign_in(server, browser, "/workers/W-EX", user="sm", role="safety_manager",
                   viewport={"width": 1280, "height": 900})
    page.wait_for_selector('.identity[data-worker="W-EX"]', timeout=5000)
    assert page.locator(".withheld").is_visible()
    assert SECRET not in page.content() and "restricted" not in page.locator("section.exams").inner_text()
    assert page.locator('a.export[data-format="csv-exams"]').count() == 0
    alert = page.locator('.event[data-kind="alert"]')
    assert alert.count() == 1 and "critical" in alert.inner_text(), page.locator("section.events").inner_text()
    page.wait_for_selector("figure.evidence-chart[data-drawn]", timeout=5000)
    shift = page.locator("tr[data-record] a.open-record").inner_text()
    assert shift == f"{_yesterday(SHANGHAI)} 07:00 CST – 15:00", shift
    page.click("tr[data-record] a.open-record")
    page.wait_for_selector("figure.record-chart[data-drawn]", timeout=5000)
    assert SECRET not in page.content()
    for fmt in ("json", "csv-events"):
        r = page.request.get(server.url + page.locator(f'a.export[data-format="{fmt}"]').get_attribute("href"))
        assert r.status == 200 and SECRET not in r.text()
    _shot(page, "worker-safety-manager")

    rk = sign_in(server, browser, "/workers/W-EX", user="rk", role="record_keeper")
    rk.wait_for_selector('.identity[data-worker="W-EX"]', timeout=5000)
    assert SECRET in rk.locator("section.exams").inner_text()


def test_the_shells_hold_no_data_and_their_parts_need_a_session(server):
    """/workers, a worker's page and /me are served without data; every part answers 401 without a session."""
    w = _api(server, "POST", "/workers", json={"employee_no": "W-1", "name": "Nobody Sees This"})
    for path in ("/workers", "/workers/W-1", "/me"):
        r = httpx.get(server.url + path, timeout=10)
        assert r.status_code == 200 and "Nobody Sees This" not in r.text, path
    for path in ("/web/partials/workers", "/web/partials/worker-file?employee_no=W-1", "/web/partials/me",
                 "/web/partials/exposure-records/1", f"/api/v1/workers/{w['id']}/export.pdf"):
        assert httpx.get(server.url + path, timeout=10).status_code == 401, path
