"""Every denied request leaves an audit entry (who, what, why): no token, a bad token, an agent's token on a
person's route, a role that may not, a worker that does not exist, a refused exams export (recorded as refused,
not as served); the entry names the route template, never the query or a token."""

from __future__ import annotations

from sqlalchemy import select

from server.accounts.models import AuditEntry
from tests.kit.server import session
from tests.server.api_kit import bearer, user_token


def _entries(app) -> list[tuple[str, str, str, str]]:
    with session(app) as s:
        return [(e.actor, e.action, e.target, e.detail) for e in s.execute(select(AuditEntry)).scalars()]


def test_requests_without_a_valid_token_or_role_are_audited(app, client, agent_headers):
    """No token, an unknown token, an agent token on a person's route and a role refusal: one entry each."""
    assert client.get("/api/v1/readings", params={"sensor": "E-4471-secret"}).status_code == 401
    assert client.get("/api/v1/workers", headers=bearer("hzm_u_not-a-token")).status_code == 401
    assert client.get("/api/v1/workers/7", headers=agent_headers).status_code == 401
    staff = bearer(user_token(app, "chief", "safety_manager"))
    assert client.get("/api/v1/users", headers=staff).status_code == 403
    assert client.post("/api/v1/ingest", content=b"{}", headers=staff).status_code == 401
    denied = [e for e in _entries(app) if e[1] == "request_denied"]
    assert [(a, t) for a, _, t, _ in denied] == [
        ("anonymous", "GET /api/v1/readings"), ("unknown token", "GET /api/v1/workers"),
        ("agent token", "GET /api/v1/workers/{worker_id}"), ("user:chief", "GET /api/v1/users"),
        ("not an agent token", "POST /api/v1/ingest")]
    assert all("secret" not in str(e) and "hzm_" not in str(e) for e in _entries(app))


def test_unknown_workers_and_refused_exam_exports_are_audited(app, client):
    """A request for a worker that does not exist is audited with the 404; an exams CSV the role may not read is
    audited as refused and not as an export."""
    rk = bearer(user_token(app, "records", "record_keeper"))
    manager = bearer(user_token(app, "chief", "safety_manager"))
    assert client.get("/api/v1/workers/4242", headers=rk).status_code == 404
    assert client.get("/api/v1/workers/4243/samples", headers=rk).status_code == 404
    created = client.post("/api/v1/workers", headers=rk, json={"employee_no": "ZX-1001", "name": "Test Worker"})
    wid = created.json()["id"]
    r = client.get(f"/api/v1/workers/{wid}/export.csv", params={"part": "exams"}, headers=manager)
    assert r.status_code == 403
    entries = _entries(app)
    assert ("user:records", "health.worker.read.not_found", "worker:4242", "") in entries
    assert ("user:records", "health.exposure.read.not_found", "worker:4243", "") in entries
    assert ("user:chief", "health.exams.read.denied", f"worker:{wid}", "") in entries
    assert not [e for e in entries if e[0] == "user:chief" and e[1] == "health.file.export"]
