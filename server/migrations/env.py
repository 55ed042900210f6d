"""Alembic environment. The engine (or URL) comes from the caller through `config.attributes`, never from a
global: `server.db.session.upgrade(settings)` runs the migrations."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import server.accounts.documents
import server.accounts.models
import server.alerts.models
import server.calibration.models
import server.emergency.models
import server.health.models
import server.notify.models
import server.org.models
import server.series.models
import server.web.board_links  # noqa: F401  (every feature's tables, so the metadata is complete)
from server.db.base import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", hide_parameters=True)
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
