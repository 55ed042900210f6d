"""The organisation pages of the records application: the sites with their zones, posts and declared hazards
(`/org`), the shift patterns (`/org/shifts`), the roster import with its row-by-row report (`/org/roster`), a
week of assignments as a calendar grid with adding and ending one (`/org/assignments`) and the personal sensors
handed out and returned (`/org/personal-sensors`). Public shells; the partials under `/web/partials/org/` and
the actions under `/web/actions/` check the health access rules (org.read, roster.read, org.write, roster.write)
and are audited by the organisation API they call. The actions take the pickers' local times (the site's time
zone) and call the API's own routes with epoch ms, so the checks and the audit stay in one place."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from server.accounts.access import AccessDep, HealthAccess
from server.org import router as org_api
from server.org.models import ShiftPattern, Worker, Zone
from server.org.schemas import AssignmentIn, AssignmentOut, EndIn, PersonalSensorIn, PersonalSensorOut
from server.web import org_views as ov
from server.web.local_time import LocalTimeError, parse_local
from server.web.records_access import refusal
from server.web.templating import render

router = APIRouter(include_in_schema=False)


def _week_start(text: str, acc_today: dt.date) -> dt.date:
    try:
        return ov.monday_of(dt.date.fromisoformat(text)) if text else ov.monday_of(acc_today)
    except ValueError:
        return ov.monday_of(acc_today)


# -- the shells ------------------------------------------------------------------------------------------------


@router.get("/org", response_class=HTMLResponse)
def org_page() -> HTMLResponse:
    return render("org.html", nav="org", sub="zones")


@router.get("/org/shifts", response_class=HTMLResponse)
def shifts_page() -> HTMLResponse:
    return render("org_shifts.html", nav="org", sub="shifts")


@router.get("/org/roster", response_class=HTMLResponse)
def roster_page() -> HTMLResponse:
    return render("org_roster.html", nav="org", sub="roster")


@router.get("/org/assignments", response_class=HTMLResponse)
def assignments_page(week: str = "", zone: str = "", worker: str = "") -> HTMLResponse:
    return render("org_assignments.html", nav="org", sub="assignments", week=week, zone=zone, worker=worker)


@router.get("/org/personal-sensors", response_class=HTMLResponse)
def personal_page() -> HTMLResponse:
    return render("org_personal.html", nav="org", sub="personal")


# -- the partials ----------------------------------------------------------------------------------------------


@router.get("/web/partials/org/zones", response_class=HTMLResponse)
def zones_part(acc: AccessDep) -> HTMLResponse:
    if (no := refusal(acc, "org.read", "zones")) is not None:
        return no
    zones = [org_api.zone_out(acc, z) for z in acc.session.execute(select(Zone).order_by(Zone.site, Zone.code))
             .scalars()]
    by_site: dict[str, list[object]] = {}
    for z in zones:
        by_site.setdefault(z.site, []).append(z)
    return render("_org_zones.html", by_site=by_site, zones=zones, substances=ov.substances(),
                  labels=ov.VARIANT_LABELS, can_write=acc.may("org.write"))


@router.get("/web/partials/org/shifts", response_class=HTMLResponse)
def shifts_part(acc: AccessDep) -> HTMLResponse:
    if (no := refusal(acc, "org.read", "shift-patterns")) is not None:
        return no
    patterns = acc.session.execute(select(ShiftPattern).order_by(ShiftPattern.code)).scalars().all()
    return render("_org_shifts.html", patterns=patterns, tz=acc.config.timezone, can_write=acc.may("roster.write"))


@router.get("/web/partials/org/assignments", response_class=HTMLResponse)
def assignments_part(acc: AccessDep, week: str = "", zone: str = "", worker: str = "") -> HTMLResponse:
    if (no := refusal(acc, "roster.read", "assignments")) is not None:
        return no
    tz = acc.config.tz
    today = dt.datetime.fromtimestamp(acc.now_ms / 1000, tz=tz).date()
    w = ov.week(acc.session, tz, monday=_week_start(week, today), zone=zone.strip(), worker=worker.strip())
    acc.record("roster.read", "assignments", f"week={w.monday.isoformat()} n={len(w.items)}")
    acc.session.commit()
    zones = acc.session.execute(select(Zone).order_by(Zone.code)).scalars().all()
    return render("_org_week.html", w=w, zones=zones, workers=ov.workers(acc.session), today=today,
                  tz=acc.config.timezone, can_write=acc.may("roster.write"))


@router.get("/web/partials/org/personal-sensors", response_class=HTMLResponse)
def personal_part(acc: AccessDep) -> HTMLResponse:
    if (no := refusal(acc, "roster.read", "personal-sensors")) is not None:
        return no
    rows = ov.handouts(acc.session, acc.config.tz, now_ms=acc.now_ms)
    acc.record("roster.read", "personal-sensors", f"n={len(rows)}")
    acc.session.commit()
    return render("_org_personal.html", rows=rows, workers=ov.workers(acc.session),
                  sensors=ov.sensor_names(acc.session), tz=acc.config.timezone, can_write=acc.may("roster.write"))


# -- the actions: local times in, the organisation API's routes called with ms ----------------------------------


class LocalAssignment(BaseModel):
    employee_no: str = Field(min_length=1, max_length=64)
    zone: str = Field(min_length=1, max_length=64)
    post: str | None = Field(default=None, max_length=64)
    start: str = Field(max_length=32, description="YYYY-MM-DDTHH:MM, the site's local time")
    end: str = Field(max_length=32)


class LocalEnd(BaseModel):
    end: str = Field(max_length=32, description="YYYY-MM-DDTHH:MM, the site's local time")


class LocalHandout(BaseModel):
    employee_no: str = Field(min_length=1, max_length=64)
    sensor: str = Field(min_length=1, max_length=200, description="site/name")
    start: str = Field(max_length=32)
    end: str = Field(max_length=32)


def _ms(acc: HealthAccess, text: str, field: str) -> int:
    try:
        return parse_local(text, acc.config.tz, field=field)
    except LocalTimeError as e:
        raise HTTPException(422, str(e)) from None


def _worker_id(acc: HealthAccess, employee_no: str) -> int:
    wid = acc.session.execute(select(Worker.id).where(Worker.employee_no == employee_no.strip())).scalar_one_or_none()
    if wid is None:
        raise HTTPException(422, f"no worker with employee number {employee_no!r}")
    return wid


@router.post("/web/actions/assignments", status_code=201)
def add_assignment(acc: AccessDep, body: LocalAssignment) -> AssignmentOut:
    acc.require("roster.write", "assignments")
    a, b = _ms(acc, body.start, "start"), _ms(acc, body.end, "end")
    return org_api.create_assignment(acc, AssignmentIn(worker_id=_worker_id(acc, body.employee_no), zone=body.zone,
                                                       post=body.post or None, start_ms=a, end_ms=b))


@router.post("/web/actions/assignments/{assignment_id}/end")
def end_assignment(acc: AccessDep, assignment_id: int, body: LocalEnd) -> AssignmentOut:
    return org_api.end_assignment(acc, assignment_id, EndIn(end_ms=_ms(acc, body.end, "end")))


@router.post("/web/actions/personal-sensors", status_code=201)
def hand_out(acc: AccessDep, body: LocalHandout) -> PersonalSensorOut:
    acc.require("roster.write", "personal-sensors")
    site, _, name = body.sensor.rpartition("/")
    return org_api.create_personal(acc, PersonalSensorIn(
        worker_id=_worker_id(acc, body.employee_no), sensor=name, site=site or None,
        start_ms=_ms(acc, body.start, "handed out"), end_ms=_ms(acc, body.end, "due back")))


@router.post("/web/actions/personal-sensors/{personal_id}/return")
def hand_back(acc: AccessDep, personal_id: int, body: LocalEnd) -> PersonalSensorOut:
    return org_api.return_personal(acc, personal_id, EndIn(end_ms=_ms(acc, body.end, "returned")))
