"""Workers and their health files: the file, exposure records, exams and attachments, exports, the due list,
the zone report and the audited deletion. Every route checks the role matrix (access.py) and is audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import delete, func, select

from server.accounts.access import AccessDep, HealthAccess
from server.accounts.models import User
from server.health.exports_data import CsvPart, to_csv, to_json
from server.health.exports_pdf import worker_pdf, zone_pdf
from server.health.health_file import (
    WITHHELD_FROM_WORKER,
    as_seen_by_worker,
    build_file,
    event_out,
    exam_out,
    record_out,
    records_of,
    worker_out,
)
from server.health.linkage import events_for_worker
from server.health.models import EventLink, Exam, ExamAttachment, ExposureRecord, FileDeletion, ShiftRun
from server.health.reach import worker_for
from server.health.record_series import downsample, record_series
from server.health.scheduler import compute_due_records
from server.health.schemas import (
    AttachmentOut,
    DeleteIn,
    DeleteOut,
    DueOut,
    EventOut,
    ExamIn,
    ExamOut,
    ExamUpdate,
    ExposureRecordOut,
    FileOut,
    ShiftFailureOut,
    WorkerCreate,
    WorkerOut,
    WorkerUpdate,
)
from server.health.shift_runs import failed_shifts
from server.health.surveillance import due_list, local_date
from server.health.zone_report import zone_month
from server.org.models import Assignment, PersonalSensorAssignment, ShiftPattern, Worker
from server.org.router import _zone
from server.settings import YEAR_MS

router = APIRouter(tags=["health: files"])
MAX_ATTACHMENT = 20 * 1024 * 1024
PDF_SHIFT_CHARTS = 12  # the newest shifts drawn one by one in a worker's PDF
#: a report month, YYYY-MM, in the years a plant can have records (1970-2999)
MONTH = r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])$"



def _apply(row: Worker | Exam, changes: dict[str, object]) -> None:
    """Set the fields of a PATCH; `null` for a field that must have a value is a 422 naming it."""
    columns = type(row).__table__.c
    for k, v in changes.items():
        if v is None and k in columns and not columns[k].nullable:
            raise HTTPException(422, f"{k} may not be null")
    for k, v in changes.items():
        setattr(row, k, v)


def _check_user_link(acc: HealthAccess, user_id: int | None, *, worker_id: int | None) -> None:
    """A worker links to an existing account that no other worker links to."""
    if user_id is None:
        return
    if acc.session.get(User, user_id) is None:
        raise HTTPException(422, f"no user {user_id}")
    other = acc.session.execute(select(Worker.id).where(Worker.user_id == user_id)).scalar_one_or_none()
    if other is not None and other != worker_id:
        raise HTTPException(409, f"user {user_id} is linked to worker {other}")


def _pattern_id(acc: HealthAccess, code: str | None) -> int | None:
    if code is None:
        return None
    p = acc.session.execute(select(ShiftPattern).where(ShiftPattern.code == code)).scalar_one_or_none()
    if p is None:
        raise HTTPException(404, f"no shift pattern {code!r}")
    return p.id


@router.get("/workers", summary="Workers (identity and job only)")
def list_workers(acc: AccessDep, status: str | None = None) -> list[WorkerOut]:
    acc.require("workers.list", "workers")
    q = select(Worker)
    if status:
        q = q.where(Worker.status == status)
    rows = [worker_out(acc.session, w) for w in acc.session.execute(q.order_by(Worker.employee_no)).scalars()]
    acc.record("workers.list", "workers", f"n={len(rows)}")
    acc.session.commit()
    return rows


@router.post("/workers", status_code=201, summary="Create a worker")
def create_worker(acc: AccessDep, body: WorkerCreate) -> WorkerOut:
    acc.require("worker.write", "workers")
    s = acc.session
    if s.execute(select(Worker.id).where(Worker.employee_no == body.employee_no)).first():
        raise HTTPException(409, f"employee number {body.employee_no!r} exists")
    _check_user_link(acc, body.user_id, worker_id=None)
    w = Worker(employee_no=body.employee_no, name=body.name, department=body.department, job=body.job,
               status=body.status, hire_date=body.hire_date, leave_date=body.leave_date, user_id=body.user_id,
               shift_pattern_id=_pattern_id(acc, body.shift_pattern), created_ms=acc.now_ms)
    s.add(w)
    s.flush()
    acc.record("worker.write", f"worker:{w.id}", "create")
    s.commit()
    return worker_out(s, w)


@router.get("/workers/{worker_id}", summary="One worker (identity and job)")
def get_worker(acc: AccessDep, worker_id: int) -> WorkerOut:
    w = worker_for(acc, worker_id, "worker.read")
    acc.record("worker.read", f"worker:{w.id}")
    acc.session.commit()
    return worker_out(acc.session, w)


@router.patch("/workers/{worker_id}", summary="Update a worker (status, leave date, user link ...)")
def update_worker(acc: AccessDep, worker_id: int, body: WorkerUpdate) -> WorkerOut:
    w = worker_for(acc, worker_id, "worker.write")
    changes = body.model_dump(exclude_unset=True)
    if "shift_pattern" in changes:
        w.shift_pattern_id = _pattern_id(acc, changes.pop("shift_pattern"))
    if "user_id" in changes:
        _check_user_link(acc, changes["user_id"], worker_id=w.id)
    _apply(w, changes)
    acc.record("worker.write", f"worker:{w.id}", "fields=" + ",".join(sorted(body.model_dump(exclude_unset=True))))
    acc.session.commit()
    return worker_out(acc.session, w)


def _own_exams_only(acc: HealthAccess) -> bool:
    """The reader sees exams only as the worker whose they are (the site's policy then applies), not by role."""
    return not acc.may("exams.read")


def _file(acc: HealthAccess, w: Worker) -> FileOut:
    include_exams = acc.may("exams.read", owner_user_id=w.user_id)
    return build_file(acc.session, w, include_exams=include_exams, margin_ms=acc.config.evidence_margin_s * 1000,
                      incidents=acc.services.incidents, config=acc.config, as_worker=_own_exams_only(acc))


@router.get("/workers/{worker_id}/file", summary="The worker's health file (exams only for roles that may see them)")
def get_file(acc: AccessDep, worker_id: int) -> FileOut:
    w = worker_for(acc, worker_id, "exposure.read")
    f = _file(acc, w)
    exams = "no" if f.exams is None else len(f.exams)
    acc.record("file.read", f"worker:{w.id}", f"records={len(f.exposure_records)} exams={exams}")
    acc.session.commit()
    return f


@router.get("/workers/{worker_id}/events", summary="Alerts and incidents linked to the worker, with their evidence")
def get_events(acc: AccessDep, worker_id: int) -> list[EventOut]:
    w = worker_for(acc, worker_id, "events.read")
    events = [event_out(e) for e in events_for_worker(acc.session, w.id, incidents=acc.services.incidents,
                                                      margin_ms=acc.config.evidence_margin_s * 1000)]
    alerts = ",".join(str(e.alert_id) for e in events if e.kind == "alert")
    incidents = ",".join(str(e.incident_id) for e in events if e.kind == "incident")
    acc.record("events.read", f"worker:{w.id}", f"alerts={alerts} incidents={incidents}")
    acc.session.commit()
    return events


@router.get("/workers/{worker_id}/exposure-records", summary="Exposure records (current; all versions on request)")
def get_records(
    acc: AccessDep, worker_id: int, include_superseded: bool = False,
    since: Annotated[int | None, Query(description="shift start, ms, inclusive")] = None,
    until: Annotated[int | None, Query(description="shift start, ms, exclusive")] = None,
) -> list[ExposureRecordOut]:
    w = worker_for(acc, worker_id, "exposure.read")
    rows = records_of(acc.session, w.id, include_superseded=include_superseded, since_ms=since, until_ms=until)
    acc.record("exposure.read", f"worker:{w.id}", "records=" + ",".join(str(r.id) for r in rows))
    acc.session.commit()
    return [record_out(r) for r in rows]


@router.post("/exposure-records/compute", summary="Compute every ended or stale worker-shift now")
def compute_now(acc: AccessDep) -> dict[str, int]:
    acc.require("exposure.write", "exposure-records")
    report = compute_due_records(acc.session, acc.now_ms, acc.config)
    acc.record("exposure.write", "exposure-records",
               f"shifts={report.shifts} records={report.records} failed={report.failed}")
    acc.session.commit()
    return {"shifts": report.shifts, "records": report.records, "follow_ups": report.follow_ups,
            "failed": report.failed}


@router.get("/exposure-records/failures", summary="Worker-shifts whose exposure records could not be computed, and why")
def computation_failures(acc: AccessDep) -> list[ShiftFailureOut]:
    """Each is retried on every run (and by `POST /exposure-records/compute`) until it succeeds; the other shifts
    are computed all the same. Worker ids only: names and results stay in the files."""
    acc.require("exposure.read", "exposure-records")
    rows = failed_shifts(acc.session)
    acc.record("exposure.read", "exposure-records", f"failures={len(rows)}")
    acc.session.commit()
    return [ShiftFailureOut(worker_id=r.worker_id, shift_start_ms=r.shift_start_ms, shift_end_ms=r.shift_end_ms,
                            failed_ms=r.failed_ms or 0, reason=r.error or "") for r in rows]


@router.get("/workers/{worker_id}/exams", summary="Health-surveillance exams (medical)")
def list_exams(acc: AccessDep, worker_id: int) -> list[ExamOut]:
    w = worker_for(acc, worker_id, "exams.read")
    exams = list(acc.session.execute(select(Exam).where(Exam.worker_id == w.id).order_by(Exam.id)).scalars())
    acc.record("exams.read", f"worker:{w.id}", "exams=" + ",".join(str(e.id) for e in exams))
    acc.session.commit()
    out = [exam_out(acc.session, e) for e in exams]
    if _own_exams_only(acc):
        out = [as_seen_by_worker(e, acc.config.worker_exam_results) for e in out]
    return out


@router.post("/workers/{worker_id}/exams", status_code=201, summary="Schedule or record an exam")
def create_exam(acc: AccessDep, worker_id: int, body: ExamIn) -> ExamOut:
    w = worker_for(acc, worker_id, "exams.write")
    if body.status == "done" and body.exam_date is None:
        raise HTTPException(422, "a done exam needs its exam_date")
    e = Exam(worker_id=w.id, exam_type=body.exam_type, hazard=body.hazard, status=body.status,
             due_date=body.due_date, exam_date=body.exam_date, reason=body.reason, outcome=body.outcome,
             findings=body.findings, examiner=body.examiner, created_ms=acc.now_ms, updated_ms=acc.now_ms)
    acc.session.add(e)
    acc.session.flush()
    acc.record("exams.write", f"worker:{w.id}", f"exam={e.id} create")
    acc.session.commit()
    return exam_out(acc.session, e)


def _exam(acc: HealthAccess, exam_id: int, action: str) -> Exam:
    e = acc.session.get(Exam, exam_id)
    w = acc.session.get(Worker, e.worker_id) if e else None
    acc.require(action, f"exam:{exam_id}", owner_user_id=w.user_id if w else None)  # type: ignore[arg-type]
    if e is None:
        acc.refuse_missing(action, f"exam:{exam_id}")  # type: ignore[arg-type]
        raise HTTPException(404, f"no exam {exam_id}")
    return e


@router.patch("/exams/{exam_id}", summary="Record an exam's result or reschedule it")
def update_exam(acc: AccessDep, exam_id: int, body: ExamUpdate) -> ExamOut:
    e = _exam(acc, exam_id, "exams.write")
    changes = body.model_dump(exclude_unset=True)
    _apply(e, changes)
    if e.status == "done" and e.exam_date is None:
        raise HTTPException(422, "a done exam needs its exam_date")
    e.updated_ms = acc.now_ms
    acc.record("exams.write", f"worker:{e.worker_id}", f"exam={e.id} fields=" + ",".join(sorted(changes)))
    acc.session.commit()
    return exam_out(acc.session, e)


@router.post("/exams/{exam_id}/attachments", status_code=201, summary="Attach a file (the raw body) to an exam")
async def add_attachment(request: Request, acc: AccessDep, exam_id: int,
                         filename: Annotated[str, Query(min_length=1, max_length=255)]) -> AttachmentOut:
    e = _exam(acc, exam_id, "exams.write")
    data = await request.body()
    if len(data) > MAX_ATTACHMENT:
        raise HTTPException(413, f"an attachment is at most {MAX_ATTACHMENT} bytes")
    ctype = request.headers.get("content-type", "application/octet-stream")[:128]
    a = ExamAttachment(exam_id=e.id, filename=filename, content_type=ctype, sha256=hashlib.sha256(data).hexdigest(),
                       size=len(data), data=data, created_ms=acc.now_ms)
    acc.session.add(a)
    acc.session.flush()
    acc.record("exams.write", f"worker:{e.worker_id}", f"exam={e.id} attachment={a.id}")
    acc.session.commit()
    return AttachmentOut(id=a.id, filename=a.filename, content_type=a.content_type, size=a.size, sha256=a.sha256)


@router.get("/exams/{exam_id}/attachments/{attachment_id}", summary="Download an attachment")
def get_attachment(acc: AccessDep, exam_id: int, attachment_id: int) -> Response:
    e = _exam(acc, exam_id, "exams.read")
    if _own_exams_only(acc) and "attachments" in WITHHELD_FROM_WORKER[acc.config.worker_exam_results]:
        acc.refuse("exams.read", f"exam:{exam_id}", "this site gives exam attachments through the occupational "
                   "physician, not in a worker's own file", detail="attachment withheld by the site's policy")
    a = acc.session.get(ExamAttachment, attachment_id)
    if a is None or a.exam_id != e.id:
        raise HTTPException(404, f"no attachment {attachment_id} on exam {exam_id}")
    acc.record("exams.read", f"worker:{e.worker_id}", f"exam={e.id} attachment={a.id}")
    acc.session.commit()
    return Response(a.data, media_type=a.content_type,
                    headers={"Content-Disposition": f'attachment; filename="{a.id}.bin"', "Cache-Control": "no-store"})


def _export(acc: HealthAccess, worker_id: int, kind: str) -> tuple[Worker, FileOut]:
    w = worker_for(acc, worker_id, "exposure.read")
    f = _file(acc, w)
    acc.record("file.export", f"worker:{w.id}", f"format={kind} exams={'no' if f.exams is None else 'yes'}")
    acc.session.commit()
    return w, f


_NO_STORE = {"Cache-Control": "no-store"}


@router.get("/workers/{worker_id}/export.json", summary="The worker's file as JSON")
def export_json(acc: AccessDep, worker_id: int) -> Response:
    _w, f = _export(acc, worker_id, "json")
    return Response(to_json(f), media_type="application/json", headers=_NO_STORE)


@router.get("/workers/{worker_id}/export.csv", summary="One part of the worker's file as CSV")
def export_csv(acc: AccessDep, worker_id: int, part: CsvPart = "exposure") -> Response:
    if part == "exams":  # refused before anything is recorded as served (the refusal is audited as such)
        w = worker_for(acc, worker_id, "exposure.read")
        acc.require("exams.read", f"worker:{w.id}", owner_user_id=w.user_id)
    _w, f = _export(acc, worker_id, f"csv:{part}")
    return Response(to_csv(f, part), media_type="text/csv; charset=utf-8", headers=_NO_STORE)


@router.get("/workers/{worker_id}/export.pdf", summary="The worker's file as PDF, with exposure charts")
def export_pdf(acc: AccessDep, worker_id: int) -> Response:
    w, f = _export(acc, worker_id, "pdf")
    series = {}
    for r in sorted(f.exposure_records, key=lambda r: r.shift_start_ms)[-PDF_SHIFT_CHARTS:]:
        rec = acc.session.get(ExposureRecord, r.id)
        got = record_series(acc.session, rec, acc.config) if rec is not None else None
        if got is not None and got.segments:
            series[r.id] = downsample(got)
    return Response(worker_pdf(f, tz=acc.config.tz, profile=acc.config.profile, series=series),
                    media_type="application/pdf",
                    headers={**_NO_STORE, "Content-Disposition": f'inline; filename="health-file-{w.id}.pdf"'})


@router.get("/zones/{zone}/report.pdf", summary="A zone's monthly monitoring report (PDF)")
def zone_report(acc: AccessDep, zone: str,
                month: Annotated[str, Query(pattern=MONTH)]) -> Response:
    acc.require("zone_report.read", f"zone:{zone}")
    z = _zone(acc, zone)
    data = zone_month(acc.session, z, month, acc.config)
    acc.record("zone_report.read", f"zone:{z.id}", f"month={month}")
    acc.session.commit()
    return Response(zone_pdf(data, tz=acc.config.tz), media_type="application/pdf", headers=_NO_STORE)


@router.get("/surveillance/due", summary="Exams due within the horizon, and every overdue exam")
def surveillance_due(acc: AccessDep, horizon_days: Annotated[int | None, Query(ge=0, le=3650)] = None,
                     worker_id: int | None = None) -> list[DueOut]:
    acc.require("surveillance.read", "surveillance")
    today = local_date(acc.now_ms, acc.config)
    rows = due_list(acc.session, acc.config, today=today, horizon_days=horizon_days, worker_id=worker_id)
    acc.record("surveillance.read", f"worker:{worker_id}" if worker_id else "surveillance", f"n={len(rows)}")
    acc.session.commit()
    return [DueOut(**r.__dict__) for r in rows]


@router.post("/health-files/{worker_id}/delete", summary="Delete a health file after its retention (audited)")
def delete_file(acc: AccessDep, worker_id: int, body: DeleteIn) -> DeleteOut:
    w = worker_for(acc, worker_id, "file.delete")
    s, cfg, now = acc.session, acc.config, acc.now_ms
    newest = s.execute(select(func.max(ExposureRecord.shift_end_ms)).where(ExposureRecord.worker_id == w.id)).scalar()
    if w.status != "left" or w.leave_date is None:
        raise HTTPException(409, "only the file of a worker who has left can be deleted")
    left_ms = int(dt.datetime.combine(w.leave_date, dt.time(), tzinfo=cfg.tz).timestamp() * 1000)
    keep_until = max(left_ms + cfg.medical_retention_years * YEAR_MS,
                     (newest or 0) + cfg.retention_years * YEAR_MS)
    if now < keep_until:
        until = dt.datetime.fromtimestamp(keep_until / 1000, tz=cfg.tz).date()
        acc.record("file.delete.refused", f"worker:{w.id}", f"retained_until={until.isoformat()}")
        s.commit()
        raise HTTPException(409, f"the file must be kept until {until.isoformat()} (retention)")
    exam_ids = select(Exam.id).where(Exam.worker_id == w.id)
    counts = {
        "exam_attachments": s.execute(delete(ExamAttachment).where(ExamAttachment.exam_id.in_(exam_ids))).rowcount,
        "exams": s.execute(delete(Exam).where(Exam.worker_id == w.id)).rowcount,
        "exposure_records": s.execute(delete(ExposureRecord).where(ExposureRecord.worker_id == w.id)).rowcount,
        "shift_runs": s.execute(delete(ShiftRun).where(ShiftRun.worker_id == w.id)).rowcount,
        "assignments": s.execute(delete(Assignment).where(Assignment.worker_id == w.id)).rowcount,
        "personal_sensors": s.execute(delete(PersonalSensorAssignment)
                                      .where(PersonalSensorAssignment.worker_id == w.id)).rowcount,
        "event_links": s.execute(delete(EventLink).where(EventLink.worker_id == w.id)).rowcount,
    }
    s.delete(w)
    counts["workers"] = 1
    d = FileDeletion(worker_ref=f"worker:{worker_id}", actor=acc.actor, ts_ms=now, reason=body.reason,
                     counts_json=json.dumps(counts, sort_keys=True))
    s.add(d)
    s.flush()
    acc.record("file.delete", f"worker:{worker_id}", f"deletion={d.id}")
    s.commit()
    return DeleteOut(deletion_id=d.id, removed=counts)
