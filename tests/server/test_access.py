"""Who may do what: nothing but health and login without a token, live data for staff roles only, password
login through a session cookie, and a public page that holds no data. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.server.api_kit import PASSWORD, batch, bearer, now_ms, reading, user_token

PUBLIC = {"/api/v1/health", "/api/v1/auth/login", "/api/v1/agents/enroll"}
LIVE_DATA = ["/api/v1/sensors", "/api/v1/readings?sensor=tank-3-gas", "/api/v1/alerts", "/api/v1/status"]
STAFF_ROLES = ["admin", "safety_manager", "facilities", "record_keeper", "auditor"]


def _api_routes(app) -> list[tuple[str, str]]:
    """Every (method, path) under /api/v1 but the public ones, from the app's own OpenAPI description (this
    FastAPI nests included routers in `app.routes`, so the schema is the stable enumeration)."""
    out = []
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/api/v1") and path not in PUBLIC:
            out.extend((method.upper(), path) for method in sorted(operations))
    return out


def test_every_non_public_route_needs_a_token(app, client):
    """Every /api/v1 route but health, login and enrolment answers 401 without a token."""
    routes = _api_routes(app)
    assert {path for _, path in routes} >= {"/api/v1/ingest", "/api/v1/sensors", "/api/v1/readings",
                                            "/api/v1/alerts", "/api/v1/status", "/api/v1/auth/me"}
    for method, path in routes:
        r = client.request(method, path)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers.get("www-authenticate") == "Bearer"


def test_public_routes_answer_without_a_token(client):
    """Health is public; login is reachable (and refuses a wrong password with 401, not 403); enrolment is
reachable and refuses an unknown code with 403."""
    health = client.get("/api/v1/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    r = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong password"})
    assert r.status_code == 401
    r = client.post("/api/v1/agents/enroll", json={"code": "AAAA-BBBB-CCCC-DDDD"})
    assert r.status_code == 403 and r.json()["detail"] == "unknown enrolment code"


@pytest.fixture
def with_data(client, agent_headers):
    r = client.post("/api/v1/ingest", content=batch(1, [reading(value=2.0, ts=now_ms() - 1000)]),
                    headers=agent_headers)
    assert r.status_code == 200


def test_worker_cannot_read_live_data(app, client, with_data):
    """A worker sees only their own health file: 403 on sensors, readings, alerts and status."""
    token = user_token(app, "wang.li", "worker")
    for path in LIVE_DATA:
        assert client.get(path, headers=bearer(token)).status_code == 403, path
    assert client.get("/api/v1/auth/me", headers=bearer(token)).json() == {"name": "wang.li", "role": "worker",
                                                                                "language": "en", "chosen": False}


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_roles_read_live_data(app, client, with_data, role):
    """admin, safety_manager, facilities, record_keeper and auditor read sensors, readings, alerts, status."""
    token = user_token(app, f"user-{role}", role)
    for path in LIVE_DATA:
        assert client.get(path, headers=bearer(token)).status_code == 200, path


def test_login_sets_a_session_cookie_that_authenticates(app, client):
    """The right password sets an HttpOnly session cookie; with it /auth/me answers who is logged in."""
    user_token(app, "safety.chief", "safety_manager")
    r = client.post("/api/v1/auth/login", json={"username": "safety.chief", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "safety_manager"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("hazmon_session="))
    assert cookie.startswith("hazmon_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    me = client.get("/api/v1/auth/me")  # the client sends the cookie back, no Authorization header
    assert me.status_code == 200
    assert me.json() == {"name": "safety.chief", "role": "safety_manager", "language": "en", "chosen": False}
    assert client.get("/api/v1/sensors").status_code == 200


def test_session_token_also_works_as_a_bearer(app, client):
    """The login answer's token authenticates as a bearer too (for scripts)."""
    user_token(app, "safety.chief", "safety_manager")
    token = client.post("/api/v1/auth/login", json={"username": "safety.chief", "password": PASSWORD}).json()["token"]
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers=bearer(token)).json()["name"] == "safety.chief"


def test_logout_ends_the_session(app, client):
    """After logout the session cookie no longer authenticates."""
    user_token(app, "safety.chief", "safety_manager")
    token = client.post("/api/v1/auth/login", json={"username": "safety.chief", "password": PASSWORD}).json()["token"]
    assert client.post("/api/v1/auth/logout").status_code == 200
    client.cookies.clear()
    client.cookies.set("hazmon_session", token)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_wrong_password_is_refused_and_sets_no_cookie(app, client):
    """A wrong password is 401, sets no cookie, and is counted."""
    user_token(app, "safety.chief", "safety_manager")
    r = client.post("/api/v1/auth/login", json={"username": "safety.chief", "password": "not the password"})
    assert r.status_code == 401
    assert "set-cookie" not in r.headers
    assert client.get("/api/v1/auth/me").status_code == 401


def test_page_is_public_html_without_data(client, agent_headers):
    """GET / serves the live page to anyone; the page itself holds no sensor names or values."""
    r = client.post("/api/v1/ingest", content=batch(1, [reading("secret-tank-17", value=13.37, ts=now_ms() - 1)]),
                    headers=agent_headers)
    assert r.status_code == 200
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "<form id=\"login\"" in page.text
    assert "secret-tank-17" not in page.text and "13.37" not in page.text
