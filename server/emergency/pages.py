"""Emergency pages: the printable close-out report (staff) and the deliberately public "I am safe" page, which is
validated by its signature alone."""

from __future__ import annotations

import datetime as dt
import html
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from server.accounts.auth import StaffDep
from server.accounts.browser import CSRF_FIELD, csrf_ok, form_body, new_csrf, set_csrf_cookie
from server.emergency.incidents import mark_safe, report, without_names
from server.emergency.models import Incident, MusterEntry
from server.emergency.muster import check_signature
from server.services import ServicesDep, SessionDep

pages = APIRouter(include_in_schema=False)


def _ms(ms: int | None) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@pages.get("/incidents/{incident_id}/report.html", response_class=HTMLResponse)
def report_html(incident_id: int, session: SessionDep, user: StaffDep) -> HTMLResponse:
    """The printable close-out report (for facilities without people's names)."""
    try:
        r = report(session, incident_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    if user.role == "facilities":
        r = without_names(r)
    e = html.escape
    drill = '<p class="drill">DRILL — NOT A REAL EMERGENCY</p>' if r["drill"] else ""
    mc = r["muster_count"]
    steps = "".join(f"<tr><td>{s['idx']}</td><td>{e(s['title'])}</td><td>{e(s['owner'])}</td>"
                    f"<td>{e(s['done_by'] or 'NOT DONE')}</td><td>{_ms(s['done_ms'])}</td><td>{e(s['note'])}</td></tr>"
                    for s in r["steps"])
    muster = "".join(f"<tr><td>{e(m['person'])}</td><td>{e(m['name'] or '')}</td>"
                     f"<td>{'safe' if m['safe_ms'] else 'NOT ACCOUNTED FOR'}</td><td>{_ms(m['safe_ms'])}</td>"
                     f"<td>{e(m['via'])}</td></tr>" for m in r["muster"])
    timeline = "".join(f"<tr><td>{_ms(t['ts_ms'])}</td><td>{e(t['actor'])}</td><td>{e(t['kind'])}</td>"
                       f"<td>{e(t['text'])}</td></tr>" for t in r["timeline"])
    title = f"{'[DRILL] ' if r['drill'] else ''}Incident {r['id']}: {e(r['title'])}"
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/static/report.css"></head><body>
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


def _muster_entry(services: ServicesDep, session: SessionDep, incident_id: int, person_id: str, sig: str
                  ) -> tuple[Incident, MusterEntry | None]:
    if not check_signature(services.emergency.key, incident_id, person_id, sig):
        raise HTTPException(403, "this link is not valid")
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise HTTPException(404, "no such incident")
    entry = session.execute(
        select(MusterEntry).where(MusterEntry.incident_id == incident_id, MusterEntry.person_id == person_id)
    ).scalar_one_or_none()
    return incident, entry


_MUSTER_PAGE = """<!doctype html><html><head><meta charset="utf-8"><meta name="viewport"
content="width=device-width,initial-scale=1"><title>{title}</title>
<link rel="stylesheet" href="/static/muster.css"></head><body>{drill}
<h1>{title}</h1>{content}</body></html>"""


@pages.get("/muster/{incident_id}/{person_id}", response_class=HTMLResponse)
def muster_page(request: Request, incident_id: int, person_id: str, services: ServicesDep, session: SessionDep,
                sig: Annotated[str, Query(max_length=128)]) -> HTMLResponse:
    """Public, validated by its signature. Shows a button: opening the link (or a chat preview) changes nothing."""
    incident, entry = _muster_entry(services, session, incident_id, person_id, sig)
    name = html.escape(entry.name if entry else person_id)
    csrf = ""
    if incident.state != "open":
        content = "<p>This incident is closed.</p>"
    elif entry is not None and entry.safe_ms is not None:
        content = f"<p>Thank you, {name}: you are recorded as safe.</p>"
    else:
        csrf = new_csrf()
        content = (f'<p>{name}, confirm that you have left the zone and are safe.</p>'
                   f'<form method="post"><input type="hidden" name="{CSRF_FIELD}" value="{csrf}">'
                   '<button>I am safe</button></form>')
    drill = '<p class="drill">DRILL</p>' if incident.drill else ""
    title = f"{'[DRILL] ' if incident.drill else ''}{html.escape(incident.title)}"
    response = HTMLResponse(_MUSTER_PAGE.format(title=title, drill=drill, content=content),
                            headers={"Cache-Control": "no-store"})
    if csrf:
        set_csrf_cookie(request, response, csrf, setting=services.settings.cookie_secure, path="/muster")
    return response


@pages.post("/muster/{incident_id}/{person_id}", response_class=HTMLResponse)
def muster_confirm(request: Request, incident_id: int, person_id: str, services: ServicesDep, session: SessionDep,
                   sig: Annotated[str, Query(max_length=128)],
                   form: Annotated[bytes, Depends(form_body)]) -> HTMLResponse:
    incident, _ = _muster_entry(services, session, incident_id, person_id, sig)
    if not csrf_ok(request, form):
        raise HTTPException(403, "this form has expired: open the link again")
    if incident.state == "open":
        mark_safe(session, incident_id, person_id, via="link", actor=f"person:{person_id}",
                  now_ms=services.now_ms())
        session.commit()
    return muster_page(request, incident_id, person_id, services, session, sig)
