"""The role matrix (tests/server/role_matrix.py, generated from the routes' dependencies) is what docs/api.md
shows, and each route admits exactly the principals it says: every route x admin, safety_manager, facilities,
record_keeper, worker, auditor, an agent token and no token at all."""

from __future__ import annotations

import re

import pytest

from tests.server import role_matrix
from tests.server.api_kit import agent_token, bearer, user_token

#: a value for each path parameter that names nothing (so no route changes a real record)
DUMMY = {"name": "nobody", "sensor": "no-such-sensor", "zone": "NOZONE", "person_id": "nobody"}


def test_docs_api_md_carries_the_current_matrix():
    """docs/api.md holds the generated table; regenerate with `python -m tests.server.role_matrix --write`."""
    text = role_matrix.DOC.read_text(encoding="utf-8")
    assert role_matrix.START in text, "run python -m tests.server.role_matrix --write"
    assert role_matrix.doc_with(text, role_matrix.matrix()) == text, \
        "docs/api.md is stale: run python -m tests.server.role_matrix --write"


def test_every_operation_of_the_spec_is_in_the_matrix(app):
    """No route escapes the matrix."""
    spec = app.openapi()
    ops = sorted((m.upper(), p) for p, item in spec["paths"].items() for m in item)
    assert sorted((e.method, e.path) for e in role_matrix.matrix(app)) == ops


@pytest.mark.slow
def test_each_route_admits_exactly_the_principals_of_the_matrix(app, client):
    """A refused principal gets 401 (no person's or agent's token) or 403 (a role without the right; a health
    route validates its body before it checks the action, so 422 there); an admitted one never gets 401 or 403."""
    headers = {role: bearer(user_token(app, f"m-{role}", role)) for role in role_matrix.ROLES}
    headers["agent"] = bearer(agent_token(app))
    headers["anonymous"] = {}
    wrong: list[str] = []
    for e in role_matrix.matrix(app):
        if e.path == "/api/v1/auth/logout":  # it would end the session the loop uses (tested on its own)
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: DUMMY.get(m[1], "999999"), e.path)
        for who in role_matrix.PRINCIPALS:
            kwargs = {"json": {}} if e.method in ("POST", "PUT", "PATCH") else {}
            status = client.request(e.method, path, headers=headers[who], **kwargs).status_code
            admitted = e.access[who] == "yes"
            refused_ok = {401, 403} | ({422} if e.how.startswith("health action") else set())
            if (admitted and status in (401, 403)) or (not admitted and status not in refused_ok):
                wrong.append(f"{e.method} {e.path} as {who}: {status} (matrix: {e.cell(who)})")
    assert not wrong, "\n".join(wrong)
