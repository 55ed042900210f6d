"""Pydantic models at the HTTP edge: Create / Update / Out per resource, and the worker's file."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from server.org.schemas import AssignmentOut, PersonalSensorOut

WorkerStatus = Literal["active", "on_leave", "left"]
ExamTypeT = Literal["pre_placement", "periodic", "exit", "emergency", "follow_up"]
ExamStatus = Literal["scheduled", "done", "cancelled"]


class WorkerCreate(BaseModel):
    employee_no: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=128)
    department: str = Field(default="", max_length=128)
    job: str = Field(default="", max_length=128)
    status: WorkerStatus = "active"
    hire_date: dt.date | None = None
    leave_date: dt.date | None = None
    user_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="the sign-in account of the worker")
    shift_pattern: str | None = None


class WorkerUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    department: str | None = Field(default=None, max_length=128)
    job: str | None = Field(default=None, max_length=128)
    status: WorkerStatus | None = None
    hire_date: dt.date | None = None
    leave_date: dt.date | None = None
    user_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="the sign-in account of the worker")
    shift_pattern: str | None = None


class WorkerOut(BaseModel):
    id: int
    employee_no: str
    name: str
    department: str
    job: str
    status: str
    hire_date: dt.date | None
    leave_date: dt.date | None
    user_id: int | None
    shift_pattern: str | None


class GapOut(BaseModel):
    start_ms: int
    end_ms: int
    reason: str
    #: where the agent reported it dropped readings here (`reason` is then its reason, e.g. disk_full): how many
    dropped: int | None = None


class ShiftFailureOut(BaseModel):
    """A worker-shift whose records could not be computed: when it last failed, and why (one line)."""

    worker_id: int
    shift_start_ms: int
    shift_end_ms: int
    failed_ms: int
    reason: str


class SensorUseOut(BaseModel):
    sensor_id: int
    sensor: str
    role: str
    zone_id: int | None
    readings: int
    flagged: int
    flags: dict[str, int]
    valid_s: float
    calibration: str


class LimitOut(BaseModel):
    value: float
    unit: str
    kind: str | None
    source: str | None


class ExposureRecordOut(BaseModel):
    id: int
    worker_id: int
    shift_start_ms: int
    shift_end_ms: int
    substance: str
    quantity: str
    unit: str
    version: int
    computed_ms: int
    superseded: bool
    profile: str
    source: str
    basis: Literal["area_presence", "personal_sensor", "mixed", "none"] = Field(
        description="what the record rests on: zone monitors and presence, a worn sensor, or both")
    presence_s: float
    twa: float | None
    lex_8h: float | None
    dose_percent: float | None
    dose_criterion: str | None
    stel_max: float | None
    stel_at_ms: int | None
    peak: float | None
    peak_at_ms: int | None
    ratio: float | None
    verdict: str
    exposure_class: str | None
    limit: LimitOut | None
    stel_limit: LimitOut | None
    coverage: float
    gaps: list[GapOut]
    sensors: list[SensorUseOut]
    flagged_excluded: int
    details: dict[str, object]


class ExamIn(BaseModel):
    exam_type: ExamTypeT
    hazard: str | None = None
    status: ExamStatus = "scheduled"
    due_date: dt.date | None = None
    exam_date: dt.date | None = None
    reason: str = Field(default="", max_length=256)
    outcome: str | None = Field(default=None, max_length=32)
    findings: str | None = None
    examiner: str | None = Field(default=None, max_length=128)


class ExamUpdate(BaseModel):
    status: ExamStatus | None = None
    due_date: dt.date | None = None
    exam_date: dt.date | None = None
    outcome: str | None = Field(default=None, max_length=32)
    findings: str | None = None
    examiner: str | None = Field(default=None, max_length=128)


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class ExamOut(BaseModel):
    id: int
    worker_id: int
    exam_type: str
    hazard: str | None
    status: str
    due_date: dt.date | None
    exam_date: dt.date | None
    reason: str
    trigger_record_id: int | None
    outcome: str | None
    findings: str | None
    examiner: str | None
    attachments: list[AttachmentOut]
    #: what the site's policy withholds from this reader (a worker reading their own exams,
    #: HAZMON_HEALTH_WORKER_EXAM_RESULTS): some of "outcome", "findings", "examiner", "attachments"
    withheld: list[str] = []


class HistoryOut(BaseModel):
    ts_ms: int
    actor: str
    action: str
    detail: str = ""


class StepStateOut(BaseModel):
    idx: int
    title: str
    owner: str
    done_ms: int | None
    done_by: str | None


class OwnMusterOut(BaseModel):
    """The worker's own answer on the incident's muster list (`safe_ms` None: not marked safe)."""

    person_id: str
    safe_ms: int | None
    via: str
    marked_by: str


class IncidentEvidenceOut(BaseModel):
    incident_id: int
    plan: str
    title: str
    drill: bool
    site: str
    trigger: str
    alert_id: int | None
    opened_ms: int
    closed_ms: int | None
    steps: list[StepStateOut]
    muster_count: dict[str, int]
    own_muster: OwnMusterOut | None


class EventOut(BaseModel):
    """An alert or an incident linked to the worker. Alert fields are None for an incident started by hand;
    `incident` holds an incident's evidence (checklist, muster, drill). `stored`: the link was stored when the
    event opened (False: linked from the current roster, for events from before links were stored)."""

    kind: str = "alert"
    incident_id: int | None = None
    alert_id: int | None
    rule: str | None
    sensor: str | None
    quantity: str | None
    severity: str | None
    state: str
    zone: str | None
    via: str
    opened_ts: int
    end_ts: int
    present_from_ms: int
    present_until_ms: int
    threshold: float | None
    unit: str | None
    trigger_value: float | None
    worst_value: float | None
    drill: bool = False
    stored: bool = True
    series: list[tuple[int, float, str]]
    history: list[HistoryOut]
    incident: IncidentEvidenceOut | None = None


class DueOut(BaseModel):
    worker_id: int
    employee_no: str
    exam_type: str
    hazard: str | None
    due_date: dt.date
    status: str
    basis: str
    exam_id: int | None


MS_MAX = 2**53  # epoch milliseconds a JSON number holds exactly (year 287396)


class SampleIn(BaseModel):
    """A laboratory's personal sample. `employee_no` names the worker (on POST /workers/{id}/samples the path
    does and this may be left out)."""

    sample_id: str = Field(min_length=1, max_length=64)
    employee_no: str | None = Field(default=None, max_length=64)
    substance: str = Field(min_length=1, max_length=64)
    start_ms: int = Field(ge=0, le=MS_MAX)
    end_ms: int = Field(ge=0, le=MS_MAX)
    result: float | None = Field(default=None, description="concentration over the sampled period")
    unit: str = Field(min_length=1, max_length=16)
    loq: float | None = Field(default=None, description="limit of quantification, same unit")
    below_loq: bool = False
    laboratory: str = Field(default="", max_length=128)
    method: str = Field(default="", max_length=128)


class SampleOut(BaseModel):
    id: int
    sample_id: str
    worker_id: int
    employee_no: str
    substance: str
    start_ms: int
    end_ms: int
    result: float | None
    unit: str
    loq: float | None
    below_loq: bool
    laboratory: str
    method: str
    basis: Literal["personal_sample"]
    twa_8h: float | None = Field(description="C x T / 8 h in twa_unit; None below the LoQ")
    loq_8h: float | None
    twa_unit: str
    limit: LimitOut | None
    ratio: float | None
    verdict: Literal["exceeds", "within", "below_loq", "no_limit"]
    notes: list[str]


class ImportError_(BaseModel):
    line: int
    field: str
    reason: str


class ImportReportOut(BaseModel):
    rows: int
    imported: int
    errors: list[ImportError_]


class SegIn(BaseModel):
    """A similar exposure group: its members by zone, post, job or by hand, and its hazards."""

    name: str = Field(min_length=1, max_length=128)
    site: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", max_length=2000)
    hazards: list[str] = Field(min_length=1, max_length=50, description="catalogue substance ids")
    zones: list[str] = Field(default=[], max_length=200, description="zone codes: workers assigned there")
    posts: list[str] = Field(default=[], max_length=200, description="post codes: workers assigned there")
    jobs: list[str] = Field(default=[], max_length=200, description="job titles of workers")
    workers: list[str] = Field(default=[], max_length=5000, description="employee numbers picked by hand")


class SegOut(SegIn):
    id: int
    members: list[str] = Field(description="employee numbers of the members now")


class SegResultOut(BaseModel):
    employee_no: str
    worker_id: int
    start_ms: int
    end_ms: int
    value: float | None = Field(description="8-h TWA; None below the LoQ")
    below_loq: bool
    loq: float | None
    basis: Literal["personal_sample", "personal_sensor", "area_presence", "mixed"]
    ref: str = Field(description="sample:<sample id> or record:<exposure record id>")


class SegProfileOut(BaseModel):
    """One basis's exposure profile: EN 689 test and verdict, the statistics, the AIHA category."""

    basis: Literal["personal_sample", "area_derived"]
    screening: bool = Field(description="area-derived: fixed-point monitors and presence, not personal "
                                        "measurements (EN 689 rests on personal ones)")
    n: int
    assessment: dict[str, object] | None = Field(description="exposure.en689.SegAssessment; None below 3 results")
    reason: str | None = None
    next_reassessment: dt.date | None = None
    results: list[SegResultOut]


class SegAssessmentOut(BaseModel):
    seg: SegOut
    hazard: str
    unit: str
    oel: LimitOut | None
    profile: str
    period_from: dt.date | None
    period_to: dt.date | None
    assessment: SegProfileOut = Field(description="the chosen basis (personal samples by default)")
    other: list[SegProfileOut] = Field(description="the other basis, shown separately")
    sources: list[str]


class FileOut(BaseModel):
    """A worker's occupational health file. `exams` is None when the reader's role may not see medical data."""

    schema_: str = Field(default="hazmon.health-file/1", alias="schema")
    worker: WorkerOut
    assignments: list[AssignmentOut]
    personal_sensors: list[PersonalSensorOut]
    exposure_records: list[ExposureRecordOut]
    samples: list[SampleOut] = []
    events: list[EventOut]
    exams: list[ExamOut] | None
    exams_withheld: bool
    data_as_of_ms: int | None

    model_config = {"populate_by_name": True}


class DeleteIn(BaseModel):
    reason: str = Field(min_length=10, max_length=2000)


class DeleteOut(BaseModel):
    deletion_id: int
    removed: dict[str, int]
