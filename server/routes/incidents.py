"""Emergency incidents: start (or drill), the incident view, checklist steps, muster, notes, close-out report.

`pages` serves the web pages (alerts, incident, printable report) and the deliberately public "I am safe" link,
which is validated by its signature alone.
"""

from __future__ import annotations

import html
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from server.deps import Principal, SessionDep, StaffDep, current_user, require_user
from server.emergency.incidents import (
    IncidentError,
    add_note,
    close_incident,
    complete_step,
    mark_safe,
    muster_count,
    report,
    start_incident,
)
from server.emergency.models import Incident, MusterEntry
from server.emergency.muster import check_signature

router = APIRouter(tags=["incidents"])
pages = APIRouter(include_in_schema=False)

ManagerDep = Annotated[Principal, Depends(require_user("safety_manager"))]
UserDep = Annotated[Principal, Depends(current_user)]


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
def list_plans(request: Request, _: StaffDep) -> list[dict[str, Any]]:
    return [p.model_dump() for p in request.app.state.emergency.plans.values()]


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
def start(body: StartIn, request: Request, session: SessionDep, user: ManagerDep) -> dict[str, Any]:
    state = request.app.state
    plan = state.emergency.plans.get(body.plan)
    if plan is None:
        raise HTTPException(404, f"no plan {body.plan!r}")
    what = "drill" if body.drill else "started by hand"
    incident, _ = start_incident(
        session, plan, site=body.site, zone=body.zone, drill=body.drill, actor=user.name,
        trigger=f"{what} by {user.name}" + (f": {body.note}" if body.note else ""), now_ms=state.clock(),
        alert_id=None, notify=state.notifier.config, key=state.emergency.key,
    )
    session.commit()
    return report(session, incident.id)


@router.get("/incidents/{incident_id}", summary="The incident: checklist, muster count and timeline")
def get_incident(incident_id: int, session: SessionDep, _: StaffDep) -> dict[str, Any]:
    try:
        return report(session, incident_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/incidents/{incident_id}/report", summary="The close-out report (JSON)")
def get_report(incident_id: int, session: SessionDep, _: StaffDep) -> dict[str, Any]:
    return get_incident(incident_id, session, _)


@router.post("/incidents/{incident_id}/steps/{idx}/complete", summary="Mark a checklist step done")
def step_done(incident_id: int, idx: int, request: Request, session: SessionDep, user: StaffDep,
              body: NoteIn | None = None) -> dict[str, Any]:
    try:
        complete_step(session, incident_id, idx, actor=user.name, note=(body or NoteIn()).note,
                      now_ms=request.app.state.clock())
        session.commit()
    except (LookupError, IncidentError) as exc:
        raise _fail(session, exc) from None
    return report(session, incident_id)


@router.post("/incidents/{incident_id}/muster/{person_id}", summary="Mark a person safe (staff, or the person)")
def muster_api(incident_id: int, person_id: str, request: Request, session: SessionDep,
               user: UserDep) -> dict[str, int]:
    if user.role == "worker" and user.name != person_id:
        raise HTTPException(403, "a worker may only report themselves safe")
    try:
        mark_safe(session, incident_id, person_id, via="api", actor=user.name, now_ms=request.app.state.clock())
        session.commit()
    except (LookupError, IncidentError) as exc:
        raise _fail(session, exc) from None
    return muster_count(session, incident_id)


@router.post("/incidents/{incident_id}/notes", summary="Add a note to the timeline")
def note(incident_id: int, body: TextIn, request: Request, session: SessionDep, user: StaffDep) -> dict[str, bool]:
    try:
        add_note(session, incident_id, actor=user.name, text=body.text, now_ms=request.app.state.clock())
        session.commit()
    except (LookupError, IncidentError) as exc:
        raise _fail(session, exc) from None
    return {"ok": True}


@router.post("/incidents/{incident_id}/close", summary="Close the incident")
def close(incident_id: int, body: TextIn, request: Request, session: SessionDep, user: ManagerDep) -> dict[str, Any]:
    try:
        close_incident(session, incident_id, actor=user.name, note=body.text, now_ms=request.app.state.clock())
        session.commit()
    except (LookupError, IncidentError) as exc:
        raise _fail(session, exc) from None
    return report(session, incident_id)


# -- pages ---------------------------------------------------------------------------------------------------------


def _page(name: str) -> HTMLResponse:
    return HTMLResponse((files("server") / "web" / name).read_text(encoding="utf-8"),
                        headers={"Cache-Control": "no-store"})


@pages.get("/alerts", response_class=HTMLResponse)
def alerts_page() -> HTMLResponse:
    return _page("alerts.html")


@pages.get("/incident", response_class=HTMLResponse)
def incident_page() -> HTMLResponse:
    return _page("incident.html")


def _ms(ms: int | None) -> str:
    import datetime as dt

    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@pages.get("/incidents/{incident_id}/report.html", response_class=HTMLResponse)
def report_html(incident_id: int, session: SessionDep, _: StaffDep) -> HTMLResponse:
    """The printable close-out report."""
    try:
        r = report(session, incident_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    e = html.escape
    drill = '<p class="drill">DRILL — NOT A REAL EMERGENCY</p>' if r["drill"] else ""
    mc = r["muster_count"]
    steps = "".join(f"<tr><td>{s['idx']}</td><td>{e(s['title'])}</td><td>{e(s['owner'])}</td>"
                    f"<td>{e(s['done_by'] or 'NOT DONE')}</td><td>{_ms(s['done_ms'])}</td><td>{e(s['note'])}</td></tr>"
                    for s in r["steps"])
    muster = "".join(f"<tr><td>{e(m['person'])}</td><td>{e(m['name'])}</td>"
                     f"<td>{'safe' if m['safe_ms'] else 'NOT ACCOUNTED FOR'}</td><td>{_ms(m['safe_ms'])}</td>"
                     f"<td>{e(m['via'])}</td></tr>" for m in r["muster"])
    timeline = "".join(f"<tr><td>{_ms(t['ts_ms'])}</td><td>{e(t['actor'])}</td><td>{e(t['kind'])}</td>"
                       f"<td>{e(t['text'])}</td></tr>" for t in r["timeline"])
    title = f"{'[DRILL] ' if r['drill'] else ''}Incident {r['id']}: {e(r['title'])}"
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:60em}}table{{border-collapse:collapse;width:100%;
margin-bottom:1.5em}}td,th{{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top}}
.drill{{background:#ffd400;font-weight:bold;padding:.5em;font-size:1.3em;text-align:center}}</style></head><body>
{drill}<h1>{title}</h1>
<p>Plan {e(r['plan'])} · site {e(r['site'] or '-')} · zone {e(r['zone'] or '-')} · state {e(r['state'])}</p>
<p>Opened {_ms(r['opened_ms'])} by {e(r['opened_by'])}. Trigger: {e(r['trigger'])}</p>
<p>Closed {_ms(r['closed_ms']) or '(still open)'} {('by ' + e(r['closed_by'])) if r['closed_by'] else ''}
{(': ' + e(r['close_note'])) if r['close_note'] else ''}</p>
<h2>Muster: {mc['safe']} of {mc['expected']} safe, {mc['missing']} missing</h2>
<table><tr><th>id</th><th>name</th><th>status</th><th>when</th><th>via</th></tr>{muster}</table>
<h2>Checklist</h2><table><tr><th>#</th><th>step</th><th>owner</th><th>done by</th><th>when</th><th>note</th></tr>
{steps}</table><h2>Timeline</h2><table><tr><th>time</th><th>who</th><th>what</th><th>detail</th></tr>{timeline}
</table>{drill}</body></html>"""
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


def _muster_entry(request: Request, session: SessionDep, incident_id: int, person_id: str, sig: str
                  ) -> tuple[Incident, MusterEntry | None]:
    if not check_signature(request.app.state.emergency.key, incident_id, person_id, sig):
        raise HTTPException(403, "this link is not valid")
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise HTTPException(404, "no such incident")
    entry = session.execute(
        select(MusterEntry).where(MusterEntry.incident_id == incident_id, MusterEntry.person_id == person_id)
    ).scalar_one_or_none()
    return incident, entry


_MUSTER_PAGE = """<!doctype html><html><head><meta charset="utf-8"><meta name="viewport"
content="width=device-width,initial-scale=1"><title>{title}</title><style>body{{font-family:system-ui,sans-serif;
margin:1.5em;font-size:1.2em}}button{{font-size:1.5em;padding:.6em 1.2em;background:#1a7f37;color:#fff;border:0;
border-radius:.3em}}.drill{{background:#ffd400;font-weight:bold;padding:.4em}}</style></head><body>{drill}
<h1>{title}</h1>{content}</body></html>"""


@pages.get("/muster/{incident_id}/{person_id}", response_class=HTMLResponse)
def muster_page(incident_id: int, person_id: str, request: Request, session: SessionDep,
                sig: Annotated[str, Query(max_length=128)]) -> HTMLResponse:
    """Public, validated by its signature. Shows a button: opening the link (or a chat preview) changes nothing."""
    incident, entry = _muster_entry(request, session, incident_id, person_id, sig)
    name = html.escape(entry.name if entry else person_id)
    if incident.state != "open":
        content = "<p>This incident is closed.</p>"
    elif entry is not None and entry.safe_ms is not None:
        content = f"<p>Thank you, {name}: you are recorded as safe.</p>"
    else:
        content = (f'<p>{name}, confirm that you have left the zone and are safe.</p>'
                   '<form method="post"><button>I am safe</button></form>')
    drill = '<p class="drill">DRILL</p>' if incident.drill else ""
    title = f"{'[DRILL] ' if incident.drill else ''}{html.escape(incident.title)}"
    return HTMLResponse(_MUSTER_PAGE.format(title=title, drill=drill, content=content),
                        headers={"Cache-Control": "no-store"})


@pages.post("/muster/{incident_id}/{person_id}", response_class=HTMLResponse)
def muster_confirm(incident_id: int, person_id: str, request: Request, session: SessionDep,
                   sig: Annotated[str, Query(max_length=128)]) -> HTMLResponse:
    incident, _ = _muster_entry(request, session, incident_id, person_id, sig)
    if incident.state == "open":
        mark_safe(session, incident_id, person_id, via="link", actor=f"person:{person_id}",
                  now_ms=request.app.state.clock())
        session.commit()
    return muster_page(incident_id, person_id, request, session, sig)
