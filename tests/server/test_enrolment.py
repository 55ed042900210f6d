"""Agent enrolment through the API: an admin's one-time code is exchanged once for a working agent token; a used,
expired or unknown code is refused with one clear message; a new token leaves the agent's old one valid. On SQLite
and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.kit.clock import Clock
from tests.kit.server import build_app
from tests.server.api_kit import agent_token, bearer, user_token


def _code(client, headers, **body) -> str:
    r = client.post("/api/v1/agents/enroll-codes", json={"site": "plant-a", **body}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["code"]


def test_a_code_is_exchanged_once_for_a_working_token(client, admin_headers):
    """The first exchange gives a token that /agents/me accepts; the second is refused with 410."""
    code = _code(client, admin_headers, agent="gw-7")
    r = client.post("/api/v1/agents/enroll", json={"code": code.lower()})  # typed in any case
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["site"], body["agent"]) == ("plant-a", "gw-7") and body["token"].startswith("hzm_a_")
    me = client.get("/api/v1/agents/me", headers=bearer(body["token"])).json()
    assert (me["site"], me["agent"]) == ("plant-a", "gw-7")
    again = client.post("/api/v1/agents/enroll", json={"code": code})
    assert again.status_code == 410 and again.json()["detail"].startswith("enrolment code already used")


def test_a_code_without_an_agent_takes_the_name_the_box_asks_for(client, admin_headers):
    """A site-only code names the agent after the box's request."""
    r = client.post("/api/v1/agents/enroll", json={"code": _code(client, admin_headers), "agent": "box-3"})
    assert r.json()["agent"] == "box-3"


def test_an_expired_code_is_refused(tmp_path, database_url):
    """A code past its expiry answers 410 saying so."""
    clock = Clock()
    app = build_app(tmp_path, database_url, clock=clock)
    with TestClient(app) as client:
        headers = bearer(user_token(app, "admin", "admin"))
        code = _code(client, headers, expires_s=60)
        clock.advance(61_000)
        r = client.post("/api/v1/agents/enroll", json={"code": code})
    assert r.status_code == 410 and r.json()["detail"].startswith("enrolment code expired")


def test_only_admins_make_codes(app, client):
    """A safety manager may not make an enrolment code (403)."""
    headers = bearer(user_token(app, "chief", "safety_manager"))
    r = client.post("/api/v1/agents/enroll-codes", json={"site": "plant-a"}, headers=headers)
    assert r.status_code == 403


def test_a_new_agent_token_leaves_the_old_one_valid(app, client):
    """Issuing a second token for an agent does not cut off the first: both are accepted."""
    first = agent_token(app)
    second = agent_token(app)
    assert first != second
    for token in (first, second):
        assert client.get("/api/v1/agents/me", headers=bearer(token)).status_code == 200
