"""Tables of the notification service (migration 0004): the persistent job queue, its delivery log and the
notification settings edited through the API."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, BigInt


class NotificationJob(Base):
    """One message to one recipient, due at `due_ms`. `key` = (alert or incident, step, stage, recipient, repeat):
    unique, so scheduling the same notification twice (a replayed batch, two replicas) inserts it once.

    States: pending -> sending -> sent | failed | cancelled. `sending` is claimed before the channel is called;
    a claim older than the lease is retried with the same key (receivers may dedupe on it)."""

    __tablename__ = "notification_jobs"
    __table_args__ = (Index("ix_notification_jobs_due", "state", "due_ms"),)
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # notify | escalate | repeat | resolved | incident | muster
    alert_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    step: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[int] = mapped_column(Integer, default=1)
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    policy: Mapped[str] = mapped_column(String(64), default="")
    group_name: Mapped[str] = mapped_column(String(64), default="")
    recipient: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(Text)  # apprise URL or webhook URL
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON for webhooks
    due_ms: Mapped[int] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sent_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")


class DeliveryAttempt(Base):
    """The delivery log: every attempt of every job, with its outcome."""

    __tablename__ = "notification_log"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("notification_jobs.id", ondelete="CASCADE"))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    attempt: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str] = mapped_column(Text, default="")
