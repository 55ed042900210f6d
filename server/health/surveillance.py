"""Health surveillance: exam types, configurable per-jurisdiction interval rules, the due and overdue list, and
follow-up exams triggered by an exposure above a set level.

Rules are TOML (built-in: surveillance_rules.toml; a site's own: HAZMON_HEALTH_SURVEILLANCE_RULES, documented in
config/surveillance.example.toml). A hazard's level is the highest value of the rule's metric among the worker's
current exposure records in the look-back window.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from exposure.wire import SEVERITIES, severity_rank
from server.health.models import Exam, ExposureRecord
from server.org.models import Worker
from server.settings import HealthConfig

EXAM_TYPES = ("pre_placement", "periodic", "exit", "emergency", "follow_up")
ExamType = Literal["pre_placement", "periodic", "exit", "emergency", "follow_up"]
Metric = Literal["lex_8h", "ratio", "twa", "dose_percent", "osha_hc_twa"]
_METRICS = ("lex_8h", "ratio", "twa", "dose_percent", "osha_hc_twa")


_R = TypeVar("_R", "IntervalRule", "FollowUpRule")


class RulesError(ValueError):
    pass


@dataclass(frozen=True)
class IntervalRule:
    id: str
    jurisdiction: str
    hazard: str
    metric: Metric
    at_least: float
    below: float | None
    months: int
    source: str
    mark: str
    #: the first exam is due this many months after the first exposure at the rule's level (0: at once)
    first_within_months: int = 0
    first_source: str = ""
    first_mark: str = ""

    def at_level(self, level: float) -> bool:
        return level >= self.at_least and (self.below is None or level < self.below)

    def matches(self, jurisdiction: str, hazard: str, level: float) -> bool:
        return (self.jurisdiction in ("*", jurisdiction) and self.hazard in ("*", hazard)
                and level >= self.at_least and (self.below is None or level < self.below))


@dataclass(frozen=True)
class FollowUpRule:
    id: str
    jurisdiction: str
    hazard: str
    metric: Metric
    at_least: float
    exam_type: ExamType
    within_days: int
    source: str


@dataclass(frozen=True)
class EmergencyRule:
    """An incident (not a drill) of a matching plan schedules an exam for every worker linked to it."""

    id: str
    jurisdiction: str
    plans: tuple[str, ...]
    min_severity: str | None  # of the alert that started the incident; None: any
    manual: bool  # incidents started by hand (no alert) count
    exam_type: ExamType
    within_days: int
    source: str
    mark: str

    def matches(self, jurisdiction: str, plan: str, severity: str | None) -> bool:
        import fnmatch

        if self.jurisdiction not in ("*", jurisdiction):
            return False
        if not any(fnmatch.fnmatchcase(plan, p) for p in self.plans):
            return False
        if severity is None:
            return self.manual
        return self.min_severity is None or severity_rank(severity) >= severity_rank(self.min_severity)


@dataclass(frozen=True)
class Rules:
    lookback_days: int
    horizon_days: int
    intervals: tuple[IntervalRule, ...]
    follow_ups: tuple[FollowUpRule, ...]
    emergency: tuple[EmergencyRule, ...] = ()


def _field(row: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    if name not in row:
        if default is ...:
            raise RulesError(f"{where}.{name}: missing field")
        return default
    v = row[name]
    if isinstance(v, bool) or not isinstance(v, kind):
        raise RulesError(f"{where}.{name}: wrong type {type(v).__name__}")
    return v


def parse_rules(text: str, *, file: str = "surveillance rules") -> Rules:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{file}: not valid TOML: {exc}") from None
    intervals = []
    for i, row in enumerate(raw.get("interval", [])):
        w = f"{file}: interval[{i}]"
        metric = _field(row, "metric", str, w)
        if metric not in _METRICS:
            raise RulesError(f"{w}.metric: one of {', '.join(_METRICS)}")
        below = _field(row, "below", (int, float), w, None)
        intervals.append(IntervalRule(
            _field(row, "id", str, w), _field(row, "jurisdiction", str, w), _field(row, "hazard", str, w), metric,
            float(_field(row, "at_least", (int, float), w)), None if below is None else float(below),
            _field(row, "months", int, w), _field(row, "source", str, w), _field(row, "mark", str, w, "site"),
            _field(row, "first_within_months", int, w, 0), _field(row, "first_source", str, w, ""),
            _field(row, "first_mark", str, w, "")))
    follow = []
    for i, row in enumerate(raw.get("follow_up", [])):
        w = f"{file}: follow_up[{i}]"
        metric = _field(row, "metric", str, w)
        exam_type = _field(row, "exam_type", str, w, "follow_up")
        if metric not in _METRICS or exam_type not in EXAM_TYPES:
            raise RulesError(f"{w}: metric or exam_type not known")
        follow.append(FollowUpRule(
            _field(row, "id", str, w), _field(row, "jurisdiction", str, w, "*"), _field(row, "hazard", str, w),
            metric, float(_field(row, "at_least", (int, float), w)), exam_type,
            _field(row, "within_days", int, w, 30), _field(row, "source", str, w, "")))
    emergency = []
    for i, row in enumerate(raw.get("emergency", [])):
        w = f"{file}: emergency[{i}]"
        exam_type = _field(row, "exam_type", str, w, "emergency")
        min_sev = _field(row, "min_severity", str, w, None)
        plans = _field(row, "plans", list, w, ["*"])
        if exam_type not in EXAM_TYPES:
            raise RulesError(f"{w}.exam_type: one of {', '.join(EXAM_TYPES)}")
        if min_sev is not None and min_sev not in SEVERITIES:
            raise RulesError(f"{w}.min_severity: one of {', '.join(SEVERITIES)}")
        if not plans or not all(isinstance(p, str) for p in plans):
            raise RulesError(f"{w}.plans: a list of plan ids or globs")
        within = _field(row, "within_days", int, w, 1)
        if within < 0:
            raise RulesError(f"{w}.within_days: 0 or more")
        manual = row.get("manual", True)
        if not isinstance(manual, bool):
            raise RulesError(f"{w}.manual: true or false")
        emergency.append(EmergencyRule(
            _field(row, "id", str, w), _field(row, "jurisdiction", str, w, "*"), tuple(plans), min_sev, manual,
            exam_type, within, _field(row, "source", str, w, ""), _field(row, "mark", str, w, "site")))
    return Rules(_field(raw, "lookback_days", int, file, 365), _field(raw, "horizon_days", int, file, 30),
                 tuple(intervals), tuple(follow), tuple(emergency))


@lru_cache(maxsize=8)
def _load(path: str | None) -> Rules:
    if path is None:
        return parse_rules((files("server.health") / "surveillance_rules.toml").read_text(encoding="utf-8"),
                           file="built-in surveillance rules")
    return parse_rules(Path(path).read_text(encoding="utf-8"), file=path)


def load_rules(config: HealthConfig) -> Rules:
    return _load(None if config.surveillance_rules is None else str(config.surveillance_rules))


def _for_hazard(rules: Iterable[_R], hazard: str) -> list[_R]:
    """The rules naming the hazard; only when none does, the rules for every hazard ("*")."""
    rules = list(rules)
    return [r for r in rules if r.hazard == hazard] or [r for r in rules if r.hazard == "*"]


def jurisdiction_of(profile: str) -> str:
    return {"us-osha": "us", "us-niosh": "us"}.get(profile, profile)


def metric_value(rec: ExposureRecord, metric: Metric) -> float | None:
    if metric == "osha_hc_twa":
        return osha_hc_twa(rec)
    return {"lex_8h": rec.lex_8h, "ratio": rec.ratio, "twa": rec.twa, "dose_percent": rec.dose_percent}[metric]


def osha_hc_twa(rec: ExposureRecord) -> float | None:
    """The noise 8-h TWA as 29 CFR 1910.95 measures it for the hearing-conservation action level (5 dB exchange,
    80 dB(A) threshold: exposure.noise criterion `osha-hc`), kept in the record's details since migration 0006's
    release. Older records only have LEX,8h (3 dB exchange), which is never below the 5 dB TWA of the same
    shift, so it stands in as the conservative value."""
    if rec.lex_8h is None and rec.dose_percent is None:
        return None
    try:
        v = json.loads(rec.details_json or "{}").get("osha_hc_twa_db")
    except ValueError:
        v = None
    return float(v) if isinstance(v, int | float) else rec.lex_8h


def schedule_follow_ups(session: Session, records: Iterable[ExposureRecord], config: HealthConfig, *,
                        now_ms: int) -> int:
    """Schedule a follow-up exam for each record at or above a follow-up rule's level (one open exam per worker,
    hazard and type). Returns how many were scheduled. The caller commits."""
    rules = load_rules(config)
    juris = jurisdiction_of(config.profile)
    n = 0
    for rec in records:
        for rule in _for_hazard(rules.follow_ups, rec.substance):
            if rule.jurisdiction not in ("*", juris):
                continue
            v = metric_value(rec, rule.metric)
            if v is None or v < rule.at_least:
                continue
            open_exam = session.execute(select(Exam.id).where(
                Exam.worker_id == rec.worker_id, Exam.hazard == rec.substance, Exam.exam_type == rule.exam_type,
                Exam.status == "scheduled")).first()
            if open_exam is not None:
                continue
            shift_day = local_date(rec.shift_end_ms, config)
            session.add(Exam(worker_id=rec.worker_id, exam_type=rule.exam_type, hazard=rec.substance,
                             status="scheduled", due_date=shift_day + dt.timedelta(days=rule.within_days),
                             reason=f"follow-up rule {rule.id}: exposure record {rec.id}", trigger_record_id=rec.id,
                             created_ms=now_ms, updated_ms=now_ms))
            session.flush()
            n += 1
            break
    return n


def local_date(ms: int, config: HealthConfig) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, tz=config.tz).date()


def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class DueExam:
    worker_id: int
    employee_no: str
    exam_type: str
    hazard: str | None
    due_date: dt.date
    status: Literal["due", "overdue"]
    basis: str
    exam_id: int | None = None


def due_list(session: Session, config: HealthConfig, *, today: dt.date, horizon_days: int | None = None,
             worker_id: int | None = None) -> list[DueExam]:
    """Exams due by today + horizon, and every overdue one, sorted by due date."""
    rules = load_rules(config)
    horizon = today + dt.timedelta(days=rules.horizon_days if horizon_days is None else horizon_days)
    juris = jurisdiction_of(config.profile)
    q = select(Worker)
    if worker_id is not None:
        q = q.where(Worker.id == worker_id)
    out: list[DueExam] = []
    lookback_ms = int(dt.datetime.combine(today - dt.timedelta(days=rules.lookback_days), dt.time(),
                                          tzinfo=config.tz).timestamp() * 1000)
    for w in session.execute(q.order_by(Worker.id)).scalars():
        exams = list(session.execute(select(Exam).where(Exam.worker_id == w.id)).scalars())
        done = [e for e in exams if e.status == "done" and e.exam_date is not None]

        def add(exam_type: str, hazard: str | None, due: dt.date, basis: str, exam_id: int | None = None,
                w: Worker = w) -> None:
            if due <= horizon:
                out.append(DueExam(w.id, w.employee_no, exam_type, hazard, due,
                                   "overdue" if due < today else "due", basis, exam_id))

        for e in exams:
            if e.status == "scheduled" and e.due_date is not None:
                add(e.exam_type, e.hazard, e.due_date, e.reason or "scheduled", e.id)
        scheduled_types = {(e.exam_type, e.hazard) for e in exams if e.status == "scheduled"}
        if w.status == "left" or w.leave_date is not None:
            if not any(e.exam_type == "exit" for e in done) and ("exit", None) not in scheduled_types:
                add("exit", None, w.leave_date or today,
                    "exit exam before leaving (49号令: within 30 days before leaving, UNVERIFIED)")
            continue
        if not any(e.exam_type == "pre_placement" for e in done) and ("pre_placement", None) not in scheduled_types:
            add("pre_placement", None, w.hire_date or today, "no pre-placement exam on file")
        records = list(session.execute(select(ExposureRecord).where(
            ExposureRecord.worker_id == w.id, ExposureRecord.superseded.is_(False),
            ExposureRecord.shift_start_ms >= lookback_ms)).scalars())
        for hazard in sorted({r.substance for r in records}):
            rs = [r for r in records if r.substance == hazard]
            best: tuple[IntervalRule, float] | None = None
            for rule in _for_hazard(rules.intervals, hazard):
                levels = [v for r in rs if (v := metric_value(r, rule.metric)) is not None]
                if not levels or not rule.matches(juris, hazard, max(levels)):
                    continue
                if best is None or rule.months < best[0].months:
                    best = (rule, max(levels))
            if best is None or ("periodic", hazard) in scheduled_types:
                continue
            rule, level = best
            last = max((e.exam_date for e in done if e.exam_type in ("periodic", "pre_placement", "follow_up")
                        and e.hazard in (None, hazard) and e.exam_date is not None), default=None)
            basis = f"rule {rule.id} ({rule.source}; {rule.mark}) at level {level:.4g}"
            if last:
                add("periodic", hazard, add_months(last, rule.months), basis)
                continue
            if rule.first_within_months:  # baseline: months after the first shift at the rule's level
                at_level = [r.shift_start_ms for r in rs
                            if (v := metric_value(r, rule.metric)) is not None and rule.at_level(v)]
                first = local_date(min(at_level), config)
                add("periodic", hazard, add_months(first, rule.first_within_months),
                    f"{basis}; first exam within {rule.first_within_months} months of the first exposure at "
                    f"that level ({rule.first_source or rule.source}; {rule.first_mark or rule.mark})")
                continue
            add("periodic", hazard, local_date(min(r.shift_start_ms for r in rs), config), basis)
    out.sort(key=lambda d: (d.due_date, d.worker_id, d.exam_type, d.hazard or ""))
    return out
