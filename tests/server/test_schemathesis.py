"""schemathesis over the OpenAPI spec: every operation, with an admin token and a worker token, never a 5xx.

Bounded: a few examples per operation (derandomised, so a run is repeatable), the whole test well under two
minutes. `POST /api/v1/auth/logout` is left out: it ends the session of the token the run uses.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.core import NOT_SET

from tests.server.api_kit import bearer, user_token

EXAMPLES = 8
SKIP = {("POST", "/api/v1/auth/logout")}


def _request(client: TestClient, case: Any, token: dict[str, str]) -> Any:
    kwargs: dict[str, Any] = {"params": case.query or None,
                              "headers": {**{k: str(v) for k, v in (case.headers or {}).items()}, **token}}
    if case.body is not NOT_SET:
        media = case.media_type or "application/json"
        if "json" in media:
            kwargs["content"] = json.dumps(case.body, allow_nan=False).encode()
        else:
            kwargs["content"] = case.body if isinstance(case.body, bytes) else str(case.body).encode()
        kwargs["headers"]["content-type"] = media
    return client.request(case.method, case.formatted_path, **kwargs)


@pytest.mark.slow
def test_no_operation_answers_5xx_to_schema_generated_input(app, client):
    """For every operation in the OpenAPI spec, inputs generated from the spec (valid and invalid) sent with an
    admin token and with a worker token never get a server error."""
    tokens = {"admin": bearer(user_token(app, "st-admin", "admin")),
              "worker": bearer(user_token(app, "st-worker", "worker"))}
    schema = schemathesis.openapi.from_dict(app.openapi())
    errors: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        operations += 1

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            for who, token in tokens.items():
                r = _request(client, case, token)
                if r.status_code >= 500:
                    errors.append(f"{who}: {case.method} {case.formatted_path} query={case.query} -> "
                                  f"{r.status_code} {r.text[:200]}")

        run()
    assert operations > 50
    assert not errors, "\n".join(sorted(set(errors))[:40])
