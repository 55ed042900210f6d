"""The incident pages: the list of incidents (`/incident`, and `/incident?id=N` as the team's messages link it)
and one incident (`/incidents/{id}`): a public shell each, the data in authenticated partials under
`/web/partials/incidents`. Actions (steps, undo, muster, resend, close) go through the JSON API
(server/emergency/router.py), which checks the roles again; the page hides what the role cannot do."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from server.accounts.auth import StaffDep
from server.i18n import _
from server.services import SessionDep
from server.web import incident_views as views
from server.web.muster_page import router as muster_router
from server.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(muster_router)


@router.get("/incident", response_class=HTMLResponse)
def incidents_page(id: int | None = None) -> HTMLResponse:
    if id is not None:
        return incident_page(id)
    return render("incidents.html", nav="incidents")


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(incident_id: int) -> HTMLResponse:
    return render("incident.html", nav="incidents", incident_id=incident_id)


@router.get("/web/partials/incidents", response_class=HTMLResponse)
def incidents_part(session: SessionDep, _staff: StaffDep) -> HTMLResponse:
    return render("_incidents.html", incidents=views.incidents(session))


@router.get("/web/partials/incidents/{incident_id}", response_class=HTMLResponse)
def incident_part(incident_id: int, session: SessionDep, user: StaffDep) -> HTMLResponse:
    p = views.incident_page(session, incident_id, names=user.role != "facilities")
    if p is None:
        return render("_missing.html", status_code=404, what=_("incident %(id)s", id=incident_id))
    return render("_incident.html", p=p, can_act=user.role in views.RESPONDERS,
                  can_close=user.role in views.CLOSERS)
