"""Emergency incidents: start (or drill), the incident view, checklist steps, muster, notes, close-out report.

The pages (printable report, the public "I am safe" link) are in server/emergency/pages.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from server.accounts.auth import Principal, StaffDep, require_user
from server.emergency.incidents import (
    IncidentError,
    add_note,
    close_incident,
    complete_step,
    mark_safe,
    muster_count,
    report,
    undo_step,
    without_names,
)
from server.emergency.models import Incident
from server.services import ServicesDep, SessionDep

router = APIRouter(tags=["incidents"])

ManagerDep = Annotated[Principal, Depends(require_user("safety_manager"))]
#: who acts on an incident (steps, notes): staff, but not the auditor, who reads only
ResponderDep = Annotated[Principal, Depends(require_user("safety_manager", "facilities", "record_keeper"))]
#: who marks a person safe: responders, and a worker (themselves only)
MusterDep = Annotated[Principal, Depends(require_user("safety_manager", "facilities", "record_keeper", "worker"))]


class StartIn(BaseModel):
    plan: str
    site: str = Field(default="", max_length=64)
    zone: str = Field(default="", max_length=64)
    drill: bool = False
    note: str = Field(default="", max_length=2000)


class NoteIn(BaseModel):
    note: str = Field(default="", max_length=2000)


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


def _fail(session: SessionDep, exc: Exception) -> HTTPException:
    session.rollback()
    if isinstance(exc, LookupError):
        return HTTPException(404, str(exc))
    return HTTPException(409, str(exc))


@router.get("/plans", summary="The emergency plans loaded from config/emergency")
def list_plans(services: ServicesDep, _: StaffDep) -> list[dict[str, Any]]:
    return [p.model_dump() for p in services.emergency.plans.values()]


@router.get("/incidents", summary="Incidents, newest first, with their muster counts")
def list_incidents(session: SessionDep, _: StaffDep,
                   state: Annotated[str | None, Query(pattern="^(open|closed)$")] = None) -> list[dict[str, Any]]:
    q = select(Incident)
    if state:
        q = q.where(Incident.state == state)
    rows = session.execute(q.order_by(Incident.id.desc()).limit(500)).scalars().all()
    return [{"id": i.id, "plan": i.plan_id, "title": i.title, "drill": i.drill, "site": i.site, "zone": i.zone,
             "state": i.state, "opened_ms": i.opened_ms, "closed_ms": i.closed_ms,
             "muster_count": muster_count(session, i.id)} for i in rows]


@router.post("/incidents", summary="Start a plan by hand, or as a drill (drill=true)")
def start(body: StartIn, services: ServicesDep, session: SessionDep, user: ManagerDep) -> dict[str, Any]:
    plan = services.emergency.plans.get(body.plan)
    if plan is None:
        raise HTTPException(404, f"no plan {body.plan!r}")
    what = "drill" if body.drill else "started by hand"
    incident_id = services.emergency.start(
        session, plan, site=body.site, zone=body.zone, drill=body.drill, actor=user.name,
        trigger=f"{what} by {user.name}" + (f": {body.note}" if body.note else ""), now_ms=services.now_ms())
    session.commit()
    return report(session, incident_id)


@router.get("/incidents/{incident_id}", summary="The incident: checklist, muster count and timeline")
def get_incident(incident_id: int, session: SessionDep, user: StaffDep) -> dict[str, Any]:
    try:
        return _for_role(report(session, incident_id), user)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/incidents/{incident_id}/report", summary="The close-out report (JSON)")
def get_report(incident_id: int, session: SessionDep, user: StaffDep) -> dict[str, Any]:
    return get_incident(incident_id, session, user)


def _for_role(data: dict[str, Any], user: Principal) -> dict[str, Any]:
    """Facilities sees who is missing by person id and count, never by name."""
    return without_names(data) if user.role == "facilities" else data


@router.post("/incidents/{incident_id}/steps/{idx}/complete", summary="Mark a checklist step done")
def step_done(incident_id: int, idx: int, services: ServicesDep, session: SessionDep, user: ResponderDep,
              body: NoteIn | None = None) -> dict[str, Any]:
    try:
        complete_step(session, incident_id, idx, actor=user.name, note=(body or NoteIn()).note,
                      now_ms=services.now_ms())
        session.commit()
    except (LookupError, IncidentError) as exc:
        raise _fail(session, exc) from None
    return report(session, incident_id)


@router.post("/incidents/{incident_id}/steps/{idx}/undo", summary="Take back a step marked done by mistake")
def step_undo(incident_id: int, idx: int, services: ServicesDep, session: SessionDep,
              user: ResponderDep) -> dict[str, Any]:
    try:
        undo_step(session, incident_id, idx, actor=user.name, now_ms=services.now_ms())
        session.commit()
    except (LookupError, IncidentError) as exc:
        raise _fail(session, exc) from None
    return report(session, incident_id)


@router.post("/incidents/{incident_id}/muster/{person_id}/resend", summary="Send one person their muster link again")
def muster_resend(incident_id: int, person_id: str, services: ServicesDep, session: SessionDep,
                  user: ResponderDep) -> dict[str, int]:
    try:
        queued = services.emergency.resend(session, incident_id, person_id, actor=user.name, now_ms=services.now_ms())
        session.commit()
    except (LookupError, IncidentError) as exc:
        raise _fail(session, exc) from None
    return {"queued": queued}


@router.post("/incidents/{incident_id}/muster/{person_id}", summary="Mark a person safe (staff, or the person)")
def muster_api(incident_id: int, person_id: str, services: ServicesDep, session: SessionDep,
               user: MusterDep) -> dict[str, int]:
    if user.role == "worker" and user.name != person_id:
        raise HTTPException(403, "a worker may only report themselves safe")
    try:
        mark_safe(session, incident_id, person_id, via="api" if user.role == "worker" else "staff", actor=user.name,
                  now_ms=services.now_ms())
        session.commit()
    except (LookupError, IncidentError) as exc:
        raise _fail(session, exc) from None
    return muster_count(session, incident_id)


@router.post("/incidents/{incident_id}/notes", summary="Add a note to the timeline")
def note(incident_id: int, body: TextIn, services: ServicesDep, session: SessionDep,
         user: ResponderDep) -> dict[str, bool]:
    try:
        add_note(session, incident_id, actor=user.name, text=body.text, now_ms=services.now_ms())
        session.commit()
    except (LookupError, IncidentError) as exc:
        raise _fail(session, exc) from None
    return {"ok": True}


@router.post("/incidents/{incident_id}/close", summary="Close the incident")
def close(incident_id: int, body: TextIn, services: ServicesDep, session: SessionDep,
          user: ManagerDep) -> dict[str, Any]:
    try:
        close_incident(session, incident_id, actor=user.name, note=body.text, now_ms=services.now_ms())
        session.commit()
    except (LookupError, IncidentError) as exc:
        raise _fail(session, exc) from None
    return report(session, incident_id)
