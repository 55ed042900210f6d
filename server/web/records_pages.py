"""The record-keeper's pages: the workers (`/workers`: search by name in any script, employee number, department,
zone and status; a worker added in place), one worker's file (`/workers/{employee_no}`: job history, exposure
records with a record's versions and its shift's chart against the limit, linked alerts and incidents, exams where
the role may see them, the exports, the worker edited in place) and a worker's own file (`/me`).

Public shells like the operations pages (server/web/pages.py); the partials under `/web/partials/` read the files
through the health API's own functions (server.web.records_views: the role matrix of server.accounts.access,
server.health.reach.worker_for, every view audited). A `worker` reaches only their own file: any other worker's
partial, record or export answers 403 (404 for one that does not exist)."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, Response

from server.accounts.access import AccessDep
from server.web import records_views as rv
from server.web.templating import render, site_zone

router = APIRouter(include_in_schema=False)

#: the roles that may open the workers' pages (server.accounts.access: workers.list)
READERS = "admin record_keeper safety_manager auditor"


def _refused(e: HTTPException) -> HTMLResponse:
    """A refusal as one line in the page; a 403 names no record (a worker learns nothing of anyone else's)."""
    detail = "You may not see this file: your role may open only the files it is given." if e.status_code == 403 \
        else str(e.detail)
    return render("_workers_refused.html", status_code=e.status_code, detail=detail)


@router.get("/workers", response_class=HTMLResponse)
def workers_page(q: str = "", department: str = "", zone: str = "", status: str = "") -> HTMLResponse:
    f = rv.WorkerFilter(q=q.strip(), department=department.strip(), zone=zone.strip(),
                        status=status if status in rv.STATUSES else "")
    return render("workers.html", nav="workers", f=f, statuses=rv.STATUSES, allow_roles=READERS)


@router.get("/workers/{employee_no}", response_class=HTMLResponse)
def worker_page(employee_no: str) -> HTMLResponse:
    return render("worker.html", nav="workers", employee_no=employee_no, allow_roles=READERS + " worker")


@router.get("/me", response_class=HTMLResponse)
def own_page() -> HTMLResponse:
    return render("me.html", nav="me", allow_roles=READERS + " worker")


@router.get("/fonts/cjk-fallback.ttf")
def cjk_font() -> Response:
    """The PDFs' Chinese font (server/health/fonts, Apache-2.0) for a browser that has none: workers.css asks for it
    only for CJK characters (unicode-range), so a page without them never downloads it."""
    data = (files("server.health") / "fonts" / "DroidSansFallbackFull.ttf").read_bytes()
    return Response(data, media_type="font/ttf", headers={"Cache-Control": "max-age=86400"})


# -- the partials (authenticated, role-checked, audited) ---------------------------------------------------------


@router.get("/web/partials/workers", response_class=HTMLResponse)
def workers_part(acc: AccessDep, q: str = "", department: str = "", zone: str = "",
                 status: str = "") -> HTMLResponse:
    f = rv.WorkerFilter(q=q.strip()[:128], department=department.strip()[:128], zone=zone.strip()[:64],
                        status=status if status in rv.STATUSES else "")
    try:
        workers = rv.worker_list(acc, f)
    except HTTPException as e:
        return _refused(e)
    return render("_workers.html", workers=workers, f=f, zones=rv.zone_codes(acc), may_edit=acc.may("worker.write"),
                  patterns=rv.pattern_codes(acc), accounts=rv.worker_accounts(acc), statuses=rv.STATUSES,
                  limit=rv.LIST_LIMIT)


def _file_part(acc: AccessDep, worker_id: int, *, own: bool) -> HTMLResponse:
    try:
        p = rv.file_page(acc, worker_id)
    except HTTPException as e:
        return _refused(e)
    return render("_worker_file.html", p=p, f=p.file, own=own, statuses=rv.STATUSES)


@router.get("/web/partials/worker-file", response_class=HTMLResponse)
def worker_file_part(acc: AccessDep, employee_no: Annotated[str, Query(min_length=1, max_length=64)]) -> HTMLResponse:
    """One worker's file by employee number (a worker: only their own)."""
    return _file_part(acc, rv.worker_id_of(acc, employee_no), own=False)


@router.get("/web/partials/me", response_class=HTMLResponse)
def own_file_part(acc: AccessDep) -> HTMLResponse:
    """The signed-in account's own file (the worker linked to it), whatever its role."""
    wid = rv.own_worker_id(acc)
    if wid is None:
        return render("_workers_refused.html", status_code=404,
                      detail="No worker file is linked to your account. Ask the record-keeper to link it.")
    return _file_part(acc, wid, own=True)


@router.get("/web/partials/exposure-records/{record_id}", response_class=HTMLResponse)
def record_part(acc: AccessDep, record_id: int) -> HTMLResponse:
    """One exposure record: its figures, versions and its shift's series against the limit (for uPlot)."""
    try:
        p = rv.record_page(acc, record_id)
    except HTTPException as e:
        return _refused(e)
    if p is None:
        return render("_workers_refused.html", status_code=404, detail=f"no exposure record {record_id}")
    r = p.record
    chart = {"points": p.points, "unit": r.unit, "limit": r.limit.value if r.limit else None,
             "stel": r.stel_limit.value if r.stel_limit else None, "zone": site_zone().key,
             "start": r.shift_start_ms, "end": r.shift_end_ms}
    return render("_exposure_record.html", p=p, r=r, chart=json.dumps(chart))
