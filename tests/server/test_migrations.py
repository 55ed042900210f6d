"""The Alembic migrations and the SQLAlchemy models describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from server.db.base import Base
from server.db.session import upgrade


def test_migrations_create_every_table_column_and_index_the_models_declare(empty_database_url: str) -> None:
    """After `upgrade heads`, autogenerate finds nothing to add or remove (type spellings aside)."""
    engine = create_engine(empty_database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    structural = [d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_type")]
    assert structural == []
