"""Shared fixtures: free ports, and the SQL databases every server test runs against (SQLite and PostgreSQL).

PostgreSQL: the server on 127.0.0.1:5432 (HAZMON_TEST_PG_URL to point elsewhere). A missing PostgreSQL skips
locally with a reason and fails in CI (CI=true), where a skipped backend would hide a missing install step.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("HAZMON_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI") == "true"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_missing(what: str) -> None:
    """Fail in CI, skip with a reason elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} is not available, and CI must provide it (see .ci/run)")
    pytest.skip(f"{what} is not available here")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the test session, dropped at the end."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"hazmon_test_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        service_missing(f"PostgreSQL at {PG_ADMIN_URL} ({exc.orig})")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each server test runs once on SQLite (a file in tmp_path) and once on PostgreSQL (emptied after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hazmon.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    _empty(url)


def _empty(url: str) -> None:
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()
