"""The server app on the test's database (SQLite and PostgreSQL), a client that runs its lifespan, and headers
with an agent token and an admin token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.kit.server import build_app
from tests.server.api_kit import agent_token, bearer, user_token


@pytest.fixture
def app(tmp_path, database_url) -> FastAPI:
    """The server app on the test's database (SQLite file or PostgreSQL), at the newest schema."""
    return build_app(tmp_path, database_url)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:  # runs the lifespan: engine, sessionmaker, background tasks
        yield c


@pytest.fixture
def agent_headers(app, client) -> dict[str, str]:
    return bearer(agent_token(app))


@pytest.fixture
def admin_headers(app, client) -> dict[str, str]:
    return bearer(user_token(app, "admin", "admin"))
