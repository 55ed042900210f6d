"""The deliberately public muster page, the link each person on an incident's muster list gets on their phone:
validated by its signature alone. Opening it changes nothing; its form answers "I am safe" or "I need help"
(which makes the incident urgent and tells the team). A bad, forged or stale link shows a page a person can read,
never raw JSON."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from server.accounts.browser import csrf_ok, form_body, new_csrf, set_csrf_cookie
from server.emergency.incidents import IncidentError, mark_safe, muster_entry
from server.emergency.models import Incident, MusterEntry
from server.emergency.muster import check_signature
from server.i18n import _
from server.services import Services, ServicesDep, SessionDep
from server.web.templating import render

router = APIRouter(include_in_schema=False)
SigQ = Annotated[str, Query(max_length=128)]


class LinkError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _problem(exc: LinkError) -> HTMLResponse:
    return render("muster.html", status_code=exc.status, title=_("This link does not work"), error=str(exc))


def _lookup(services: Services, session: SessionDep, incident_id: str, person_id: str, sig: str
            ) -> tuple[Incident, MusterEntry | None]:
    if not incident_id.isdigit() or not sig or not check_signature(services.emergency.key, int(incident_id),
                                                                     person_id, sig):
        raise LinkError(403, _("This link is not valid. Use the newest link in your messages, or tell your "
                               "supervisor or the muster point warden that you are safe."))
    incident = session.get(Incident, int(incident_id))
    if incident is None:
        raise LinkError(404, _("This incident is not known (any more). Tell your supervisor or the muster point "
                               "warden that you are safe."))
    return incident, muster_entry(session, incident.id, person_id)


def _page(request: Request, services: Services, incident: Incident, entry: MusterEntry | None, person_id: str
          ) -> HTMLResponse:
    csrf = new_csrf() if incident.state == "open" and (entry is None or entry.safe_ms is None) else ""
    title = _("[DRILL] %(title)s", title=incident.title) if incident.drill else incident.title
    response = render("muster.html", title=title, incident=incident, entry=entry,
                      who=entry.name if entry else person_id, csrf=csrf)
    if csrf:
        set_csrf_cookie(request, response, csrf, setting=services.settings.cookie_secure, path="/muster")
    return response


@router.get("/muster/{incident_id}/{person_id}", response_class=HTMLResponse)
def muster_page(request: Request, incident_id: str, person_id: str, services: ServicesDep, session: SessionDep,
                sig: SigQ = "") -> HTMLResponse:
    try:
        incident, entry = _lookup(services, session, incident_id, person_id, sig)
    except LinkError as exc:
        return _problem(exc)
    return _page(request, services, incident, entry, person_id)


@router.post("/muster/{incident_id}/{person_id}", response_class=HTMLResponse)
def muster_answer(request: Request, incident_id: str, person_id: str, services: ServicesDep, session: SessionDep,
                  form: Annotated[bytes, Depends(form_body)], sig: SigQ = "") -> HTMLResponse:
    try:
        incident, _entry = _lookup(services, session, incident_id, person_id, sig)
        if not csrf_ok(request, form):
            raise LinkError(403, _("This page has expired. Open the link in your message again."))
    except LinkError as exc:
        return _problem(exc)
    try:
        answer = parse_qs(form.decode("utf-8"), max_num_fields=20).get("answer", ["safe"])[0]
    except (UnicodeDecodeError, ValueError):
        answer = "safe"
    if incident.state == "open":
        try:
            if answer == "help":
                services.emergency.help(session, incident.id, person_id, now_ms=services.now_ms())
            else:
                mark_safe(session, incident.id, person_id, via="link", actor=f"person:{person_id}",
                          now_ms=services.now_ms())
            session.commit()
        except IncidentError:
            session.rollback()
    session.refresh(incident)
    return _page(request, services, incident, muster_entry(session, incident.id, person_id), person_id)
