"""Alerts: list and filter, acknowledge, resolve; the rules in force, read and replaced through the API. (One
alert with its audit trail and notification deliveries is a read across features: server/overview/alerts.py.)"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from exposure.wire import SEVERITIES
from server.accounts.auth import Principal, StaffDep, require_user
from server.accounts.documents import save_document
from server.alerts.lifecycle import AlertStateError, acknowledge, resolve
from server.alerts.models import Alert
from server.alerts.rule_file import parse_rules
from server.alerts.rules import RulesError
from server.alerts.subject_name import SUBJECT, select_alerts
from server.services import ServicesDep, SessionDep

router = APIRouter(tags=["alerts"])

ManagerDep = Annotated[Principal, Depends(require_user("safety_manager"))]


class AlertOut(BaseModel):
    id: int
    rule: str
    site: str | None
    sensor: str
    zone: str | None
    worker: str | None = Field(description="employee number, for alerts of worker rules")
    quantity: str
    metric: str
    origin: str
    severity: str
    current_severity: str | None
    step: int
    state: str
    late: bool
    message: str
    threshold: float
    unit: str
    opened_ts: int
    last_ts: int
    trigger_value: float
    worst_value: float
    acknowledged_by: str | None
    acknowledged_ms: int | None
    ack_note: str | None
    resolved_ts: int | None
    resolved_by: str | None
    resolve_reason: str | None
    detail: str | None = Field(description="what the metric was computed over (rostered shift or fallback)")


class AckIn(BaseModel):
    note: str = Field(default="", max_length=2000)


class ResolveIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


def alert_out(a: Alert, sensor: str) -> AlertOut:
    return AlertOut(
        id=a.id, rule=a.rule_id, site=a.site, sensor=sensor, zone=a.zone, worker=a.worker, quantity=a.quantity,
        metric=a.metric,
        origin=a.origin, severity=a.severity, current_severity=a.current_severity, step=a.step, state=a.state,
        late=a.late, message=a.message, threshold=a.threshold, unit=a.unit, opened_ts=a.opened_ts, last_ts=a.last_ts,
        trigger_value=a.trigger_value, worst_value=a.worst_value, acknowledged_by=a.acknowledged_by,
        acknowledged_ms=a.acknowledged_ms, ack_note=a.ack_note, resolved_ts=a.resolved_ts, resolved_by=a.resolved_by,
        resolve_reason=a.resolve_reason, detail=a.detail,
    )


@router.get("/alerts", summary="Alerts, newest first, with filters")
def list_alerts(
    session: SessionDep,
    _: StaffDep,
    state: Annotated[Literal["open", "acknowledged", "active", "resolved", "all"], Query()] = "all",
    severity: Annotated[str | None, Query(description="at least this severity")] = None,
    site: Annotated[str | None, Query(max_length=64)] = None,
    zone: Annotated[str | None, Query(max_length=64)] = None,
    sensor: Annotated[str | None, Query(max_length=128)] = None,
    worker: Annotated[str | None, Query(max_length=64, description="employee number")] = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[int | None, Query(description="opened at or after (ms)")] = None,
    until: Annotated[int | None, Query(description="opened before (ms)")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
) -> list[AlertOut]:

    q = select_alerts()
    if state == "active":
        q = q.where(Alert.state != "resolved")
    elif state != "all":
        q = q.where(Alert.state == state)
    if severity:
        if severity not in SEVERITIES:
            raise HTTPException(422, f"severity: one of {', '.join(SEVERITIES)}")
        q = q.where(Alert.severity.in_(SEVERITIES[SEVERITIES.index(severity):]))
    for column, value in ((Alert.site, site), (Alert.zone, zone), (SUBJECT, sensor),
                          (Alert.worker, worker), (Alert.rule_id, rule)):
        if value:
            q = q.where(column == value)
    if since is not None:
        q = q.where(Alert.opened_ts >= since)
    if until is not None:
        q = q.where(Alert.opened_ts < until)
    rows = session.execute(q.order_by(Alert.opened_ts.desc(), Alert.id.desc()).limit(limit)).all()
    return [alert_out(a, name) for a, name in rows]


def _transition(services: ServicesDep, session: SessionDep, alert_id: int, fn, **kw) -> AlertOut:  # type: ignore[no-untyped-def]
    try:
        alert = fn(session, services.alerting, alert_id, now_ms=services.now_ms(), **kw)
        sensor = session.execute(select_alerts().where(Alert.id == alert.id)).one()[1]
        session.commit()
    except LookupError:
        session.rollback()
        raise HTTPException(404, f"no alert {alert_id}") from None
    except AlertStateError as exc:
        session.rollback()
        raise HTTPException(409, str(exc)) from None
    return alert_out(alert, sensor)


@router.post("/alerts/{alert_id}/acknowledge", summary="Take responsibility: stops repeats and escalation")
def acknowledge_alert(alert_id: int, services: ServicesDep, session: SessionDep, user: ManagerDep,
                      body: AckIn | None = None) -> AlertOut:
    return _transition(services, session, alert_id, acknowledge, user=user.name, note=(body or AckIn()).note)


@router.post("/alerts/{alert_id}/resolve", summary="Resolve by hand, with a reason")
def resolve_alert(alert_id: int, services: ServicesDep, session: SessionDep, user: ManagerDep,
                  body: ResolveIn) -> AlertOut:
    return _transition(services, session, alert_id, resolve, user=user.name, reason=body.reason)



# -- the rules in force ------------------------------------------------------------------------------------------


@router.get("/rules", summary="The alert rules in force, thresholds resolved")
def list_rules(services: ServicesDep, _: StaffDep) -> list[dict[str, object]]:
    return [r.to_spec() for r in services.alerting.rules.rules]


@router.put("/rules", summary="Replace the alert rules (TOML, as in the rules file)")
def put_rules(services: ServicesDep, session: SessionDep, user: ManagerDep,
              text: Annotated[str, Body(media_type="text/plain")]) -> list[dict[str, object]]:
    try:
        parsed = parse_rules(text, name="rules (API)")
    except RulesError as exc:
        raise HTTPException(422, str(exc)) from None
    save_document(session, "rules", text, actor=user.name, now_ms=services.now_ms())
    session.commit()
    services.alerting.install(parsed)  # HTTP and MQTT ingest and edge alarms share this one service
    return [r.to_spec() for r in services.alerting.rules.rules]
