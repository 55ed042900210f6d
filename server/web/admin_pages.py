"""The administration pages, for admins only: accounts (`/admin/users`), tokens (`/admin/tokens`), agents and
their enrolment (`/admin/agents`), the audit log (`/admin/audit`) and the settings overview with every standing
warning (`/admin/settings`). Public shells like the other pages (server/web/pages.py); the partials under
`/web/partials/admin/` admit admins only (403 otherwise, audited). Every change goes through the role-checked,
audited JSON API (server/accounts/admin.py, user_admin.py, server/ingest/tokens.py, the enrolment codes) from
static/admin.js; times are shown and entered in the site's time zone (HAZMON_HEALTH_TIMEZONE)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from server.accounts.auth import AdminDep, bearer_token
from server.accounts.credentials import ROLES
from server.accounts.service import list_users
from server.services import ServicesDep, SessionDep
from server.web import admin_views as av
from server.web.admin_audit import AuditFilter, actions, audit_page
from server.web.admin_times import local_text
from server.web.templating import render

router = APIRouter(include_in_schema=False)

_SHELLS = {"users": "accounts", "tokens": "tokens", "agents": "agents and enrolment", "audit": "audit log",
           "settings": "settings and warnings"}


def _shell(section: str, **context: Any) -> HTMLResponse:
    return render(f"admin_{section}.html", nav="admin", section=section, sections=_SHELLS, **context)


@router.get("/admin", response_class=HTMLResponse)
@router.get("/admin/users", response_class=HTMLResponse)
def users_page() -> HTMLResponse:
    return _shell("users", roles=ROLES)


@router.get("/admin/tokens", response_class=HTMLResponse)
def tokens_page() -> HTMLResponse:
    return _shell("tokens")


@router.get("/admin/agents", response_class=HTMLResponse)
def agents_page() -> HTMLResponse:
    return _shell("agents")


Text = Annotated[str, Query(max_length=64)]
When = Annotated[str, Query(max_length=32, alias="from")]
Until = Annotated[str, Query(max_length=32, alias="to")]


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page_shell(user: Text = "", worker: Text = "", action: Text = "", since: When = "",
                     until: Until = "") -> HTMLResponse:
    return _shell("audit", f=AuditFilter(user, worker, action, since, until))


@router.get("/admin/settings", response_class=HTMLResponse)
def settings_page() -> HTMLResponse:
    return _shell("settings")


# -- the partials (admin) --------------------------------------------------------------------------------------


@router.get("/web/partials/admin/users", response_class=HTMLResponse)
def users_part(services: ServicesDep, session: SessionDep, admin: AdminDep) -> HTMLResponse:
    tz = services.settings.health.tz
    return render("_admin_users.html", users=list_users(session), roles=ROLES, me=admin.name,
                  when=lambda ms: local_text(ms, tz), zone=tz.key)


@router.get("/web/partials/admin/tokens", response_class=HTMLResponse)
def tokens_part(request: Request, services: ServicesDep, session: SessionDep, _: AdminDep) -> HTMLResponse:
    tz = services.settings.health.tz
    return render("_admin_tokens.html", tokens=av.tokens(session), when=lambda ms: local_text(ms, tz),
                  zone=tz.key, mine=av.own_token_id(session, bearer_token(request)))


@router.get("/web/partials/admin/audit", response_class=HTMLResponse)
def audit_part(services: ServicesDep, session: SessionDep, _: AdminDep, user: Text = "", worker: Text = "",
               action: Text = "", since: When = "", until: Until = "",
               page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> HTMLResponse:
    tz = services.settings.health.tz
    f = AuditFilter(user, worker, action, since, until)
    context: dict[str, Any] = {"f": f, "qs": f.query_string(), "actions": actions(session), "zone": tz.key,
               "when": lambda ms: local_text(ms, tz)}
    try:
        p = audit_page(session, f, tz, page=page)
    except HTTPException as exc:  # a bad filter: said beside the form (admin.js swaps a 422 in)
        return render("_admin_audit.html", status_code=exc.status_code, p=None, error=exc.detail, **context)
    return render("_admin_audit.html", p=p, error="", **context)


@router.get("/web/partials/admin/settings", response_class=HTMLResponse)
def settings_part(services: ServicesDep, session: SessionDep, _: AdminDep) -> HTMLResponse:
    return render("_admin_settings.html", o=av.overview(services, session, now_ms=services.now_ms()))

