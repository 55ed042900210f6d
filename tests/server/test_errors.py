"""One error handler for the whole app: a 500 answers with a reference id and the log line holds only the
reference, the route template and the exception type; database integrity errors are 409/422 with a reason;
SQL parameters never reach an error message or a log; the access log has no query strings."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from server.accounts.models import User
from server.db.session import make_engine
from server.settings import Settings
from tests.kit.log_leaks import sensitive
from tests.kit.server import ServerProcess, build_app, session
from tests.server.api_kit import bearer, user_token

NAME = sensitive("Zhang Wei")
EMPLOYEE = sensitive("ZW-20417")


def _app_with_failing_routes(tmp_path, database_url):
    """The real app plus two routes of the test's own that fail the way a bug in a route would."""
    app = build_app(tmp_path, database_url)

    @app.get("/api/v1/test-fails/{worker}")
    def fails(worker: str) -> None:
        raise RuntimeError(f"worker {worker} is {NAME}")

    @app.get("/api/v1/test-db-fails")
    def db_fails() -> None:
        with session(app) as s:
            s.execute(text("SELECT * FROM no_such_table WHERE name = :n"), {"n": NAME})

    return app


def test_unhandled_error_is_500_with_a_reference_and_logs_no_message(tmp_path, database_url, caplog):
    """Any unhandled exception: 500 JSON with a reference; the log line names the reference, the route template
    and the exception type, never the message or the path's values."""
    app = _app_with_failing_routes(tmp_path, database_url)
    caplog.set_level(logging.DEBUG)
    with TestClient(app) as client:
        r = client.get(f"/api/v1/test-fails/{EMPLOYEE}?who={NAME}")
        r2 = client.get("/api/v1/test-db-fails")
    assert r.status_code == 500 and r2.status_code == 500
    ref = r.json()["ref"]
    assert ref in r.json()["detail"] and NAME not in r.text and NAME not in r2.text
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "server.errors"]
    line = next(x for x in lines if ref in x)
    assert "/api/v1/test-fails/{worker}" in line and "builtins.RuntimeError" in line
    assert all(NAME not in x and EMPLOYEE not in x for x in (rec.getMessage() for rec in caplog.records))
    assert any(r2.json()["ref"] in x and "sqlalchemy.exc" in x for x in lines)


def test_engine_errors_never_hold_sql_parameters(tmp_path, database_url):
    """Every engine hides its SQL parameters: a failed statement's message does not show the values bound."""
    engine = make_engine(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        with pytest.raises(DBAPIError) as err, engine.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table WHERE name = :n"), {"n": NAME})
        assert NAME not in str(err.value)
    finally:
        engine.dispose()


def _worker(client: TestClient, headers: dict[str, str], employee_no: str, **fields: object) -> httpx.Response:
    return client.post("/api/v1/workers", headers=headers,
                       json={"employee_no": sensitive(employee_no), "name": NAME, **fields})


def test_worker_user_link_and_null_fields_are_4xx(app, client, database_url):
    """An unknown user_id is a 422, a user already linked to another worker a 409, null for a required field in a
    PATCH a 422 naming the field; none is a 500 and nothing is changed."""
    rk = bearer(user_token(app, "records", "record_keeper"))
    user_token(app, "wang.li", "worker")
    with session(app) as s:
        uid = s.execute(select(User.id).where(User.name == "wang.li")).scalar_one()
    assert _worker(client, rk, "ZW-1", user_id=999_999).status_code == 422
    first = _worker(client, rk, "ZW-2", user_id=uid)
    assert first.status_code == 201
    r = _worker(client, rk, "ZW-3", user_id=uid)
    assert r.status_code == 409 and "linked" in r.json()["detail"]
    other = _worker(client, rk, "ZW-4").json()["id"]
    assert client.patch(f"/api/v1/workers/{other}", headers=rk, json={"user_id": uid}).status_code == 409
    assert client.patch(f"/api/v1/workers/{other}", headers=rk, json={"user_id": 2**40}).status_code == 422
    r = client.patch(f"/api/v1/workers/{other}", headers=rk, json={"name": None})
    assert r.status_code == 422 and r.json()["detail"] == "name may not be null"
    assert client.get(f"/api/v1/workers/{other}", headers=rk).json()["name"] == NAME


def test_integrity_error_is_409_with_a_reason(app, client, admin_headers):
    """A duplicate the route did not check for (a post code twice in a zone) is a 409 naming the constraint, not
    a 500 with the row in the log."""
    assert client.post("/api/v1/zones", headers=admin_headers, json={"code": "Z1", "name": "zone"}).status_code == 201
    body = {"code": "P1", "name": "press 1"}
    assert client.post("/api/v1/zones/Z1/posts", headers=admin_headers, json=body).status_code == 201
    r = client.post("/api/v1/zones/Z1/posts", headers=admin_headers, json=body)
    assert r.status_code == 409, r.text
    assert r.json()["detail"].startswith("the request duplicates an existing record") and "ref" in r.json()


@pytest.mark.slow
def test_access_log_has_no_query_string(tmp_path):
    """The served access log shows the path without its query (which can hold file names, employee numbers)."""
    server = ServerProcess(tmp_path / "srv", log_level="info")
    server.start()
    try:
        httpx.get(f"{server.url}/api/v1/health", params={"employee": EMPLOYEE}, timeout=10)
    finally:
        server.stop()
    log = server.log_text()
    assert "GET /api/v1/health HTTP/1.1" in log
    assert EMPLOYEE not in log
