"""SQLAlchemy models. The schema is owned by the Alembic migrations in server/migrations."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

BigInt = BigInteger().with_variant(Integer, "sqlite")  # SQLite: INTEGER PRIMARY KEY is the rowid


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(256))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    disabled: Mapped[bool] = mapped_column(default=False)


class ApiToken(Base):
    """Bearer tokens for people and automation (`kind` api) and browser sessions (`kind` session)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(128), default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("site", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_seen_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class IngestedBatch(Base):
    """One row per accepted batch: the idempotency key (agent, seq) and a digest of its readings."""

    __tablename__ = "ingested_batches"
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_ms: Mapped[int] = mapped_column(BigInteger)
    n_readings: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))


class Sensor(Base):
    __tablename__ = "sensors"
    __table_args__ = (UniqueConstraint("site", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    first_seen_ms: Mapped[int] = mapped_column(BigInteger)


class ReadingRow(Base):
    __tablename__ = "readings"
    __table_args__ = (Index("ix_readings_sensor_quantity_ts", "sensor_id", "quantity", "ts"),)
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"))
    quantity: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    ts: Mapped[int] = mapped_column(BigInteger)
    interval_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    flags: Mapped[str] = mapped_column(String(256), default="")
    agent_id: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(BigInteger)


class Latest(Base):
    """The latest value of each (sensor, quantity), kept on ingest for the live view."""

    __tablename__ = "latest"
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), primary_key=True)
    quantity: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    ts: Mapped[int] = mapped_column(BigInteger)
    flags: Mapped[str] = mapped_column(String(256), default="")


class Alert(Base):
    __tablename__ = "alerts"
    # one open episode per (rule, sensor), and per (rule, worker) for worker rules (migrations 0001, 0005)
    __table_args__ = (
        Index(
            "uq_alerts_open_episode", "rule_id", "sensor_id", unique=True,
            sqlite_where=text("state != 'resolved' AND worker_id IS NULL"),
            postgresql_where=text("state != 'resolved' AND worker_id IS NULL"),
        ),
        Index(
            "uq_alerts_open_worker_episode", "rule_id", "worker_id", unique=True,
            sqlite_where=text("state != 'resolved' AND worker_id IS NOT NULL"),
            postgresql_where=text("state != 'resolved' AND worker_id IS NOT NULL"),
        ),
        Index("ix_alerts_state_opened", "state", "opened_ts"),  # migration 0004
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"))
    quantity: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    threshold: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    opened_ts: Mapped[int] = mapped_column(BigInteger)
    trigger_value: Mapped[float] = mapped_column(Float)
    worst_value: Mapped[float] = mapped_column(Float)
    last_ts: Mapped[int] = mapped_column(BigInteger)
    resolved_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # the lifecycle (migration 0004)
    site: Mapped[str | None] = mapped_column(String(64), nullable=True)
    zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    metric: Mapped[str] = mapped_column(String(24), default="value", server_default="value")
    origin: Mapped[str] = mapped_column(String(16), default="server", server_default="server")
    current_severity: Mapped[str | None] = mapped_column(String(16), nullable=True)
    step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ack_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolve_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # migration 0005: the worker an alert of a worker rule is about, and what the metric was computed over
    worker_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditEntry(Base):
    """Append-only: who did what to which record, and when. Never holds personal health data."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256))
    detail: Mapped[str] = mapped_column(Text, default="")
