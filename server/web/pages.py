"""The operations pages: the site dashboard (`/`), a zone (`/zones/{code}`), the alert inbox (`/alerts`) and one
alert (`/alerts/{id}`), the live table (`/live`) and the API documentation (`/docs`, Swagger
UI from the fastapi-offline package: never a CDN). A page is a public shell holding no data: it signs in (the
session cookie) and loads its parts, server-rendered partials under `/web/partials/` (authenticated like every
data route), with htmx; charts read the authenticated trend API. Every script and style is a file under `/static`
(the Content-Security-Policy allows no inline ones, server/security_headers.py)."""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from server.accounts.auth import StaffDep
from server.services import ServicesDep, SessionDep
from server.web import board_view, shift_exposure, views
from server.web.templating import render

router = APIRouter(include_in_schema=False)

#: the roles that may acknowledge and resolve (server/alerts/router.py: ManagerDep)
ACTORS = frozenset({"safety_manager", "admin"})


def static_files() -> StaticFiles:
    """/static: the pages' scripts, styles and vendored libraries, from the package (nothing from a CDN)."""
    return StaticFiles(packages=[("server.web", "static")])


def _file(name: str) -> HTMLResponse:
    return HTMLResponse((files("server.web") / name).read_text(encoding="utf-8"), headers={"Cache-Control": "no-store"})


# -- the shells ------------------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def dashboard_page() -> HTMLResponse:
    return render("dashboard.html", nav="dashboard")


@router.get("/live", response_class=HTMLResponse)
def live_page() -> HTMLResponse:
    return render("live.html", nav="live")


@router.get("/zones/{code}", response_class=HTMLResponse)
def zone_page(code: str) -> HTMLResponse:
    return render("zone.html", nav="dashboard", code=code)


StateQ = Annotated[Literal["active", "open", "acknowledged", "resolved", "all"], Query()]


def _filter(state: str, severity: str, zone: str, kind: str) -> views.InboxFilter:
    return views.InboxFilter(state=state, severity=severity, zone=zone.strip(), kind=kind)  # type: ignore[arg-type]


@router.get("/alerts", response_class=HTMLResponse)
def inbox_page(state: StateQ = "active", severity: str = "", zone: str = "", kind: str = "") -> HTMLResponse:
    return render("alerts.html", nav="alerts", f=_filter(state, severity, zone, kind), kinds=views.KINDS)


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(alert_id: int) -> HTMLResponse:
    return render("alert.html", nav="alerts", alert_id=alert_id)


@router.get("/docs", response_class=HTMLResponse)
def api_docs() -> HTMLResponse:
    return _file("docs.html")


_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
#: Swagger UI's files, as the fastapi-offline package ships them (pinned in pyproject.toml, MIT/Apache-2.0)
_SWAGGER = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})


@router.get("/swagger/{name}")
def swagger_asset(name: str) -> Response:
    """Swagger UI's script and style for /docs, from the fastapi-offline package."""
    if name not in _SWAGGER:
        raise HTTPException(404, "no such file")
    path = files("fastapi_offline") / "static" / name
    suffix = name[name.rfind("."):]
    return Response(path.read_bytes(), media_type=_TYPES[suffix], headers={"Cache-Control": "max-age=3600"})


# -- the partials (authenticated) ------------------------------------------------------------------------------


@router.get("/web/partials/dashboard", response_class=HTMLResponse)
def dashboard_part(services: ServicesDep, session: SessionDep, _: StaffDep) -> HTMLResponse:
    now = services.now_ms()
    unreachable = services.notifier.config.unreachable()
    exposure = shift_exposure.exposure_by_zone(session, services.alerting.rules, services.shift_totals,
                                               profile=services.alerting.site_profile,
                                               now_ms=now)
    return render("_dashboard.html", board=views.dashboard(session, services.alerting.rules, now_ms=now),
                  warnings=[unreachable] if unreachable else [], now_ms=now, exposure=exposure)


@router.get("/web/partials/zones/{code}", response_class=HTMLResponse)
def zone_part(code: str, services: ServicesDep, session: SessionDep, _: StaffDep) -> HTMLResponse:
    now = services.now_ms()
    z = views.zone_page(session, services.alerting.rules, code, now_ms=now)
    if z is None:
        return render("_missing.html", status_code=404, what=f"zone {code}")
    exposure = shift_exposure.exposure_by_zone(session, services.alerting.rules, services.shift_totals,
                                               profile=services.alerting.site_profile,
                                               now_ms=now, code=code)
    return render("_zone.html", z=z, exposure=exposure.get(code, ()), guidance=board_view.guidance(z.hazards))


@router.get("/web/partials/zones/{code}/live", response_class=HTMLResponse)
def zone_live_part(code: str, services: ServicesDep, session: SessionDep, _: StaffDep) -> HTMLResponse:
    """What moves on a zone page (its exposure this shift and its alerts), refreshed by the live stream."""
    now = services.now_ms()
    z = views.zone_page(session, services.alerting.rules, code, now_ms=now)
    if z is None:
        return render("_missing.html", status_code=404, what=f"zone {code}")
    exposure = shift_exposure.exposure_by_zone(session, services.alerting.rules, services.shift_totals,
                                               profile=services.alerting.site_profile,
                                               now_ms=now, code=code)
    return render("_zone_live.html", z=z, exposure=exposure.get(code, ()))


@router.get("/web/partials/alerts", response_class=HTMLResponse)
def inbox_part(session: SessionDep, _: StaffDep, state: StateQ = "active", severity: str = "", zone: str = "",
               kind: str = "") -> HTMLResponse:
    return render("_alerts.html", alerts=views.inbox(session, _filter(state, severity, zone, kind)))


@router.get("/web/partials/alerts/{alert_id}", response_class=HTMLResponse)
def alert_part(alert_id: int, services: ServicesDep, session: SessionDep, user: StaffDep) -> HTMLResponse:
    p = views.alert_page(session, services.alerting.rules, alert_id)
    if p is None:
        return render("_missing.html", status_code=404, what=f"alert {alert_id}")
    return render("_alert.html", p=p, can_act=user.role in ACTORS)
