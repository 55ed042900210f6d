"""Engine, sessions and migrations, created from settings (never at import time)."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from server.settings import Settings


def make_engine(settings: Settings) -> Engine:
    """The engine; SQL parameters never appear in its errors or logs (`hide_parameters`): they hold personal
    data."""
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.database_url, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # an ack means the batch survives power loss
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(settings.database_url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                         hide_parameters=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("server") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema.

    Feature areas (delivery, alerts, health files) each own a migration branch off the initial schema, so
    `heads` is the target; a merge revision joins them when two branches touch the same table.
    """
    cfg = alembic_config(str(engine.url))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")


class SchemaOutdated(Exception):
    """The database is not at the newest schema: `hazmon server db upgrade` brings it there."""


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutdated when the database's Alembic revisions are not the newest heads (an empty database,
    or one an older hazmon left). Connection errors propagate (SQLAlchemy's OperationalError)."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    newest = set(script.get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current != newest:
        at = ", ".join(sorted(current)) or "empty"
        raise SchemaOutdated(f"the schema is at {at}, the newest is {', '.join(sorted(newest))}")
