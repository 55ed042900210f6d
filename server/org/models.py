"""The organisation: workers, zones and the sensors measuring them, posts, declared hazards, shift
patterns, assignments (who was in which zone, when) and personal sensors (who wore which, when). Migration 0003
(branch "health"); times are ms since the epoch (UTC), calendar dates are dates."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base


class Worker(Base):
    __tablename__ = "health_workers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(128), default="")
    job: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | on_leave | left
    hire_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    leave_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
                                                unique=True)
    shift_pattern_id: Mapped[int | None] = mapped_column(ForeignKey("health_shift_patterns.id"), nullable=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Zone(Base):
    __tablename__ = "health_zones"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    site: Mapped[str] = mapped_column(String(64), default="")


class ZoneSensor(Base):
    """A sensor measures a zone from start_ms (inclusive) to end_ms (exclusive; None: still there)."""

    __tablename__ = "health_zone_sensors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("health_zones.id", ondelete="CASCADE"))
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"))
    start_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    end_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Post(Base):
    __tablename__ = "health_posts"
    __table_args__ = (UniqueConstraint("zone_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("health_zones.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))


class Hazard(Base):
    """A hazard present in a zone (post_id None) or at one post: a catalogue substance and the reading quantity
    that measures it (noise/laeq, co/co, silica_crystalline/pm4 ...)."""

    __tablename__ = "health_hazards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("health_zones.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("health_posts.id", ondelete="CASCADE"), nullable=True)
    substance: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[str] = mapped_column(String(32))
    #: the catalogue variant whose limit applies (a silica dust's free-SiO2 class: sio2-10-50pct ...); migration 0012
    variant: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: the protective equipment the site requires against it (free text); None: the general guidance applies
    #: (server/web/hazard_notes.toml); migration 0016_hazard_ppe
    ppe: Mapped[str | None] = mapped_column(String(500), nullable=True)


class ShiftPattern(Base):
    """A named shift: starts at `start` (HH:MM, local time of the health config) and lasts `hours`."""

    __tablename__ = "health_shift_patterns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    start: Mapped[str] = mapped_column(String(5))
    hours: Mapped[float] = mapped_column(Float)


class Assignment(Base):
    """A worker present in a zone (and at a post) for [start_ms, end_ms), within the shift
    [shift_start_ms, shift_end_ms) that the exposure record covers."""

    __tablename__ = "health_assignments"
    __table_args__ = (Index("ix_health_assignments_worker_shift", "worker_id", "shift_start_ms"),
                      Index("ix_health_assignments_zone_time", "zone_id", "start_ms"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("health_workers.id", ondelete="CASCADE"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("health_zones.id"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("health_posts.id"), nullable=True)
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int] = mapped_column(BigInteger)
    shift_start_ms: Mapped[int] = mapped_column(BigInteger)
    shift_end_ms: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(64), default="api")


class PersonalSensorAssignment(Base):
    __tablename__ = "health_personal_sensors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("health_workers.id", ondelete="CASCADE"))
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"))
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int] = mapped_column(BigInteger)

