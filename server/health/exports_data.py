"""A worker's file as JSON (the whole file) and as CSV (one part: exposure, samples, exams, assignments or events).
The same data always give the same bytes: keys sorted, rows in a fixed order, no time of export. CSV times are
ISO 8601 in UTC (2025-03-03T07:00:00Z); the JSON keeps epoch milliseconds like the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Literal

from server.health.schemas import FileOut

CsvPart = Literal["exposure", "samples", "exams", "assignments", "events"]

_EXPOSURE_COLS = ("record_id", "version", "shift_start", "shift_end", "substance", "quantity", "unit", "basis",
                  "source", "presence_s", "twa", "lex_8h", "dose_percent", "dose_criterion", "stel_max", "peak",
                  "ratio", "verdict", "exposure_class", "limit_value", "limit_unit", "limit_source", "coverage", "gaps",
                  "flagged_excluded", "sensors", "computed")
_SAMPLE_COLS = ("sample_id", "substance", "start", "end", "result", "unit", "below_loq", "loq", "laboratory",
                "method", "basis", "twa_8h", "twa_unit", "limit_value", "limit_source", "ratio", "verdict")


def iso(ms: int | None) -> str:
    """ISO 8601 in UTC, to the second (to the millisecond when it has one)."""
    if ms is None:
        return ""
    t = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{ms % 1000:03d}" if ms % 1000 else "") + "Z"


def to_json(f: FileOut) -> bytes:
    body = f.model_dump(mode="json", by_alias=True)
    return (json.dumps(body, sort_keys=True, ensure_ascii=False, indent=1) + "\n").encode()


def _num(v: float | None) -> str:
    return "" if v is None else repr(float(v))


def to_csv(f: FileOut, part: CsvPart = "exposure") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if part == "exposure":
        w.writerow(("employee_no", *_EXPOSURE_COLS))
        for r in f.exposure_records:
            gaps = ";".join(f"{iso(g.start_ms)}/{iso(g.end_ms)}:{g.reason}" for g in r.gaps)
            sensors = ";".join(f"{s.sensor}({s.role},{s.calibration},flagged={s.flagged})" for s in r.sensors)
            w.writerow((f.worker.employee_no, r.id, r.version, iso(r.shift_start_ms), iso(r.shift_end_ms),
                        r.substance, r.quantity, r.unit, r.basis, r.source, _num(r.presence_s), _num(r.twa),
                        _num(r.lex_8h),
                        _num(r.dose_percent), r.dose_criterion or "", _num(r.stel_max), _num(r.peak), _num(r.ratio),
                        r.verdict, r.exposure_class or "", _num(r.limit.value if r.limit else None),
                        r.limit.unit if r.limit else "", (r.limit.source or "") if r.limit else "", _num(r.coverage),
                        gaps, r.flagged_excluded, sensors, iso(r.computed_ms)))
    elif part == "samples":
        w.writerow(("employee_no", *_SAMPLE_COLS))
        for p in f.samples:
            w.writerow((f.worker.employee_no, p.sample_id, p.substance, iso(p.start_ms), iso(p.end_ms),
                        _num(p.result), p.unit, "yes" if p.below_loq else "", _num(p.loq), p.laboratory, p.method,
                        p.basis, _num(p.twa_8h), p.twa_unit, _num(p.limit.value if p.limit else None),
                        (p.limit.source or "") if p.limit else "", _num(p.ratio), p.verdict))
    elif part == "exams":
        w.writerow(("employee_no", "exam_id", "exam_type", "hazard", "status", "due_date", "exam_date", "outcome",
                    "findings", "examiner", "reason", "attachments"))
        for e in f.exams or []:
            w.writerow((f.worker.employee_no, e.id, e.exam_type, e.hazard or "", e.status, e.due_date or "",
                        e.exam_date or "", e.outcome or "", e.findings or "", e.examiner or "", e.reason,
                        ";".join(a.filename for a in e.attachments)))
    elif part == "assignments":
        w.writerow(("employee_no", "assignment_id", "zone", "post", "start", "end", "shift_start", "shift_end",
                    "source"))
        for a in f.assignments:
            w.writerow((f.worker.employee_no, a.id, a.zone, a.post or "", iso(a.start_ms), iso(a.end_ms),
                        iso(a.shift_start_ms), iso(a.shift_end_ms), a.source))
    else:
        w.writerow(("employee_no", "alert_id", "rule", "zone", "via", "sensor", "quantity", "severity", "state",
                    "opened", "ended", "present_from", "present_until", "threshold", "unit",
                    "worst_value", "history", "kind", "incident_id", "drill"))
        for e in f.events:
            w.writerow((f.worker.employee_no, e.alert_id if e.alert_id is not None else "", e.rule or "",
                        e.zone or "", e.via, e.sensor or "", e.quantity or "", e.severity or "", e.state,
                        iso(e.opened_ts), iso(e.end_ts), iso(e.present_from_ms), iso(e.present_until_ms),
                        _num(e.threshold), e.unit or "", _num(e.worst_value),
                        ";".join(f"{iso(h.ts_ms)} {h.action} {h.actor}" for h in e.history),
                        e.kind, e.incident_id if e.incident_id is not None else "", "yes" if e.drill else ""))
    return buf.getvalue()
