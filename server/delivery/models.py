"""Tables of the delivery branch (migration 0002)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models import Base


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
