"""A worker's file assembled from the stored rows: the one view the API, the JSON/CSV export and the PDF share."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.events import IncidentRecords
from server.health.linkage import LinkedEvent, events_for_worker
from server.health.models import Exam, ExamAttachment, ExposureRecord
from server.health.samples import sample_out, samples_of
from server.health.schemas import (
    AttachmentOut,
    EventOut,
    ExamOut,
    ExposureRecordOut,
    FileOut,
    GapOut,
    HistoryOut,
    IncidentEvidenceOut,
    LimitOut,
    OwnMusterOut,
    PersonalSensorOut,
    SensorUseOut,
    StepStateOut,
    WorkerOut,
)
from server.org.models import Assignment, PersonalSensorAssignment, ShiftPattern, Worker
from server.org.schemas import assignment_out
from server.series.models import Sensor
from server.settings import HealthConfig


def worker_out(session: Session, w: Worker) -> WorkerOut:
    pattern = session.get(ShiftPattern, w.shift_pattern_id) if w.shift_pattern_id else None
    return WorkerOut(id=w.id, employee_no=w.employee_no, name=w.name, department=w.department, job=w.job,
                     status=w.status, hire_date=w.hire_date, leave_date=w.leave_date, user_id=w.user_id,
                     shift_pattern=pattern.code if pattern else None)


#: an exposure record's basis by the source of its series (samples have their own: personal_sample)
BASIS = {"zone": "area_presence", "personal": "personal_sensor", "mixed": "mixed", "none": "none"}


def record_out(r: ExposureRecord) -> ExposureRecordOut:
    lim = (LimitOut(value=r.limit_value, unit=r.limit_unit or r.unit, kind=r.limit_kind, source=r.limit_source)
           if r.limit_value is not None else None)
    sl = (LimitOut(value=r.stel_limit_value, unit=r.unit, kind="stel", source=r.stel_limit_source)
          if r.stel_limit_value is not None else None)
    return ExposureRecordOut(
        id=r.id, worker_id=r.worker_id, shift_start_ms=r.shift_start_ms, shift_end_ms=r.shift_end_ms,
        substance=r.substance, quantity=r.quantity, unit=r.unit, version=r.version, computed_ms=r.computed_ms,
        superseded=r.superseded, profile=r.profile, source=r.source, basis=BASIS.get(r.source, "none"),
        presence_s=r.presence_s, twa=r.twa,
        lex_8h=r.lex_8h, dose_percent=r.dose_percent, dose_criterion=r.dose_criterion, stel_max=r.stel_max,
        stel_at_ms=r.stel_at_ms, peak=r.peak, peak_at_ms=r.peak_at_ms, ratio=r.ratio, verdict=r.verdict,
        exposure_class=r.exposure_class, limit=lim, stel_limit=sl, coverage=r.coverage,
        gaps=[GapOut(**g) for g in json.loads(r.gaps_json)],
        sensors=[SensorUseOut(**s) for s in json.loads(r.sensors_json)],
        flagged_excluded=r.flagged_excluded, details=json.loads(r.details_json),
    )


def exam_out(session: Session, e: Exam) -> ExamOut:
    atts = session.execute(select(ExamAttachment.id, ExamAttachment.filename, ExamAttachment.content_type,
                                  ExamAttachment.size, ExamAttachment.sha256)
                           .where(ExamAttachment.exam_id == e.id).order_by(ExamAttachment.id)).all()
    return ExamOut(id=e.id, worker_id=e.worker_id, exam_type=e.exam_type, hazard=e.hazard, status=e.status,
                   due_date=e.due_date, exam_date=e.exam_date, reason=e.reason, trigger_record_id=e.trigger_record_id,
                   outcome=e.outcome, findings=e.findings, examiner=e.examiner,
                   attachments=[AttachmentOut(id=a.id, filename=a.filename, content_type=a.content_type, size=a.size,
                                              sha256=a.sha256) for a in atts])


#: what each policy withholds from a worker reading their own exams (HAZMON_HEALTH_WORKER_EXAM_RESULTS)
WITHHELD_FROM_WORKER: dict[str, tuple[str, ...]] = {
    "full": (),
    "outcome": ("findings", "attachments"),
    "schedule": ("outcome", "findings", "examiner", "attachments"),
}


def as_seen_by_worker(e: ExamOut, policy: str) -> ExamOut:
    """The exam as the site's policy lets its worker see it: the withheld fields emptied and named."""
    withheld = WITHHELD_FROM_WORKER[policy]
    if not withheld:
        return e
    empty = {name: [] if name == "attachments" else None for name in withheld}
    return e.model_copy(update={**empty, "withheld": list(withheld)})


def event_out(e: LinkedEvent) -> EventOut:
    inc = e.incident
    return EventOut(kind=e.kind, incident_id=e.incident_id, alert_id=e.alert_id, rule=e.rule, sensor=e.sensor,
                    quantity=e.quantity, severity=e.severity, state=e.state, zone=e.zone_code, via=e.via,
                    opened_ts=e.opened_ts, end_ts=e.end_ts, present_from_ms=e.present_from_ms,
                    present_until_ms=e.present_until_ms, threshold=e.threshold, unit=e.unit,
                    trigger_value=e.trigger_value, worst_value=e.worst_value, drill=bool(inc and inc.drill),
                    stored=e.stored, series=[(p.ts, p.value, p.flags) for p in e.series],
                    history=[HistoryOut(ts_ms=h.ts_ms, actor=h.actor, action=h.action, detail=h.detail)
                             for h in e.history],
                    incident=None if inc is None else IncidentEvidenceOut(
                        incident_id=inc.incident_id, plan=inc.plan, title=inc.title, drill=inc.drill, site=inc.site,
                        trigger=inc.trigger, alert_id=inc.alert_id, opened_ms=inc.opened_ms, closed_ms=inc.closed_ms,
                        steps=[StepStateOut(**s.__dict__) for s in inc.steps], muster_count=inc.muster_count,
                        own_muster=None if inc.own_muster is None else OwnMusterOut(**inc.own_muster.__dict__)))


def records_of(session: Session, worker_id: int, *, include_superseded: bool = False,
               since_ms: int | None = None, until_ms: int | None = None) -> list[ExposureRecord]:
    q = select(ExposureRecord).where(ExposureRecord.worker_id == worker_id)
    if not include_superseded:
        q = q.where(ExposureRecord.superseded.is_(False))
    if since_ms is not None:
        q = q.where(ExposureRecord.shift_start_ms >= since_ms)
    if until_ms is not None:
        q = q.where(ExposureRecord.shift_start_ms < until_ms)
    return list(session.execute(q.order_by(ExposureRecord.shift_start_ms, ExposureRecord.substance,
                                           ExposureRecord.version)).scalars())


def build_file(session: Session, worker: Worker, *, include_exams: bool, margin_ms: int,
               incidents: IncidentRecords, config: HealthConfig, as_worker: bool = False) -> FileOut:
    """`as_worker`: the reader is the worker themselves, whose view of the exams follows the site's policy."""
    assignments = session.execute(select(Assignment).where(Assignment.worker_id == worker.id)
                                  .order_by(Assignment.start_ms, Assignment.id)).scalars()
    personal = session.execute(select(PersonalSensorAssignment, Sensor.site, Sensor.name)
                               .join(Sensor, Sensor.id == PersonalSensorAssignment.sensor_id)
                               .where(PersonalSensorAssignment.worker_id == worker.id)
                               .order_by(PersonalSensorAssignment.start_ms)).all()
    records = records_of(session, worker.id)
    exams = None
    if include_exams:
        exams = [exam_out(session, e) for e in session.execute(
            select(Exam).where(Exam.worker_id == worker.id).order_by(Exam.id)).scalars()]
        if as_worker:
            exams = [as_seen_by_worker(e, config.worker_exam_results) for e in exams]
    return FileOut(
        worker=worker_out(session, worker),
        assignments=[assignment_out(session, a) for a in assignments],
        personal_sensors=[PersonalSensorOut(id=p.id, worker_id=p.worker_id, sensor=f"{site}/{name}",
                                            start_ms=p.start_ms, end_ms=p.end_ms) for p, site, name in personal],
        exposure_records=[record_out(r) for r in records],
        samples=[sample_out(p, worker.employee_no, config) for p in samples_of(session, worker.id)],
        events=[event_out(e) for e in events_for_worker(session, worker.id, incidents=incidents, margin_ms=margin_ms)],
        exams=exams, exams_withheld=not include_exams,
        data_as_of_ms=max((r.computed_ms for r in records), default=None),
    )
