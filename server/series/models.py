"""The data plane: the agents that send series and what is known of their delivery (batches stored, the gap
ledger, reported status), the sensors, raw readings, the latest value of each, one-minute rollups and the InfluxDB
cursor (migrations 0001, 0002). Ingest writes them; every read of the series goes through server.series."""

from __future__ import annotations

import math

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, BigInt


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
    # the sensor's usual time between readings, learned on ingest (watchdog.sensor_silent, migration 0008)
    interval_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # the newest reading without an unreliable flag (sensor_fault, warmup, out_of_range; migration 0011): a
    # sensor that only reports faults is silent for watchdog.sensor_silent
    valid_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


LEVELS = frozenset({"laeq", "lcpeak"})  # decibels: rolled up on energy, not arithmetically


def energy_to_level(mean_energy: float) -> float:
    """The level (dB) of a mean of 10^(L/10) values: the energetic mean."""
    return 10 * math.log10(mean_energy)


class Rollup1m(Base):
    """One-minute aggregates per (sensor, quantity); additive, so late readings simply add in.
    `energy_sum` is Σ 10^(L/10) for sound levels (the energetic mean of dB values)."""

    __tablename__ = "rollups_1m"
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), primary_key=True)
    quantity: Mapped[str] = mapped_column(String(32), primary_key=True)
    minute_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    value_sum: Mapped[float] = mapped_column(Float)
    value_min: Mapped[float] = mapped_column(Float)
    value_max: Mapped[float] = mapped_column(Float)
    energy_sum: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(16))


class InfluxCursor(Base):
    """How far the raw readings have been copied to InfluxDB (the last readings.id written)."""

    __tablename__ = "influx_cursor"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_reading_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_ms: Mapped[int] = mapped_column(BigInteger, default=0)


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


class AgentToken(Base):
    """The bearer tokens of an agent (migrations 0013, 0014): several may be active at once, so issuing a new one
    never cuts off a running agent; a token stops working when `revoked_ms` is set or `expires_ms` has passed.
    `agents.token_hash` keeps the agent's first token for older code; authentication reads this table only."""

    __tablename__ = "agent_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    revoked_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    label: Mapped[str] = mapped_column(String(128), default="")
    #: None: never expires (migration 0014)
    expires_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class EnrolmentCode(Base):
    """A one-time code that a site box exchanges for its agent token (migration 0013). Only a hash of the code is
    stored; `used_ms` is set by the one exchange that succeeds."""

    __tablename__ = "agent_enrolment_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    site: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(128))
    expires_ms: Mapped[int] = mapped_column(BigInteger)
    used_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)


class IngestedBatch(Base):
    """One row per accepted batch: the idempotency key (agent, seq) and a digest of its readings."""

    __tablename__ = "ingested_batches"
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_ms: Mapped[int] = mapped_column(BigInteger)
    n_readings: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))


class DeliveryGap(Base):
    """Batches of an agent that the server has not received although later ones arrived: [first_seq, last_seq],
    between the readings at `after_ts` (the last before the gap) and `before_ts` (the first after it)."""

    __tablename__ = "delivery_gaps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    after_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    before_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    detected_ms: Mapped[int] = mapped_column(BigInteger)


class EdgeGapRow(Base):
    """Readings an agent could not keep (its disk was full), as it reported them in batch `seq`: `dropped`
    readings of `sensor` between `from_ts` and `to_ts`, and why. Kept for good: the record of a hole in the data."""

    __tablename__ = "edge_gaps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    sensor: Mapped[str] = mapped_column(String(128), index=True)
    from_ts: Mapped[int] = mapped_column(BigInteger)
    to_ts: Mapped[int] = mapped_column(BigInteger)
    dropped: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    received_ms: Mapped[int] = mapped_column(BigInteger)


class AgentStatus(Base):
    """What an agent last said about itself (MQTT status topic, or POST /api/v1/agent-status), and the highest
    batch the server has seen from it."""

    __tablename__ = "agent_status"
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    max_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    max_seq_last_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    reported_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    version: Mapped[str] = mapped_column(String(32), default="")
    outbox_batches: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outbox_readings: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    oldest_unsent_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    outbox_full: Mapped[bool] = mapped_column(default=False)
    disk_full: Mapped[bool] = mapped_column(default=False)
    dropped_readings: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AgentSource(Base):
    """One source of an agent as its latest status report described it (`sources`, optional in the report):
    state ok / failing / unavailable, frames decoded and rejected since the agent started, the last error
    (one line) and when it happened (migration 0016_hazard_ppe). A report with a source list replaces the
    agent's rows."""

    __tablename__ = "agent_sources"
    __table_args__ = (UniqueConstraint("agent_id", "source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    frames_ok: Mapped[int] = mapped_column(BigInteger, default=0)
    frames_bad: Mapped[int] = mapped_column(BigInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_error_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reported_ms: Mapped[int] = mapped_column(BigInteger)

