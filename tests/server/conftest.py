"""The test folders mirror the package names and are not packages, so with pytest's default import mode
`tests/<name>` (on sys.path through tests/conftest.py) would shadow the real package as an empty namespace
package. Put the repository root first so `import agent`, `exposure`, `server` find the real ones.
(The lasting fix is `pythonpath = ["."]` in pyproject's pytest options.)"""

from __future__ import annotations

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [_REPO]:
    sys.path.insert(0, _REPO)

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

sys.path.insert(1, str(Path(__file__).parent))  # api_kit, whatever the import mode
from api_kit import agent_token, bearer, user_token  # noqa: E402

from server.app import create_app  # noqa: E402
from server.settings import Settings  # noqa: E402


@pytest.fixture
def app(tmp_path, database_url) -> FastAPI:
    """The server app on the test's database (SQLite file or PostgreSQL), schema upgraded at start-up."""
    return create_app(Settings(data_dir=tmp_path, database_url=database_url), migrate=True)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:  # runs the lifespan: engine, migrations, sessionmaker
        yield c


@pytest.fixture
def agent_headers(app, client) -> dict[str, str]:
    return bearer(agent_token(app))


@pytest.fixture
def admin_headers(app, client) -> dict[str, str]:
    return bearer(user_token(app, "admin", "admin"))
