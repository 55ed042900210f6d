"""The surveillance pages of the records application: the exams-due list with its filters and CSV export
(`/exams`), recording an exam's result (`/exams/record`, the medical roles only: exams.write; a safety manager
never sees a result or the form) and the hooks for laboratory sampling results and similar exposure groups
(`/exams/samples`: the CSV import form of POST /api/v1/samples/import; SEGs through /api/v1/segs). Public shells;
the partials and the export check the health access rules and audit what they show."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from server.accounts.access import AccessDep, HealthAccess
from server.health.models import Exam
from server.health.surveillance import EXAM_TYPES, local_date
from server.org.models import Worker, Zone
from server.web import exams_views as ev
from server.web.records_access import refusal
from server.web.templating import render

router = APIRouter(include_in_schema=False)

ExamTypeQ = Annotated[str, Query(pattern=r"^(|pre_placement|periodic|exit|emergency|follow_up)$")]
WindowQ = Annotated[ev.Window, Query()]
OUTCOMES = ("fit", "fit_with_restrictions", "unfit", "referred", "pending_review")


def _filter(site: str, exam_type: str, window: str) -> ev.DueFilter:
    return ev.DueFilter(site=site.strip(), exam_type=exam_type, window=window)  # type: ignore[arg-type]


def _sites(acc: HealthAccess) -> list[str]:
    return sorted({s for s in acc.session.execute(select(Zone.site)).scalars()})


@router.get("/exams", response_class=HTMLResponse)
def exams_page(site: str = "", exam_type: ExamTypeQ = "", window: WindowQ = "90") -> HTMLResponse:
    return render("exams.html", nav="exams", f=_filter(site, exam_type, window), types=EXAM_TYPES,
                  windows=ev.WINDOWS)


@router.get("/exams/record", response_class=HTMLResponse)
def record_page(worker_id: int, exam_id: int | None = None, exam_type: ExamTypeQ = "",
                hazard: str = "") -> HTMLResponse:
    return render("exam_record.html", nav="exams", worker_id=worker_id, exam_id=exam_id or "",
                  exam_type=exam_type, hazard=hazard)


@router.get("/exams/samples", response_class=HTMLResponse)
def samples_page() -> HTMLResponse:
    return render("exam_samples.html", nav="exams")


@router.get("/web/partials/exams/due", response_class=HTMLResponse)
def due_part(acc: AccessDep, site: str = "", exam_type: ExamTypeQ = "", window: WindowQ = "90") -> HTMLResponse:
    if (no := refusal(acc, "surveillance.read", "surveillance")) is not None:
        return no
    f = _filter(site, exam_type, window)
    lines = ev.due_lines(acc.session, acc.config, f, today=local_date(acc.now_ms, acc.config))
    acc.record("surveillance.read", "surveillance", f"n={len(lines)} web")
    acc.session.commit()
    return render("_exams_due.html", lines=lines, f=f, sites=_sites(acc), types=EXAM_TYPES, windows=ev.WINDOWS,
                  can_record=acc.may("exams.write"), tz=acc.config.timezone)


@router.get("/web/exports/exams-due.csv")
def due_export(acc: AccessDep, site: str = "", exam_type: ExamTypeQ = "", window: WindowQ = "90") -> Response:
    acc.require("surveillance.read", "surveillance")
    f = _filter(site, exam_type, window)
    today = local_date(acc.now_ms, acc.config)
    lines = ev.due_lines(acc.session, acc.config, f, today=today)
    acc.record("surveillance.read", "surveillance", f"n={len(lines)} export=csv")
    acc.session.commit()
    return Response(ev.due_csv(lines, now_ms=acc.now_ms, config=acc.config), media_type="text/csv; charset=utf-8",
                    headers={"Cache-Control": "no-store",
                             "Content-Disposition": f'attachment; filename="exams-due-{today.isoformat()}.csv"'})


@router.get("/web/partials/exams/record", response_class=HTMLResponse)
def record_part(acc: AccessDep, worker_id: int, exam_id: int | None = None, exam_type: ExamTypeQ = "",
                hazard: str = "") -> HTMLResponse:
    """The result form: for exams.write only (the refusal is audited); an existing exam's stored result is shown
    to fill the form (the read is audited as exams.read)."""
    if (no := refusal(acc, "exams.write", f"worker:{worker_id}")) is not None:
        return no
    w = acc.session.get(Worker, worker_id)
    if w is None:
        return render("_missing.html", status_code=404, what=f"worker {worker_id}")
    exam = acc.session.get(Exam, exam_id) if exam_id else None
    if exam is not None and exam.worker_id != w.id:
        exam = None
    if exam is not None:
        acc.record("exams.read", f"worker:{w.id}", f"exam={exam.id} form")
        acc.session.commit()
    today = local_date(acc.now_ms, acc.config)
    return render("_exam_record.html", w=w, exam=exam, exam_type=exam.exam_type if exam else (exam_type or "periodic"),
                  hazard=(exam.hazard if exam else hazard) or "", types=EXAM_TYPES, outcomes=OUTCOMES,
                  today=today.isoformat(), max_date=(today + dt.timedelta(days=1)).isoformat())
