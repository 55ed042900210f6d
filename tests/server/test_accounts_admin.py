"""Accounts and tokens in the API for admins: users listed, disabled, enabled, given a new password; API and agent
tokens listed (never the token), created (with an optional expiry) and revoked, and a revoked or expired token
gets 401 at once; logout revokes the token it was given."""

from __future__ import annotations

from sqlalchemy import update

from server.accounts.models import ApiToken
from tests.kit.server import PASSWORD, session
from tests.server.api_kit import AGENT, SITE, batch, bearer, now_ms, user_token


def test_only_an_admin_manages_accounts(app, client, admin_headers):
    """Every accounts route refuses other roles (403) and anonymous requests (401)."""
    staff = bearer(user_token(app, "chief", "safety_manager"))
    for method, path in (("GET", "/users"), ("GET", "/api-tokens"), ("GET", "/agent-tokens"),
                         ("POST", "/users/chief/disable"), ("DELETE", "/api-tokens/1")):
        assert client.request(method, f"/api/v1{path}", headers=staff).status_code == 403, path
        assert client.request(method, f"/api/v1{path}").status_code == 401, path
    names = [(u["name"], u["role"], u["disabled"]) for u in client.get("/api/v1/users", headers=admin_headers).json()]
    assert names == [("admin", "admin", False), ("chief", "safety_manager", False)]


def test_an_api_token_is_listed_and_revoked_and_then_gets_401(app, client, admin_headers):
    """POST /api-tokens shows the token once; GET lists it by id and label only; DELETE revokes it at once."""
    r = client.post("/api/v1/api-tokens", json={"user": "admin", "label": "script",
                                                "expires_ms": now_ms() + 86_400_000}, headers=admin_headers)
    assert r.status_code == 201
    token = r.json()["token"]
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    listed = client.get("/api/v1/api-tokens", params={"user": "admin"}, headers=admin_headers)
    assert token not in listed.text
    row = next(t for t in listed.json() if t["label"] == "script")
    assert row["kind"] == "api" and row["expires_ms"] is not None
    assert client.delete(f"/api/v1/api-tokens/{row['id']}", headers=admin_headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    assert client.delete(f"/api/v1/api-tokens/{row['id']}", headers=admin_headers).status_code == 404
    past = client.post("/api/v1/api-tokens", json={"user": "admin", "expires_ms": 1}, headers=admin_headers)
    assert past.status_code == 422


def test_an_expired_token_gets_401(app, client, admin_headers):
    """A token past its expiry is refused like an unknown one."""
    token = client.post("/api/v1/api-tokens", json={"user": "admin", "label": "soon",
                                                    "expires_ms": now_ms() + 60_000},
                        headers=admin_headers).json()["token"]
    with session(app) as s:
        s.execute(update(ApiToken).where(ApiToken.label == "soon").values(expires_ms=now_ms() - 1))
        s.commit()
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401


def test_a_new_agent_token_keeps_the_old_one_until_it_is_revoked(app, client, admin_headers):
    """Two tokens of one agent both ingest; revoking the first gives it 401 on its next batch."""
    made = [client.post("/api/v1/agent-tokens", json={"site": SITE, "agent": AGENT, "label": label},
                        headers=admin_headers) for label in ("first", "second")]
    assert [m.status_code for m in made] == [201, 201]
    first, second = (bearer(m.json()["token"]) for m in made)
    assert client.post("/api/v1/ingest", content=batch(1, []), headers=first).status_code == 200
    assert client.post("/api/v1/ingest", content=batch(2, []), headers=second).status_code == 200
    listed = client.get("/api/v1/agent-tokens", params={"site": SITE}, headers=admin_headers).json()
    assert [(t["site"], t["agent"], t["label"]) for t in listed] == [(SITE, AGENT, "first"), (SITE, AGENT, "second")]
    assert client.delete(f"/api/v1/agent-tokens/{listed[0]['id']}", headers=admin_headers).status_code == 200
    assert client.post("/api/v1/ingest", content=batch(3, []), headers=first).status_code == 401
    assert client.post("/api/v1/ingest", content=batch(3, []), headers=second).status_code == 200


def test_logout_revokes_the_token_it_was_given(app, client):
    """A bearer session token used for logout gets 401 right after."""
    user_token(app, "chief", "safety_manager")
    login = client.post("/api/v1/auth/login", json={"username": "chief", "password": PASSWORD})
    token = bearer(login.json()["token"])
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers=token).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=token).status_code == 200
    assert client.get("/api/v1/auth/me", headers=token).status_code == 401


def test_disable_enable_and_set_password(app, client, admin_headers):
    """A disabled user's token gets 401 until enabled; an admin cannot disable themself; a new password works and
    the old one no longer does."""
    token = bearer(user_token(app, "chief", "safety_manager"))
    assert client.post("/api/v1/users/chief/disable", headers=admin_headers).json()["disabled"] is True
    assert client.get("/api/v1/auth/me", headers=token).status_code == 401
    assert client.post("/api/v1/users/chief/enable", headers=admin_headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=token).status_code == 200
    assert client.post("/api/v1/users/admin/disable", headers=admin_headers).status_code == 422
    assert client.post("/api/v1/users/ghost/disable", headers=admin_headers).status_code == 404
    r = client.put("/api/v1/users/chief/password", json={"password": "another long one"}, headers=admin_headers)
    assert r.status_code == 200
    login = client.post("/api/v1/auth/login", json={"username": "chief", "password": "another long one"})
    assert login.status_code == 200
    assert client.post("/api/v1/auth/login", json={"username": "chief", "password": PASSWORD}).status_code == 401
