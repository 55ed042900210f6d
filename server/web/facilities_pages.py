"""The facilities pages: the agents (`/agents`), the sensors with their calibration state (`/sensors`), the
calibration register's due and overdue checks (`/calibration`), one sensor's recent raw readings
(`/sensors/{site}/{sensor}`) and the loaded alert rules with the notification groups (`/rules`, secrets masked).
Public shells like the operations pages (server/web/pages.py); the partials under `/web/partials/` admit
facilities, the safety manager and admin only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from server.accounts.auth import Principal, require_user
from server.accounts.documents import stored_document
from server.alerts.rule_file import rules_text
from server.notify.redaction import mask
from server.services import ServicesDep, SessionDep
from server.web import facilities_views as fv
from server.web import source_views as sv
from server.web.pages import ACTORS
from server.web.templating import render

router = APIRouter(include_in_schema=False)

#: who sees the site's equipment: facilities runs it, the safety manager answers for it (admin always)
FacilitiesViewDep = Annotated[Principal, Depends(require_user("facilities", "safety_manager"))]


@router.get("/agents", response_class=HTMLResponse)
def agents_page() -> HTMLResponse:
    return render("agents.html", nav="facilities")


@router.get("/sensors", response_class=HTMLResponse)
def sensors_page() -> HTMLResponse:
    return render("sensors.html", nav="facilities")


@router.get("/calibration", response_class=HTMLResponse)
def calibration_page() -> HTMLResponse:
    return render("calibration.html", nav="facilities")


@router.get("/sensors/{site}/{sensor}", response_class=HTMLResponse)
def sensor_page(site: str, sensor: str) -> HTMLResponse:
    return render("sensor.html", nav="facilities", site=site, sensor=sensor)


@router.get("/rules", response_class=HTMLResponse)
def rules_page() -> HTMLResponse:
    return render("rules.html", nav="facilities")


@router.get("/web/partials/agents", response_class=HTMLResponse)
def agents_part(services: ServicesDep, session: SessionDep, _: FacilitiesViewDep) -> HTMLResponse:
    now = services.now_ms()
    return render("_agents.html", agents=fv.agents(session, now_ms=now), now_ms=now,
                  sources=sv.by_agent(sv.sources(session)))


@router.get("/web/partials/sensors", response_class=HTMLResponse)
def sensors_part(services: ServicesDep, session: SessionDep, _: FacilitiesViewDep) -> HTMLResponse:
    now = services.now_ms()
    reported = sv.sources(session)
    return render("_sensors.html", sensors=fv.sensors(session, now_ms=now), now_ms=now,
                  sources=sv.by_sensor(reported), unseen=sv.without_readings(session, reported))


@router.get("/web/partials/calibration", response_class=HTMLResponse)
def calibration_part(services: ServicesDep, session: SessionDep, _: FacilitiesViewDep) -> HTMLResponse:
    return render("_calibration.html", due=fv.register_due(fv.sensors(session, now_ms=services.now_ms())))


@router.get("/web/partials/sensors/{site}/{sensor}", response_class=HTMLResponse)
def sensor_part(site: str, sensor: str, services: ServicesDep, session: SessionDep,
                _: FacilitiesViewDep) -> HTMLResponse:
    p = fv.sensor_page(session, site, sensor, now_ms=services.now_ms())
    if p is None:
        return render("_missing.html", status_code=404, what=f"sensor {sensor} at {site}")
    return render("_sensor.html", p=p)


@router.get("/web/partials/rules", response_class=HTMLResponse)
def rules_part(services: ServicesDep, session: SessionDep, user: FacilitiesViewDep) -> HTMLResponse:
    """The rules in force and the contact groups (secrets masked); for the roles that may replace the rules and
    send test messages (PUT /api/v1/rules, POST /api/v1/notify/test), the rules' text to edit and the buttons."""
    groups = [mask(g.model_dump()) for g in services.notifier.config.groups]
    policies = [p.model_dump() for p in services.notifier.config.policies]
    can_act = user.role in ACTORS
    text = (stored_document(session, "rules") or rules_text(services.settings.rules_file)) if can_act else ""
    return render("_rules.html", rules=services.alerting.rules.rules, groups=groups, policies=policies,
                  can_act=can_act, text=text)
