"""SQLAlchemy models of workers' occupational health files. The schema is owned by migration 0003 (branch
"health"). Times are ms since the epoch (UTC), like readings; calendar dates (hire, leave, exams) are dates.

Medical data (exam results, attachments) live only in `health_exams` and `health_exam_attachments`; nothing else
holds it, so the role rules in server/accounts/access.py can keep it from roles that read exposure only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, BigInt


class ShiftRun(Base):
    """One worker-shift's computation state: computed once when the shift ends, again when marked stale."""

    __tablename__ = "health_shift_runs"
    __table_args__ = (UniqueConstraint("worker_id", "shift_start_ms", "shift_end_ms"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("health_workers.id", ondelete="CASCADE"))
    shift_start_ms: Mapped[int] = mapped_column(BigInteger)
    shift_end_ms: Mapped[int] = mapped_column(BigInteger)
    computed_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    stale_since_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: the last computation failed (when, and why in one line); cleared by the next one that succeeds
    failed_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)


class ExposureRecord(Base):
    """Per worker, shift and hazard; versioned: a recomputation adds version n+1 and supersedes n."""

    __tablename__ = "health_exposure_records"
    __table_args__ = (
        UniqueConstraint("worker_id", "shift_start_ms", "substance", "version"),
        Index("ix_health_exposure_worker_current", "worker_id", "superseded", "shift_start_ms"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("health_workers.id", ondelete="CASCADE"))
    shift_start_ms: Mapped[int] = mapped_column(BigInteger)
    shift_end_ms: Mapped[int] = mapped_column(BigInteger)
    substance: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    computed_ms: Mapped[int] = mapped_column(BigInteger)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    profile: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # zone | personal | mixed | none
    presence_s: Mapped[float] = mapped_column(Float)
    twa: Mapped[float | None] = mapped_column(Float, nullable=True)
    lex_8h: Mapped[float | None] = mapped_column(Float, nullable=True)
    dose_percent: Mapped[float | None] = mapped_column(Float, nullable=True)
    dose_criterion: Mapped[str | None] = mapped_column(String(16), nullable=True)
    stel_max: Mapped[float | None] = mapped_column(Float, nullable=True)
    stel_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    peak: Mapped[float | None] = mapped_column(Float, nullable=True)
    peak_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    verdict: Mapped[str] = mapped_column(String(16))
    exposure_class: Mapped[str | None] = mapped_column(String(16), nullable=True)
    limit_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    limit_unit: Mapped[str | None] = mapped_column(String(16), nullable=True)
    limit_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    limit_source: Mapped[str | None] = mapped_column(String(256), nullable=True)
    stel_limit_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    stel_limit_source: Mapped[str | None] = mapped_column(String(256), nullable=True)
    coverage: Mapped[float] = mapped_column(Float)
    gaps_json: Mapped[str] = mapped_column(Text, default="[]")
    sensors_json: Mapped[str] = mapped_column(Text, default="[]")
    flagged_excluded: Mapped[int] = mapped_column(Integer, default=0)
    details_json: Mapped[str] = mapped_column(Text, default="{}")


class Exam(Base):
    """A health-surveillance exam: scheduled (due_date) and, once done, its result. Medical data."""

    __tablename__ = "health_exams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("health_workers.id", ondelete="CASCADE"))
    exam_type: Mapped[str] = mapped_column(String(16))  # pre_placement | periodic | exit | emergency | follow_up
    hazard: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | done | cancelled
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    exam_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(String(256), default="")
    trigger_record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)  # fit | fit_with_restrictions | unfit ...
    findings: Mapped[str | None] = mapped_column(Text, nullable=True)
    examiner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class ExamAttachment(Base):
    __tablename__ = "health_exam_attachments"
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("health_exams.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class FileDeletion(Base):
    """The record of an audited deletion: who, when, why. The worker's data are gone; this row stays."""

    __tablename__ = "health_file_deletions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_ref: Mapped[str] = mapped_column(String(64))  # "worker:<id>" (no name)
    actor: Mapped[str] = mapped_column(String(128))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    counts_json: Mapped[str] = mapped_column(Text)


class EventLink(Base):
    """A worker linked to an alert or an incident in a zone, stored when the event opens (and widened when an
    alert resolves), so the file stays as it was known even if the roster is edited later. `via`: `zone`,
    `personal` (wore the alert's sensor), `muster` (on the incident's muster list) or `zone+muster`. Migration
    0006. `exam_id`: the emergency exam this link scheduled (one per incident and worker)."""

    __tablename__ = "health_event_links"
    __table_args__ = (UniqueConstraint("kind", "event_id", "worker_id"),
                      Index("ix_health_event_links_worker", "worker_id", "kind"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("health_workers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # alert | incident
    event_id: Mapped[int] = mapped_column(Integer)
    via: Mapped[str] = mapped_column(String(32))
    zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    present_from_ms: Mapped[int] = mapped_column(BigInteger)
    present_until_ms: Mapped[int] = mapped_column(BigInteger)
    linked_ms: Mapped[int] = mapped_column(BigInteger)
    exam_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class EventLinkRun(Base):
    """The mark that an event's links were stored (even when nobody was present): events without one (from
    before migration 0006) are linked at read time from the roster."""

    __tablename__ = "health_event_link_runs"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linked_ms: Mapped[int] = mapped_column(BigInteger)
    workers: Mapped[int] = mapped_column(Integer, default=0)



class PersonalSample(Base):
    """A personal (breathing-zone) sample analysed by a laboratory: EN 689 rests on these. `result` is the
    concentration over the sampled period [start_ms, end_ms) in `unit`; a result below the limit of
    quantification has `below_loq` set, no result and its `loq`. Owned by migration 0012."""

    __tablename__ = "health_personal_samples"
    __table_args__ = (Index("ix_health_samples_worker", "worker_id", "substance", "start_ms"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[str] = mapped_column(String(64), unique=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("health_workers.id", ondelete="CASCADE"))
    substance: Mapped[str] = mapped_column(String(64))
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(16))
    loq: Mapped[float | None] = mapped_column(Float, nullable=True)
    below_loq: Mapped[bool] = mapped_column(Boolean, default=False)
    laboratory: Mapped[str] = mapped_column(String(128), default="")
    method: Mapped[str] = mapped_column(String(128), default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Seg(Base):
    """A similar exposure group (EN 689 §5.2, AIHA): a named set of workers - by zone, post, job or picked by
    hand - and the hazards it is assessed for. Lists are JSON arrays of codes, job titles or worker ids."""

    __tablename__ = "health_segs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    site: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    hazards_json: Mapped[str] = mapped_column(Text, default="[]")
    zones_json: Mapped[str] = mapped_column(Text, default="[]")
    posts_json: Mapped[str] = mapped_column(Text, default="[]")
    jobs_json: Mapped[str] = mapped_column(Text, default="[]")
    workers_json: Mapped[str] = mapped_column(Text, default="[]")
    created_ms: Mapped[int] = mapped_column(BigInteger)
