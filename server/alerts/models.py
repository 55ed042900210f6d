"""Alerts and the evaluator state behind them, and the edge alarm events agents deliver (migrations 0001,
0004, 0005)."""

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base


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
        Index(  # one open watchdog episode per (rule, agent) (migration 0008)
            "uq_alerts_open_agent_episode", "rule_id", "agent_id", unique=True,
            sqlite_where=text("state != 'resolved' AND agent_id IS NOT NULL"),
            postgresql_where=text("state != 'resolved' AND agent_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    # the sensor an alert is about; None for an alert about an agent (watchdog.agent_*, migration 0008)
    sensor_id: Mapped[int | None] = mapped_column(ForeignKey("sensors.id"), nullable=True)
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
    # migration 0008: the agent a watchdog alert is about
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AlertState(Base):
    """The evaluator state of one (rule, sensor): metric accumulators and level timers, as JSON."""

    __tablename__ = "alert_state"
    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sensor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(Text, default="{}")


class AlertWorkerState(Base):
    """The evaluator state of one (rule, worker) of a worker rule (migration 0005)."""

    __tablename__ = "alert_worker_state"
    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    worker_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(Text, default="{}")


class EdgeAlarmEvent(Base):
    """An alarm event raised by an agent, stored once per (agent, event id) and linked to its alert."""

    __tablename__ = "edge_alarm_events"
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    alert_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    received_ms: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)

