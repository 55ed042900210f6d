"""SQL databases for the tests, each a copy of a migrated template (far faster than running Alembic per test).

SQLite: one file migrated per session (per xdist worker), copied into each test's directory.
PostgreSQL: the server at 127.0.0.1:5432 (HAZMON_TEST_PG_URL points elsewhere). Per session (per worker) one
migrated template database; every test database is `CREATE DATABASE ... TEMPLATE` of it, named after the run and the
xdist worker, and every database the session created is dropped at its end.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import OperationalError

from tests.kit import server_internals
from tests.kit.require import service_missing

PG_ADMIN_URL = os.environ.get("HAZMON_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

_migrated: set[str] = set()


def is_migrated(url: str) -> bool:
    """The database at `url` was made by the kit from a migrated template (the app need not upgrade it)."""
    return url in _migrated


def worker_id() -> str:
    """The pytest-xdist worker ("gw0", "gw1", ...), or "main" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


class SqliteTemplate:
    """One SQLite file brought to the newest schema once; `copy()` gives a test its own database."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"
        server_internals.migrate(f"sqlite:///{self.path}")

    def copy(self, path: Path) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path, path)
        url = f"sqlite:///{path}"
        _migrated.add(url)
        return url


class PostgresServer:
    """The PostgreSQL server for one session: creates databases (empty, or copies of the migrated template),
    empties them between tests, and drops all of them in `close()`."""

    def __init__(self, admin_url: str = PG_ADMIN_URL) -> None:
        self.admin_url = admin_url
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with self.admin.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            self.admin.dispose()
            service_missing(f"PostgreSQL at {admin_url} ({exc.orig})")
        self.prefix = f"hazmon_kit_{secrets.token_hex(3)}_{worker_id()}"
        self.created: list[str] = []
        self._template: str | None = None
        self._engines: dict[str, Engine] = {}
        self._tables: dict[str, list[str]] = {}

    def url(self, name: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def _create(self, suffix: str, template: str | None = None) -> str:
        name = f"{self.prefix}_{len(self.created)}_{suffix}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.created.append(name)
        return name

    def template(self) -> str:
        """The migrated template's name (made on first use; nothing may stay connected to it)."""
        if self._template is None:
            name = self._create("template")
            server_internals.migrate(self.url(name))
            self._template = name
        return self._template

    def create(self, suffix: str, *, migrated: bool = True) -> str:
        """A new database: a copy of the migrated template, or empty. Returns its URL."""
        name = self._create(suffix, self.template() if migrated else None)
        url = self.url(name)
        if migrated:
            _migrated.add(url)
        return url

    def empty(self, url: str) -> None:
        """Delete every row and restart every sequence (what a fresh copy of the template holds), touching only
        the tables that have rows: truncating all of them costs more than most tests."""
        engine = self._engines.get(url)
        if engine is None:
            engine = self._engines[url] = create_engine(url, pool_size=1)
            with engine.connect() as conn:
                self._tables[url] = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        tables = self._tables[url]
        probe = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
        with engine.begin() as conn:
            full = list(conn.execute(text(probe)).scalars()) if tables else []
            if full:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in full) + " RESTART IDENTITY CASCADE"))
            conn.execute(text("SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) FROM pg_sequences"
                              " WHERE last_value IS NOT NULL"))

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        engine = self._engines.pop(url, None)
        if engine is not None:
            engine.dispose()
        with self.admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        if name in self.created:
            self.created.remove(name)
        _migrated.discard(url)

    def close(self) -> None:
        """Drop every database this session created, the template last."""
        for name in reversed(list(self.created)):
            self.drop(self.url(name))
        self.admin.dispose()
