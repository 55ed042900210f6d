"""Similar exposure groups: who is a member, which shift results stand for the group, and its EN 689 / AIHA
assessment (exposure.en689 holds the statistics; this module only gathers the data and keeps the bases apart).

- Members: the workers picked by hand, those whose job is one of the SEG's jobs, and those assigned to one of its
  zones or posts during the period.
- Results for one hazard, per basis:
  * `personal_sample` (the default, as EN 689 rests on personal measurements): the members' laboratory samples
    of the substance, each as its 8-h TWA (server.health.samples); a result below the LoQ stays censored at the
    LoQ's 8-h TWA, never 0.
  * `area_derived`: the members' current computed exposure records of the substance (zone monitors weighted by
    presence, or a worn direct-reading sensor): screening data, shown separately and marked. Only shifts with at
    least `MIN_COVERAGE` of valid data count (a result mostly estimated is not a measurement).
- The next reassessment date is the newest result's date plus the interval exposure.en689 gives (marked
  unverified there until the standard's table is checked).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from exposure.catalogue import load_catalogue
from exposure.en689 import BelowLoq, ShiftResult, assess_seg
from exposure.errors import InvalidInput
from server.health.health_file import BASIS
from server.health.models import ExposureRecord, PersonalSample, Seg
from server.health.samples import oel_of, twa_8h
from server.health.schemas import LimitOut, SegAssessmentOut, SegIn, SegOut, SegProfileOut, SegResultOut
from server.org.models import Assignment, Post, Worker, Zone
from server.settings import HealthConfig

Basis = Literal["personal_sample", "area_derived"]
MIN_COVERAGE = 0.9
SOURCES = [
    "EN 689:2018 Workplace exposure - Measurement of exposure by inhalation to chemical agents - Strategy for "
    "testing compliance with occupational exposure limit values (preliminary test §5.5.2, statistical test "
    "Annex F, UTL95,70)",
    "AIHA, A Strategy for Assessing and Managing Occupational Exposures, 4th ed. (exposure categories 0-4 from the "
    "95th percentile relative to the OEL)",
    "Hewett P, Ganser GH (1997): exceedance fraction confidence limits by the non-central t distribution",
    "29 CFR 1910.1000(d)(1)(i): 8-h TWA of samples, E = sum(C x T) / 8 h",
]


class SegError(ValueError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def _list(text: str) -> list[str]:
    return [str(v) for v in json.loads(text or "[]")]


def seg_in(seg: Seg) -> SegIn:
    return SegIn(name=seg.name, site=seg.site, description=seg.description, hazards=_list(seg.hazards_json),
                 zones=_list(seg.zones_json), posts=_list(seg.posts_json), jobs=_list(seg.jobs_json),
                 workers=_list(seg.workers_json))


def check(session: Session, body: SegIn, *, current: Seg | None = None) -> None:
    cat = load_catalogue()
    for h in body.hazards:
        if h not in cat.substances:
            raise SegError(422, f"hazards: unknown substance {h!r}")
    for code in body.zones:
        if session.execute(select(Zone.id).where(Zone.code == code)).first() is None:
            raise SegError(422, f"zones: no zone {code!r}")
    for code in body.posts:
        if session.execute(select(Post.id).where(Post.code == code)).first() is None:
            raise SegError(422, f"posts: no post {code!r}")
    for no in body.workers:
        if session.execute(select(Worker.id).where(Worker.employee_no == no)).first() is None:
            raise SegError(422, f"workers: no worker {no!r}")
    if not (body.zones or body.posts or body.jobs or body.workers):
        raise SegError(422, "a SEG needs members: zones, posts, jobs or workers")
    same = session.execute(select(Seg.id).where(Seg.name == body.name)).scalar_one_or_none()
    if same is not None and (current is None or same != current.id):
        raise SegError(409, f"a SEG named {body.name!r} exists already")


def create(session: Session, body: SegIn, *, now_ms: int) -> Seg:
    check(session, body)
    seg = Seg(name=body.name, site=body.site, description=body.description, created_ms=now_ms)
    _fill(seg, body)
    session.add(seg)
    session.flush()
    return seg


def update(session: Session, seg: Seg, body: SegIn) -> Seg:
    check(session, body, current=seg)
    seg.name, seg.site, seg.description = body.name, body.site, body.description
    _fill(seg, body)
    session.flush()
    return seg


def _fill(seg: Seg, body: SegIn) -> None:
    seg.hazards_json = json.dumps(sorted(set(body.hazards)))
    seg.zones_json = json.dumps(sorted(set(body.zones)))
    seg.posts_json = json.dumps(sorted(set(body.posts)))
    seg.jobs_json = json.dumps(sorted(set(body.jobs)))
    seg.workers_json = json.dumps(sorted(set(body.workers)))


def members(session: Session, seg: Seg, lo_ms: int | None = None, hi_ms: int | None = None) -> list[Worker]:
    """The SEG's workers (by hand, job, or assigned to its zones or posts within [lo_ms, hi_ms))."""
    ids: set[int] = set()
    picked, jobs = _list(seg.workers_json), _list(seg.jobs_json)
    if picked or jobs:
        conds = []
        if picked:
            conds.append(Worker.employee_no.in_(picked))
        if jobs:
            conds.append(Worker.job.in_(jobs))
        ids |= set(session.execute(select(Worker.id).where(or_(*conds))).scalars())
    zones, posts = _list(seg.zones_json), _list(seg.posts_json)
    if zones or posts:
        q = select(Assignment.worker_id).join(Zone, Zone.id == Assignment.zone_id).outerjoin(
            Post, Post.id == Assignment.post_id)
        conds = []
        if zones:
            conds.append(Zone.code.in_(zones))
        if posts:
            conds.append(Post.code.in_(posts))
        q = q.where(or_(*conds))
        if seg.site:
            q = q.where(Zone.site == seg.site)
        if lo_ms is not None:
            q = q.where(Assignment.end_ms > lo_ms)
        if hi_ms is not None:
            q = q.where(Assignment.start_ms < hi_ms)
        ids |= set(session.execute(q).scalars())
    if not ids:
        return []
    return list(session.execute(select(Worker).where(Worker.id.in_(ids)).order_by(Worker.employee_no)).scalars())


def seg_out(session: Session, seg: Seg) -> SegOut:
    return SegOut(id=seg.id, **seg_in(seg).model_dump(), members=[w.employee_no for w in members(session, seg)])


@dataclass(frozen=True)
class _Result:
    out: SegResultOut
    value: ShiftResult


def _sample_results(session: Session, workers: Sequence[Worker], hazard: str, lo: int | None, hi: int | None,
                    config: HealthConfig) -> list[_Result]:
    by_id = {w.id: w for w in workers}
    q = select(PersonalSample).where(PersonalSample.worker_id.in_(by_id), PersonalSample.substance == hazard)
    if lo is not None:
        q = q.where(PersonalSample.end_ms > lo)
    if hi is not None:
        q = q.where(PersonalSample.start_ms < hi)
    out = []
    for p in session.execute(q.order_by(PersonalSample.start_ms, PersonalSample.id)).scalars():
        value, loq = twa_8h(p, config.profile)
        if value is None and loq is None:
            continue
        result: ShiftResult = value if value is not None else BelowLoq(loq)  # type: ignore[arg-type]
        out.append(_Result(SegResultOut(
            employee_no=by_id[p.worker_id].employee_no, worker_id=p.worker_id, start_ms=p.start_ms, end_ms=p.end_ms,
            value=value, below_loq=value is None, loq=loq, basis="personal_sample", ref=f"sample:{p.sample_id}"),
            result))
    return out


def _record_results(session: Session, workers: Sequence[Worker], hazard: str, lo: int | None,
                    hi: int | None) -> list[_Result]:
    by_id = {w.id: w for w in workers}
    q = select(ExposureRecord).where(ExposureRecord.worker_id.in_(by_id), ExposureRecord.substance == hazard,
                                     ExposureRecord.superseded.is_(False), ExposureRecord.twa.is_not(None),
                                     ExposureRecord.coverage >= MIN_COVERAGE)
    if lo is not None:
        q = q.where(ExposureRecord.shift_end_ms > lo)
    if hi is not None:
        q = q.where(ExposureRecord.shift_start_ms < hi)
    out = []
    for r in session.execute(q.order_by(ExposureRecord.shift_start_ms, ExposureRecord.id)).scalars():
        if r.twa is None or r.twa <= 0:
            continue  # a zero TWA is not a lognormal result; it says nothing was measured above zero
        out.append(_Result(SegResultOut(
            employee_no=by_id[r.worker_id].employee_no, worker_id=r.worker_id, start_ms=r.shift_start_ms,
            end_ms=r.shift_end_ms, value=r.twa, below_loq=False, loq=None,
            basis=BASIS.get(r.source, "area_presence"),  # type: ignore[arg-type]
            ref=f"record:{r.id}"), r.twa))
    return out


def _profile(basis: Basis, results: list[_Result], oel: float | None, tz: dt.tzinfo) -> SegProfileOut:
    outs = [r.out for r in results]
    screening = basis == "area_derived"
    if oel is None:
        return SegProfileOut(basis=basis, screening=screening, n=len(results), assessment=None,
                             reason="no 8-h TWA limit for this hazard in the jurisdiction profile", results=outs)
    if len(results) < 3:
        return SegProfileOut(basis=basis, screening=screening, n=len(results), assessment=None,
                             reason=f"{len(results)} result(s): EN 689 needs at least 3 for the preliminary test",
                             results=outs)
    try:
        a = assess_seg([r.value for r in results], oel=oel)
    except InvalidInput as exc:
        return SegProfileOut(basis=basis, screening=screening, n=len(results), assessment=None, reason=exc.reason,
                             results=outs)
    body = dataclasses.asdict(a)
    body["reasons"], body["notes"] = list(a.reasons), list(a.notes)
    if screening:
        body["notes"].insert(0, "screening: area monitors weighted by presence, not personal measurements")
    nxt = None
    if a.reassessment_months is not None:
        last = dt.datetime.fromtimestamp(max(r.out.end_ms for r in results) / 1000, tz).date()
        month = last.month - 1 + a.reassessment_months
        year, month = last.year + month // 12, month % 12 + 1
        nxt = dt.date(year, month, min(last.day, 28))
    return SegProfileOut(basis=basis, screening=screening, n=len(results), assessment=body, next_reassessment=nxt,
                         results=outs)


def assess(session: Session, seg: Seg, hazard: str, config: HealthConfig, *, basis: Basis = "personal_sample",
           period_from: dt.date | None = None, period_to: dt.date | None = None) -> SegAssessmentOut:
    hazards = _list(seg.hazards_json)
    if hazard not in hazards:
        raise SegError(422, f"hazard: {hazard!r} is not one of this SEG's hazards ({', '.join(hazards)})")
    sub = load_catalogue().substance(hazard)
    if sub.family not in ("gas", "dust"):
        raise SegError(422, f"hazard: EN 689 assesses chemical agents by inhalation; {hazard!r} is {sub.family}")
    tz = config.tz
    lo = None if period_from is None else round(dt.datetime.combine(period_from, dt.time(), tz).timestamp() * 1000)
    hi = None if period_to is None else round(
        dt.datetime.combine(period_to + dt.timedelta(days=1), dt.time(), tz).timestamp() * 1000)
    workers = members(session, seg, lo, hi)
    used = oel_of(hazard, config.profile)
    oel = used.value if used else None
    by_basis = {"personal_sample": _sample_results(session, workers, hazard, lo, hi, config),
                "area_derived": _record_results(session, workers, hazard, lo, hi)}
    chosen = _profile(basis, by_basis[basis], oel, tz)
    other_basis: Basis = "area_derived" if basis == "personal_sample" else "personal_sample"
    other = _profile(other_basis, by_basis[other_basis], oel, tz)
    return SegAssessmentOut(
        seg=seg_out(session, seg), hazard=hazard, unit=sub.unit,
        oel=LimitOut(value=used.value, unit=used.unit, kind="twa", source=used.label) if used else None,
        profile=config.profile, period_from=period_from, period_to=period_to, assessment=chosen, other=[other],
        sources=SOURCES)
