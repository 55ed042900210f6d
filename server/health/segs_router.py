"""Laboratory personal samples (entered, imported, read per worker) and similar exposure groups with their
EN 689 / AIHA assessment and report. Every route checks the role matrix (access.py) and is audited."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import select

from server.accounts.access import AccessDep, HealthAccess
from server.csv_import import csv_text
from server.health import samples, segs
from server.health.models import Seg
from server.health.reach import worker_for
from server.health.schemas import ImportError_, ImportReportOut, SampleIn, SampleOut, SegAssessmentOut, SegIn, SegOut
from server.health.seg_report import seg_csv, seg_pdf

router = APIRouter(tags=["health: samples and SEGs"])
MAX_IMPORT = 5 * 1024 * 1024
HazardQ = Annotated[str, Query(min_length=1, max_length=64, description="catalogue substance id")]
BasisQ = Annotated[Literal["personal_sample", "area_derived"], Query(description="results the verdict rests on")]
FromQ = Annotated[dt.date | None, Query(alias="from", ge=dt.date(1970, 1, 1), le=dt.date(9999, 12, 30))]
ToQ = Annotated[dt.date | None, Query(alias="to", ge=dt.date(1970, 1, 1), le=dt.date(9999, 12, 30))]



@router.get("/workers/{worker_id}/samples", summary="The worker's laboratory personal samples (basis personal_sample)")
def list_samples(acc: AccessDep, worker_id: int) -> list[SampleOut]:
    w = worker_for(acc, worker_id, "exposure.read")
    rows = [samples.sample_out(p, w.employee_no, acc.config) for p in samples.samples_of(acc.session, w.id)]
    acc.record("samples.read", f"worker:{w.id}", f"n={len(rows)}")
    acc.session.commit()
    return rows


@router.post("/workers/{worker_id}/samples", status_code=201, summary="Enter a laboratory personal sample")
def add_sample(acc: AccessDep, worker_id: int, body: SampleIn) -> SampleOut:
    w = worker_for(acc, worker_id, "samples.write")
    try:
        row = samples.add(acc.session, w, body, now_ms=acc.now_ms)
    except samples.SampleError as exc:
        raise HTTPException(409 if exc.field == "sample_id" else 422, str(exc)) from None
    acc.record("samples.write", f"worker:{w.id}", f"sample={row.id}")
    acc.session.commit()
    return samples.sample_out(row, w.employee_no, acc.config)


@router.post("/samples/import", summary="Import laboratory results (CSV body) with a row-by-row error report")
async def import_samples(
    request: Request, acc: AccessDep, mode: Annotated[Literal["atomic", "partial"], Query()] = "atomic"
) -> ImportReportOut:
    acc.require("samples.write", "samples")
    text = await csv_text(request, limit=MAX_IMPORT, what="sample file")
    report = samples.import_samples(acc.session, text, acc.config, mode=mode, now_ms=acc.now_ms)
    acc.record("samples.import", "samples", f"rows={report.rows} imported={report.imported} "
                                            f"errors={len(report.errors)}")
    acc.session.commit()
    return ImportReportOut(rows=report.rows, imported=report.imported,
                           errors=[ImportError_(line=e.line, field=e.field, reason=e.reason) for e in report.errors])


def _seg(acc: HealthAccess, seg_id: int, action: Literal["segs.read", "segs.write"]) -> Seg:
    acc.require(action, f"seg:{seg_id}")
    seg = acc.session.get(Seg, seg_id)
    if seg is None:
        raise HTTPException(404, f"no SEG {seg_id}")
    return seg


@router.get("/segs", summary="Similar exposure groups")
def list_segs(acc: AccessDep) -> list[SegOut]:
    acc.require("segs.read", "segs")
    rows = [segs.seg_out(acc.session, s) for s in acc.session.execute(select(Seg).order_by(Seg.name)).scalars()]
    acc.record("segs.read", "segs", f"n={len(rows)}")
    acc.session.commit()
    return rows


@router.post("/segs", status_code=201, summary="Define a similar exposure group (members by zone, post, job, hand)")
def create_seg(acc: AccessDep, body: SegIn) -> SegOut:
    acc.require("segs.write", "segs")
    try:
        seg = segs.create(acc.session, body, now_ms=acc.now_ms)
    except segs.SegError as exc:
        raise HTTPException(exc.status, exc.reason) from None
    acc.record("segs.write", f"seg:{seg.id}", "created")
    acc.session.commit()
    return segs.seg_out(acc.session, seg)


@router.get("/segs/{seg_id}", summary="One similar exposure group and its members")
def get_seg(acc: AccessDep, seg_id: int) -> SegOut:
    seg = _seg(acc, seg_id, "segs.read")
    acc.record("segs.read", f"seg:{seg.id}")
    acc.session.commit()
    return segs.seg_out(acc.session, seg)


@router.put("/segs/{seg_id}", summary="Change a similar exposure group")
def update_seg(acc: AccessDep, seg_id: int, body: SegIn) -> SegOut:
    seg = _seg(acc, seg_id, "segs.write")
    try:
        segs.update(acc.session, seg, body)
    except segs.SegError as exc:
        raise HTTPException(exc.status, exc.reason) from None
    acc.record("segs.write", f"seg:{seg.id}", "updated")
    acc.session.commit()
    return segs.seg_out(acc.session, seg)


def _assess(acc: HealthAccess, seg_id: int, hazard: str, basis: str, period_from: dt.date | None,
            period_to: dt.date | None, kind: str) -> SegAssessmentOut:
    seg = _seg(acc, seg_id, "segs.read")
    if period_from and period_to and period_to < period_from:
        raise HTTPException(422, "to: the period must end on or after its start")
    try:
        out = segs.assess(acc.session, seg, hazard, acc.config, basis=basis,  # type: ignore[arg-type]
                          period_from=period_from, period_to=period_to)
    except segs.SegError as exc:
        raise HTTPException(exc.status, exc.reason) from None
    acc.record("segs.assess", f"seg:{seg.id}", f"hazard={hazard} basis={basis} format={kind} n={out.assessment.n}")
    acc.session.commit()
    return out


@router.get("/segs/{seg_id}/assessment", summary="The SEG's exposure profile and EN 689 verdict for one hazard")
def seg_assessment(acc: AccessDep, seg_id: int, hazard: HazardQ, basis: BasisQ = "personal_sample",
                   period_from: FromQ = None, period_to: ToQ = None) -> SegAssessmentOut:
    return _assess(acc, seg_id, hazard, basis, period_from, period_to, "json")


_NO_STORE = {"Cache-Control": "no-store"}


@router.get("/segs/{seg_id}/report.pdf", summary="The SEG report (PDF): profile, plots, verdict, data, sources")
def seg_report_pdf(acc: AccessDep, seg_id: int, hazard: HazardQ, basis: BasisQ = "personal_sample",
                   period_from: FromQ = None, period_to: ToQ = None) -> Response:
    out = _assess(acc, seg_id, hazard, basis, period_from, period_to, "pdf")
    return Response(seg_pdf(out, tz=acc.config.tz), media_type="application/pdf",
                    headers={**_NO_STORE, "Content-Disposition": f'inline; filename="seg-{seg_id}-{hazard}.pdf"'})


@router.get("/segs/{seg_id}/report.csv", summary="The SEG report's data (CSV): every result with its basis")
def seg_report_csv(acc: AccessDep, seg_id: int, hazard: HazardQ, basis: BasisQ = "personal_sample",
                   period_from: FromQ = None, period_to: ToQ = None) -> Response:
    out = _assess(acc, seg_id, hazard, basis, period_from, period_to, "csv")
    return Response(seg_csv(out), media_type="text/csv; charset=utf-8", headers=_NO_STORE)
