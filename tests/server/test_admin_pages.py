"""The administration pages in a real browser (Debian's Chromium) against a real server process whose site time
zone is Asia/Shanghai: an admin creates an account and disables it (it can no longer sign in), revokes the token
of a running agent (a real `hazmon agent run` process posting over HTTP is refused at its next batch), filters
the audit log with the date and time pickers and downloads the CSV (ISO times in the site's zone, no epoch ms),
and sees the standing warnings on the settings page; a safety manager has no administration link and gets 403
from the partials and the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.kit.browser import chromium, screenshot, sign_in
from tests.kit.processes import Proc
from tests.kit.server import REPO, ServerProcess, hazmon_env
from tests.kit.waiting import wait_for

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
ZONE = "Asia/Shanghai"
SHOTS = Path(os.environ.get("HAZMON_SHOTS", "/tmp/wt-admin-shots"))
_sign_in = partial(sign_in, user="root", role="admin", viewport={"width": 1280, "height": 900})
_shot = partial(screenshot, directory=SHOTS)
PARTIALS = ("/web/partials/admin/users", "/web/partials/admin/tokens", "/web/partials/admin/audit",
            "/web/partials/admin/settings")
API = (("GET", "/api/v1/users"), ("GET", "/api/v1/audit"), ("GET", "/api/v1/audit.csv"),
       ("GET", "/api/v1/agent-tokens"), ("POST", "/api/v1/users"), ("PUT", "/api/v1/users/root/role"))


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "server", health_timezone=ZONE)
    proc.start()
    yield proc
    proc.stop()


def _login(server: ServerProcess, user: str, password: str) -> int:
    return httpx.post(f"{server.url}/api/v1/auth/login", json={"username": user, "password": password},
                      timeout=10).status_code


def _wait_text(page, selector: str, text: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until `selector` holds `text` (no wait_for_function: the pages' CSP forbids eval)."""
    page.locator(selector).filter(has_text=text).first.wait_for(timeout=5000)


def _accept_dialogs(page) -> list[str]:  # type: ignore[no-untyped-def]
    said: list[str] = []

    def accept(d) -> None:  # type: ignore[no-untyped-def]
        said.append(d.message)
        d.accept()

    page.on("dialog", accept)
    return said


def test_admin_creates_an_account_and_disables_it(server, browser):
    """The new account (a record-keeper with a Chinese-free ASCII name and a generated password) can sign in;
    after Disable (confirmed) its row says disabled, its password is refused and its session gets 401."""
    page = _sign_in(server, browser, "/admin/users")
    assert page.locator('header.top nav a[href="/admin/users"]').is_visible()
    page.wait_for_selector('tr[data-user="root"]', timeout=5000)
    page.fill("#new-name", "lin.na")
    page.select_option("#new-role", "record_keeper")
    page.click('#user-create button.generate')
    password = page.input_value("#new-password")
    assert len(password) == 16
    page.click("#user-create button[type=submit]")
    row = page.wait_for_selector('tr[data-user="lin.na"][data-state="enabled"]', timeout=5000)
    assert row.query_selector("select").input_value() == "record_keeper"
    assert password in page.inner_text("#user-create .result")  # shown once, to hand over
    assert _login(server, "lin.na", password) == 200
    session = httpx.post(f"{server.url}/api/v1/auth/login", json={"username": "lin.na", "password": password},
                         timeout=10).json()["token"]
    me = httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {session}"}, timeout=10)
    assert me.status_code == 200 and me.json()["role"] == "record_keeper"

    # a new role applies from the next request
    page.select_option('tr[data-user="lin.na"] select', "auditor")
    page.click('tr[data-user="lin.na"] .role-form button')
    _wait_text(page, "#users-said", "New role of lin.na saved")
    page.wait_for_selector('tr[data-user="lin.na"] select option[selected][value="auditor"]', state="attached",
                           timeout=5000)
    me = httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {session}"}, timeout=10)
    assert me.json()["role"] == "auditor"

    said = _accept_dialogs(page)
    page.click('tr[data-user="lin.na"] button.disable')
    page.wait_for_selector('tr[data-user="lin.na"][data-state="disabled"]', timeout=5000)
    assert said and "Disable lin.na" in said[0]
    _shot(page, "admin-users")
    assert _login(server, "lin.na", password) == 401
    me = httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {session}"}, timeout=10)
    assert me.status_code == 401

    # and in a browser of its own: the sign-in form refuses it
    other = browser.new_context().new_page()
    other.goto(server.url + "/")
    other.wait_for_selector("#login:not([hidden])", timeout=5000)
    other.fill("#username", "lin.na")
    other.fill("#password", password)
    other.click("#login button[type=submit]")
    _wait_text(other, "#error", "Wrong")
    assert other.locator("#app").is_hidden()

    # an admin sets a new password (the user is enabled again first)
    page.click('tr[data-user="lin.na"] button.enable')
    page.wait_for_selector('tr[data-user="lin.na"][data-state="enabled"]', timeout=5000)
    page.fill('tr[data-user="lin.na"] .password-form input', "a brand new secret")
    page.click('tr[data-user="lin.na"] .password-form button[type=submit]')
    _wait_text(page, 'tr[data-user="lin.na"] .password-form .result', "a brand new secret")
    assert _login(server, "lin.na", password) == 401
    assert _login(server, "lin.na", "a brand new secret") == 200


def _agent(directory: Path, server: ServerProcess, token: str) -> Proc:
    """`hazmon agent run`: a simulated gas monitor every 0.2 s, posted over HTTP with `token`."""
    directory.mkdir(parents=True, exist_ok=True)
    cfg = directory / "agent.toml"
    cfg.write_text(
        f'schema_version = 1\nsite = "plant-a"\nagent = "gw-1"\ndata_dir = "{directory / "data"}"\n'
        f'[uplink]\ntype = "http"\nurl = "{server.url}"\ntoken = "{token}"\nstatus_interval_s = 1.0\n'
        'retry_max_s = 0.5\n[outbox]\nflush_interval_s = 0.2\n'
        '[[sources]]\ntype = "simulator"\nname = "gas-1"\nkind = "gas"\ninterval_s = 0.2\n')
    return Proc("agent", [sys.executable, "-m", "hazmon", "agent", "run", "-c", str(cfg)], env=hazmon_env(),
                cwd=REPO, log=directory / "agent.log")


def _stored(server: ServerProcess) -> int:
    """How many readings of the agent's sensor the server holds (0 before its first batch)."""
    r = httpx.get(f"{server.url}/api/v1/readings", params={"sensor": "gas-1", "limit": 100_000},
                  headers={"Authorization": f"Bearer {server.admin_token()}"}, timeout=30)
    if r.status_code == 404:
        return 0
    r.raise_for_status()
    body = r.json()
    return len(body["readings"] if isinstance(body, dict) else body)


def _denied_ingests(server: ServerProcess) -> int:
    body = server.get("/audit", action="request_denied")
    return sum(1 for e in body["entries"] if e["target"] == "POST /api/v1/ingest")


def test_revoked_agent_token_is_refused_at_once(server, browser, tmp_path):
    """A running agent's batches are stored; once its token is revoked on /admin/tokens (confirmed), the next
    batch it posts is refused (401, audited as a denied request) and nothing more of it is stored; a batch posted
    by hand with the token gets 401 too."""
    token = server.agent_token("plant-a", "gw-1")
    agent = _agent(tmp_path / "agent", server, token)
    agent.start()
    try:
        wait_for(lambda: _stored(server) >= 10, timeout=30, what="the agent's readings")
        page = _sign_in(server, browser, "/admin/tokens")
        row = page.wait_for_selector('tr[data-kind="agent"][data-owner="plant-a/gw-1"]', timeout=5000)
        assert token not in page.content()  # never the secret
        assert "(this browser)" in page.inner_text('tr[data-kind="session"][data-owner="root"]')
        assert "not yet" not in row.inner_text()  # the agent's last request is known
        _shot(page, "admin-tokens")
        said = _accept_dialogs(page)
        page.click('tr[data-kind="agent"][data-owner="plant-a/gw-1"] button.disable')
        page.wait_for_selector('tr[data-kind="agent"][data-owner="plant-a/gw-1"]', state="detached", timeout=5000)
        revoked_at = time.monotonic()
        assert said and "401" in said[0]
        # the agent's very next batch is refused: within a second or two (it posts every 0.2 s)
        wait_for(lambda: _denied_ingests(server) >= 1, timeout=10, what="the agent's batch refused")
        assert time.monotonic() - revoked_at < 5
        stored = _stored(server)
        time.sleep(1.5)  # the agent keeps trying (it is running): nothing more of it is stored
        assert agent.running()
        assert _stored(server) == stored
        assert _denied_ingests(server) >= 2
    finally:
        agent.stop()
    now = time.time_ns() // 1_000_000
    batch = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": 10_000, "sent_ms": now,
             "readings": [{"sensor": "gas-1", "quantity": "co", "value": 1.0, "unit": "ppm", "ts": now,
                           "interval_s": None, "flags": []}]}
    r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(batch),
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 401
    revokes = server.get("/audit", action="agent_token_revoke")["entries"]
    assert [e["actor"] for e in revokes] == ["user:root"]


def test_audit_log_filtered_and_exported_as_csv(server, browser):
    """Filtered by action and by a time range picked in the site's zone, the log lists only those entries; the
    CSV download holds the same ones with ISO 8601 times at +08:00 and no epoch milliseconds; a bad range is
    said beside the form."""
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    for name in ("wang.fang", "li.lei"):
        r = httpx.post(f"{server.url}/api/v1/users", json={"name": name, "role": "worker", "password": PASSWORD},
                       headers=admin, timeout=10)
        assert r.status_code == 201, r.text
    page = _sign_in(server, browser, "/admin/audit")
    page.wait_for_selector("table.audit tbody tr[data-entry]", timeout=5000)
    tz = ZoneInfo(ZONE)
    now = dt.datetime.now(tz)
    # a worker's file read by a record-keeper: found by the worker's employee number
    r = httpx.post(f"{server.url}/api/v1/workers", json={"employee_no": "E-1024", "name": "王芳"}, headers=admin,
                   timeout=10)
    assert r.status_code == 201, r.text
    worker_id = r.json()["id"]
    assert httpx.get(f"{server.url}/api/v1/workers/{worker_id}", headers=admin, timeout=10).status_code == 200
    page.fill("#f-worker", "E-1024")
    page.click("#audit-filter button[type=submit]")
    page.locator(f'table.audit tbody tr[data-entry]:not(:has-text("worker:{worker_id}"))').first.wait_for(
        state="detached", timeout=5000)
    assert page.locator("table.audit tbody tr[data-entry]").count() >= 2  # created, read
    assert "王芳" not in page.inner_text("table.audit")  # ids, never names
    page.fill("#f-worker", "")

    page.select_option("#f-action", "user_add")
    page.fill("#f-from", (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#f-to", (now + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    page.click("#audit-filter button[type=submit]")
    page.locator('table.audit tbody tr[data-entry]:not([data-action="user_add"])').first.wait_for(
        state="detached", timeout=5000)
    rows = page.locator("table.audit tbody tr[data-entry]")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert any("user:wang.fang" in t for t in texts) and any("user:li.lei" in t for t in texts)
    shown = [dt.datetime.strptime(t[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz) for t in texts]
    assert all(abs((w - now).total_seconds()) < 600 for w in shown)  # the site's local time, not UTC, not ms
    _shot(page, "admin-audit")

    with page.expect_download(timeout=10_000) as got:
        page.click("#audit-csv")
    data = Path(got.value.path()).read_text(encoding="utf-8")
    table = list(csv.DictReader(io.StringIO(data)))
    assert table and {r["action"] for r in table} == {"user_add"}
    assert {"user:wang.fang", "user:li.lei"} <= {r["target"] for r in table}
    for r in table:
        t = dt.datetime.fromisoformat(r["time"])
        assert r["time"].endswith("+08:00") and abs((t - now).total_seconds()) < 3600
    assert not re.search(r"\b1\d{12}\b", data)  # no epoch milliseconds anywhere

    # the export was audited; the time range outside today's entries finds nothing
    assert server.get("/audit", action="audit.export")["total"] == 1
    page.fill("#f-from", "2020-01-01T00:00")
    page.fill("#f-to", "2020-01-02T00:00")
    page.click("#audit-filter button[type=submit]")
    _wait_text(page, "#audit-count", "0 entries")
    page.fill("#f-from", "2020-01-03T00:00")
    page.click("#audit-filter button[type=submit]")
    page.wait_for_selector("#audit-error", timeout=5000)
    assert "before from" in page.inner_text("#audit-error")


def test_audit_log_pages(server, browser):
    """More entries than a page holds: Older shows the next page, the count says which page."""
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    for k in range(60):
        r = httpx.post(f"{server.url}/api/v1/users", json={"name": f"w{k:02d}", "role": "worker",
                                                          "password": PASSWORD}, headers=admin, timeout=10)
        assert r.status_code == 201
    page = _sign_in(server, browser, "/admin/audit")
    page.wait_for_selector("#audit-count", timeout=5000)
    assert "page 1 of 2" in page.inner_text("#audit-count")
    assert page.locator("table.audit tbody tr[data-entry]").count() == 50
    page.click(".pager button.older")
    _wait_text(page, "#audit-count", "page 2 of 2")


def test_settings_page_shows_the_standing_warnings(server, browser):
    """With no notification policy, no backup, an overdue calibration and an agent never heard since it was
    registered, the settings page lists each warning and what is configured (SQLite, MQTT off, the profile,
    the site's time zone)."""
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    token = server.agent_token("plant-a", "gw-1")
    now = time.time_ns() // 1_000_000
    batch = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": 1, "sent_ms": now,
             "readings": [{"sensor": "tank-3-gas", "quantity": "h2s", "value": 1.0, "unit": "ppm", "ts": now,
                           "interval_s": None, "flags": []}]}
    r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(batch),
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    today = dt.datetime.now(dt.UTC).date()
    r = httpx.put(f"{server.url}/api/v1/sensors/tank-3-gas/calibration", headers=admin, timeout=10,
                  json={"last_calibrated": str(today - dt.timedelta(days=200)), "calibration_interval_days": 180})
    assert r.status_code == 200, r.text
    server.agent_token("plant-b", "gw-9")  # registered, never heard: offline
    page = _sign_in(server, browser, "/admin/settings")
    page.wait_for_selector(".standing .warnings li", timeout=5000)
    warnings = page.inner_text(".standing")
    assert "no notification channel" in warnings
    assert "no backup configured" in warnings
    assert "tank-3-gas at plant-a" in warnings and "calibration" in warnings
    assert "agent plant-b/gw-9 offline" in warnings
    assert page.get_attribute('[data-setting="database"]', "data-state") == "ok"
    assert page.inner_text('[data-setting="database"]').startswith("SQLite")
    assert page.inner_text('[data-setting="MQTT ingest"]') == "off"
    assert page.inner_text('[data-setting="time zone"]') == ZONE
    assert "China" in page.inner_text('[data-setting="site profile (jurisdiction)"]')
    assert page.get_attribute('[data-setting="backup"]', "data-state") == "warn"
    _shot(page, "admin-settings")

    page.goto(server.url + "/admin/agents")
    page.wait_for_selector('.card[data-agent="plant-a/gw-1"]', timeout=5000)
    page.fill("#enrol-site", "plant-c")
    page.click("#enrol button[type=submit]")
    _wait_text(page, "#enrol .result", "Enrolment code")
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", page.inner_text("#enrol .result"))
    assert code is not None
    _shot(page, "admin-agents")
    r = httpx.post(f"{server.url}/api/v1/agents/enroll", json={"code": code.group(0), "agent": "gw-3"}, timeout=10)
    assert r.status_code == 200 and r.json()["site"] == "plant-c"


def test_safety_manager_has_no_administration(server, browser):
    """A safety manager sees no administration link; every admin partial and API answers 403."""
    page = sign_in(server, browser, "/", user="chief", role="safety_manager")
    assert page.locator('header.top nav a[href="/admin/users"]').is_hidden()
    for path in PARTIALS:
        assert page.evaluate("(p) => fetch(p).then(r => r.status)", path) == 403, path
    for method, path in API:
        status = page.evaluate("([m, p]) => fetch(p, {method: m, headers: {'Content-Type': 'application/json'},"
                               " body: m === 'GET' ? undefined : '{}'}).then(r => r.status)", [method, path])
        assert status == 403, (method, path)
    page.goto(server.url + "/admin/users")
    page.wait_for_selector("#app:not([hidden])", timeout=5000)
    _wait_text(page, "#users", "admins only")
    assert page.locator("#user-create").is_hidden()
    _shot(page, "admin-refused")
