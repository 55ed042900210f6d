"""The declarative base every feature's models share. The schema is owned by the Alembic migrations in
server/migrations; each feature package declares its own tables in its `models.py`."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import DeclarativeBase

BigInt = BigInteger().with_variant(Integer, "sqlite")  # SQLite: INTEGER PRIMARY KEY is the rowid


class Base(DeclarativeBase):
    pass
