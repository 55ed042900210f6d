"""The records pages' role check for a partial: the health access rules (server/accounts/access.py) decide, the
refusal is audited there, and the page shows it as a sentence (a 403 with HTML the pages' script swaps in)."""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import HTMLResponse

from server.accounts.access import Action, HealthAccess
from server.web.templating import render


def refusal(acc: HealthAccess, action: Action, target: str) -> HTMLResponse | None:
    """None when the principal may do `action`; else the refusal's HTML (status 403)."""
    try:
        acc.require(action, target)
    except HTTPException as e:
        return render("_records_refused.html", status_code=403, why=str(e.detail))
    return None

