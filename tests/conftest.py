"""Fixtures every test folder shares, built on the kit (tests/kit/): the SQL databases every server test runs
against (SQLite and PostgreSQL, copies of a migrated template), notification receivers, and the order tests run in.

PostgreSQL: the server on 127.0.0.1:5432 (HAZMON_TEST_PG_URL to point elsewhere). A missing PostgreSQL skips
locally with a reason and fails in CI (CI=true), where a skipped backend would hide a missing install step.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.databases import PostgresServer, SqliteTemplate
from tests.kit.log_leaks import LogLeaks
from tests.kit.receivers import Mailbox, Receiver, smtp_server, webhook_server


def pytest_configure(config: pytest.Config) -> None:
    """The log-leak check over the whole run (tests/kit/log_leaks.py)."""
    config.pluginmanager.register(LogLeaks(), "hazmon_log_leaks")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long tests first (stable otherwise): with pytest-xdist the longest ones start at once on both workers
    instead of ending the run alone on one."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# -- SQL databases ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    """One SQLite file at the newest schema, migrated once per session (per xdist worker)."""
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The PostgreSQL server; every database made through it is dropped at the end of the session."""
    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    """This session's (xdist worker's) PostgreSQL database at the newest schema, emptied after each test."""
    return postgres.create("shared")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each server test runs once on SQLite (tmp_path/hazmon.db) and once on PostgreSQL, both at the newest
    schema and empty."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_template").copy(tmp_path / "hazmon.db")
        return
    url = request.getfixturevalue("postgres_url")
    postgres: PostgresServer = request.getfixturevalue("postgres")
    try:
        yield url
    finally:
        postgres.empty(url)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, on SQLite and on PostgreSQL (for tests of the migrations themselves)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    postgres: PostgresServer = request.getfixturevalue("postgres")
    url = postgres.create("empty", migrated=False)
    yield url
    postgres.drop(url)


@pytest.fixture
def fresh_postgres(postgres: PostgresServer) -> Iterator[str]:
    """A PostgreSQL database of the test's own at the newest schema (several server processes can share it)."""
    url = postgres.create("fresh")
    yield url
    postgres.drop(url)


@pytest.fixture
def empty_postgres(postgres: PostgresServer) -> Iterator[str]:
    """An empty PostgreSQL database of the test's own, no schema."""
    url = postgres.create("empty", migrated=False)
    yield url
    postgres.drop(url)


# -- notification receivers ------------------------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def webhook() -> Iterator[Receiver]:
    with webhook_server() as receiver:
        yield receiver
