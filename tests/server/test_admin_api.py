"""The API the administration pages add: accounts created with a role and changed to another (audited; the last
admin keeps theirs), the audit log filtered by user, worker, action and local time and exported as CSV (ISO
times, formulas defused, the export audited); local times parsed in the site's zone."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

import pytest

from server.accounts.audit import audit
from server.web.admin_times import BadTime, iso, local_text, parse_local
from tests.kit.server import PASSWORD, session
from tests.server.api_kit import bearer, user_token


def test_an_admin_creates_an_account_and_changes_its_role(client, admin_headers):
    """POST /users makes an account that can sign in; a taken name is 409, an unknown role 422; PUT .../role
    applies at the account's next request and is audited with the old and new role."""
    r = client.post("/api/v1/users", json={"name": "zhang.wei", "role": "record_keeper", "password": PASSWORD},
                    headers=admin_headers)
    assert r.status_code == 201 and r.json()["role"] == "record_keeper"
    again = client.post("/api/v1/users", json={"name": "zhang.wei", "role": "worker", "password": PASSWORD},
                        headers=admin_headers)
    assert again.status_code == 409
    bad = client.post("/api/v1/users", json={"name": "x1", "role": "boss", "password": PASSWORD},
                      headers=admin_headers)
    assert bad.status_code == 422 and "one of admin" in bad.text
    login = client.post("/api/v1/auth/login", json={"username": "zhang.wei", "password": PASSWORD})
    token = login.json()["token"]
    assert client.get("/api/v1/workers", headers=bearer(token)).status_code == 200
    r = client.put("/api/v1/users/zhang.wei/role", json={"role": "worker"}, headers=admin_headers)
    assert r.status_code == 200 and r.json()["role"] == "worker"
    assert client.get("/api/v1/workers", headers=bearer(token)).status_code == 403
    entries = client.get("/api/v1/audit", params={"action": "user_role_set"}, headers=admin_headers).json()
    assert [(e["actor"], e["target"], e["detail"]) for e in entries["entries"]] == [
        ("user:admin", "user:zhang.wei", "role=record_keeper->worker")]
    assert client.put("/api/v1/users/nobody/role", json={"role": "worker"}, headers=admin_headers).status_code == 404


def test_the_last_admin_keeps_the_admin_role(client, admin_headers):
    """Demoting the only enabled admin is refused (422): nobody could administer the server."""
    r = client.put("/api/v1/users/admin/role", json={"role": "auditor"}, headers=admin_headers)
    assert r.status_code == 422 and "last enabled admin" in r.text


def test_the_audit_log_filters_and_exports(app, client, admin_headers):
    """By user (the actor, with or without `user:`), worker (employee number), action and local time; the CSV
    has ISO times at the site's offset, a cell that starts like a formula is quoted, and the export is audited."""
    user_token(app, "chief", "safety_manager")
    w = client.post("/api/v1/workers", json={"employee_no": "E-7", "name": "李雷"}, headers=admin_headers).json()
    with session(app) as s, s.begin():
        audit(s, ts_ms=1_764_810_000_000, actor="user:chief", action="alert_ack", target="alert:1",
              detail="=HYPERLINK(\"x\")")  # 2025-12-04 01:00 UTC
    get = lambda **q: client.get("/api/v1/audit", params=q, headers=admin_headers)  # noqa: E731
    assert [e["action"] for e in get(user="chief").json()["entries"]] == ["alert_ack"]
    by_worker = get(worker="E-7").json()["entries"]
    assert by_worker and {e["target"] for e in by_worker} == {f"worker:{w['id']}"}
    assert "李雷" not in str(by_worker)
    assert get(worker="E-404").status_code == 422
    # UTC is the test settings' zone: 01:00 is inside [00:30, 01:00] (the minute given is included)
    assert get(**{"from": "2025-12-04T00:30", "to": "2025-12-04T01:00"}).json()["total"] == 1
    assert get(**{"from": "2025-12-04T01:01"}, action="alert_ack").json()["total"] == 0
    assert get(**{"to": "2025-12-04"}).json()["total"] == 1  # a date: the whole day
    assert get(**{"from": "tomorrow"}).status_code == 422
    assert get(**{"from": "2025-12-05", "to": "2025-12-04"}).status_code == 422

    r = client.get("/api/v1/audit.csv", params={"user": "chief"}, headers=admin_headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows == [{"time": "2025-12-04T01:00:00+00:00", "actor": "user:chief", "action": "alert_ack",
                     "target": "alert:1", "detail": "'=HYPERLINK(\"x\")"}]
    assert get(action="audit.export").json()["entries"][0]["detail"] == "user=chief"
    staff = bearer(user_token(app, "fac", "facilities"))
    assert client.get("/api/v1/audit", headers=staff).status_code == 403
    assert client.get("/api/v1/audit.csv").status_code == 401


def test_local_times_are_read_and_written_in_the_site_zone():
    """A picker's value is the site's wall clock (a skipped or repeated hour takes the earlier reading); a bad
    value names its field; shown times and CSV times are in the zone, never epoch ms."""
    sh = ZoneInfo("Asia/Shanghai")
    ms = parse_local("2026-12-04T08:30", sh, field="from")
    assert ms == 1_796_344_200_000  # 00:30 UTC
    assert local_text(ms, sh) == "2026-12-04 08:30:00" and iso(ms, sh) == "2026-12-04T08:30:00+08:00"
    ny = ZoneInfo("America/New_York")
    repeated = parse_local("2026-11-01T01:30", ny, field="to")
    assert repeated is not None and iso(repeated, ny) == "2026-11-01T01:30:00-04:00"
    assert parse_local("2026-12-04T08:30+08:00", ny, field="from") == ms  # an API client's offset is kept
    assert parse_local("  ", sh, field="from") is None
    with pytest.raises(BadTime, match="from: 'soon'"):
        parse_local("soon", sh, field="from")
