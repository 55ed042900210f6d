"""The printable close-out report of an incident (staff). The public muster page is server/web/muster_page.py."""

from __future__ import annotations

import datetime as dt
import html

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from server.accounts.auth import StaffDep
from server.emergency.incidents import report, without_names
from server.services import SessionDep

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
