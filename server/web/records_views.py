"""What the record-keeper's pages show: the worker list searched by name (any script), employee number, department,
zone and status; one worker's file as the API builds it (server.health.router.get_file: the same role check,
exam withholding and audit entry); one exposure record with its versions and its shift's series against the limit.
Every read here goes through server.health.reach.worker_for and HealthAccess.record, as the API's routes do."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from server.accounts.access import HealthAccess
from server.accounts.models import User
from server.health import router as health_api
from server.health.health_file import record_out, records_of
from server.health.models import ExposureRecord
from server.health.reach import worker_for
from server.health.record_series import downsample, record_series
from server.health.schemas import EventOut, ExposureRecordOut, FileOut
from server.health.surveillance import local_date
from server.org.models import Assignment, ShiftPattern, Worker, Zone

STATUSES = ("active", "on_leave", "left")
LIST_LIMIT = 500


@dataclass(frozen=True)
class WorkerFilter:
    q: str = ""
    department: str = ""
    zone: str = ""
    status: str = ""

    @property
    def any(self) -> bool:
        return bool(self.q or self.department or self.zone or self.status)


@dataclass(frozen=True)
class WorkerLine:
    id: int
    employee_no: str
    name: str
    department: str
    job: str
    status: str
    zones: tuple[str, ...]


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def worker_list(acc: HealthAccess, f: WorkerFilter) -> tuple[WorkerLine, ...]:
    """The workers matching every filter given (name or employee number contains `q`, case-folded where the script
    has case), by employee number; audited as the API's list is (`health.workers.list`, a count only)."""
    acc.require("workers.list", "workers")
    q = select(Worker)
    if f.q:
        pat = _like(f.q.casefold())
        q = q.where(or_(func.lower(Worker.name).like(pat, escape="\\"), Worker.name.like(_like(f.q), escape="\\"),
                        func.lower(Worker.employee_no).like(pat, escape="\\")))
    if f.department:
        q = q.where(func.lower(Worker.department).like(_like(f.department.casefold()), escape="\\"))
    if f.status:
        q = q.where(Worker.status == f.status)
    if f.zone:
        q = q.where(Worker.id.in_(select(Assignment.worker_id).join(Zone, Zone.id == Assignment.zone_id)
                                  .where(Zone.code == f.zone)))
    rows = list(acc.session.execute(q.order_by(Worker.employee_no).limit(LIST_LIMIT)).scalars())
    zones: dict[int, set[str]] = {}
    if rows:
        for wid, code in acc.session.execute(
                select(Assignment.worker_id, Zone.code).join(Zone, Zone.id == Assignment.zone_id)
                .where(Assignment.worker_id.in_([w.id for w in rows])).distinct()).all():
            zones.setdefault(wid, set()).add(code)
    acc.record("workers.list", "workers", f"n={len(rows)}")
    acc.session.commit()
    return tuple(WorkerLine(w.id, w.employee_no, w.name, w.department, w.job, w.status,
                            tuple(sorted(zones.get(w.id, ())))) for w in rows)


def zone_codes(acc: HealthAccess) -> tuple[str, ...]:
    return tuple(acc.session.execute(select(Zone.code).order_by(Zone.code)).scalars())


def pattern_codes(acc: HealthAccess) -> tuple[str, ...]:
    return tuple(acc.session.execute(select(ShiftPattern.code).order_by(ShiftPattern.code)).scalars())


def worker_accounts(acc: HealthAccess, current: int | None = None) -> tuple[tuple[int, str], ...]:
    """The `worker` accounts a worker may be linked to (none linked elsewhere, or this worker's own), for a
    record-keeper's form."""
    if not acc.may("worker.write"):
        return ()
    linked = select(Worker.user_id).where(Worker.user_id.is_not(None))
    q = select(User.id, User.name).where(User.role == "worker")
    q = q.where(or_(User.id.not_in(linked), User.id == current)) if current else q.where(User.id.not_in(linked))
    return tuple((i, n) for i, n in acc.session.execute(q.order_by(User.name)).all())


def worker_id_of(acc: HealthAccess, employee_no: str) -> int:
    """The id of the worker with this employee number (0 when none: worker_for then refuses or answers 404)."""
    found = acc.session.execute(select(Worker.id).where(Worker.employee_no == employee_no)).scalar_one_or_none()
    return found or 0


def own_worker_id(acc: HealthAccess) -> int | None:
    """The worker the signed-in account is linked to (Worker.user_id), if any."""
    return acc.session.execute(select(Worker.id).where(Worker.user_id == acc.user.user_id)).scalar_one_or_none()


@dataclass(frozen=True)
class ExamLine:
    id: int
    exam_type: str
    hazard: str | None
    state: str  # done | overdue | due | scheduled | cancelled
    due_date: dt.date | None
    exam_date: dt.date | None
    reason: str
    outcome: str | None
    findings: str | None
    examiner: str | None
    attachments: int


@dataclass(frozen=True)
class FilePage:
    file: FileOut
    exams: tuple[ExamLine, ...] | None
    may_edit: bool
    accounts: tuple[tuple[int, str], ...]
    patterns: tuple[str, ...]
    account_name: str | None
    #: each linked event's evidence as the chart reads it (workers.js), by its position in `file.events`
    evidence: tuple[str, ...] = ()


def evidence_chart(e: EventOut, zone: str) -> str:
    """A linked event's kept series against its level, JSON for workers.js (empty when it kept none)."""
    if not e.series:
        return ""
    points = [(ts, v) for ts, v, _flags in e.series]
    return json.dumps({"points": points, "unit": e.unit or "", "limit": e.threshold, "stel": None, "zone": zone,
                       "start": min(points[0][0], e.present_from_ms), "end": max(points[-1][0], e.end_ts)})


def file_page(acc: HealthAccess, worker_id: int) -> FilePage:
    """The worker's file through the API's own route (role check, exams withheld, `health.file.read` audited)."""
    f = health_api.get_file(acc, worker_id)
    today = local_date(acc.now_ms, acc.config)
    exams = None
    if f.exams is not None:
        lines = []
        for e in f.exams:
            state = e.status
            if e.status == "scheduled" and e.due_date is not None:
                state = "overdue" if e.due_date < today else "due"
            lines.append(ExamLine(e.id, e.exam_type, e.hazard, state, e.due_date, e.exam_date, e.reason, e.outcome,
                                  e.findings, e.examiner, len(e.attachments)))
        exams = tuple(lines)
    may_edit = acc.may("worker.write")
    account = acc.session.get(User, f.worker.user_id) if f.worker.user_id and may_edit else None
    return FilePage(file=f, exams=exams, may_edit=may_edit,
                    accounts=worker_accounts(acc, f.worker.user_id) if may_edit else (),
                    patterns=pattern_codes(acc) if may_edit else (), account_name=account.name if account else None,
                    evidence=tuple(evidence_chart(e, acc.config.timezone) for e in f.events))


@dataclass(frozen=True)
class RecordPage:
    record: ExposureRecordOut
    versions: tuple[ExposureRecordOut, ...]
    points: list[tuple[int, float | None]]
    employee_no: str


def record_page(acc: HealthAccess, record_id: int) -> RecordPage | None:
    """One exposure record, its other versions (same shift and hazard) and its shift's series, reached through
    the worker's file (worker_for: a worker only their own) and audited as `health.exposure.read`."""
    rec = acc.session.get(ExposureRecord, record_id)
    if rec is None:
        acc.require("exposure.read", f"exposure-record:{record_id}")  # a worker: 403, as for anyone else's
        acc.refuse_missing("exposure.read", f"exposure-record:{record_id}")
        return None
    w = worker_for(acc, rec.worker_id, "exposure.read")
    versions = [r for r in records_of(acc.session, w.id, include_superseded=True)
                if r.shift_start_ms == rec.shift_start_ms and r.substance == rec.substance
                and r.quantity == rec.quantity]
    series = record_series(acc.session, rec, acc.config)
    points = downsample(series) if series is not None and series.segments else []
    acc.record("exposure.read", f"worker:{w.id}", "records=" + ",".join(str(r.id) for r in versions))
    acc.session.commit()
    return RecordPage(record=record_out(rec), versions=tuple(record_out(r) for r in versions), points=points,
                      employee_no=w.employee_no)
