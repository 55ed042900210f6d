"""Tables of emergency incidents (migration 0004): the incident, its timeline, checklist and muster."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, BigInt


class Incident(Base):
    __tablename__ = "incidents"
    # one open incident per plan, site, zone and drill flag (migration 0004)
    __table_args__ = (
        Index("uq_incidents_open_plan", "plan_id", "site", "zone", "drill", unique=True,
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    site: Mapped[str] = mapped_column(String(64), default="")
    zone: Mapped[str] = mapped_column(String(64), default="")
    drill: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    opened_ms: Mapped[int] = mapped_column(BigInteger)
    opened_by: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(Text, default="")
    alert_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    closed_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    close_note: Mapped[str] = mapped_column(Text, default="")


class IncidentEvent(Base):
    """The timeline: every step, notification and muster answer, in order."""

    __tablename__ = "incident_events"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)


class IncidentStep(Base):
    __tablename__ = "incident_steps"
    __table_args__ = (UniqueConstraint("incident_id", "idx"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    idx: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(64))
    done_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class MusterEntry(Base):
    """One person expected at muster; `safe_ms` is set by their "I am safe" (signed link or API)."""

    __tablename__ = "incident_muster"
    __table_args__ = (UniqueConstraint("incident_id", "person_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    contact: Mapped[str] = mapped_column(Text, default="")
    safe_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    via: Mapped[str] = mapped_column(String(32), default="")
    marked_by: Mapped[str] = mapped_column(String(64), default="")
