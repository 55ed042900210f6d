"""Alerts: list and filter, one alert with its audit trail and deliveries, acknowledge, resolve; the rules and the
notification settings; and `setup_alerting` / `alerting_tasks`, which create_app uses to wire them."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from server.alerting import AlertStateError, acknowledge, resolve
from server.db.models import Alert, AuditEntry, Sensor
from server.deps import Principal, SessionDep, StaffDep, require_user
from server.notify.models import DeliveryAttempt, NotificationJob, SettingsDocument
from server.notify.policies import NotifyConfigError, parse_notify_config
from server.rules import RulesError, RuleSet, parse_rules
from server.settings import Settings

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


class AuditOut(BaseModel):
    ts_ms: int
    actor: str
    action: str
    detail: str


class DeliveryOut(BaseModel):
    key: str
    kind: str
    recipient: str
    group: str
    stage: int
    repeat: int
    state: str
    due_ms: int
    attempts: int
    sent_ms: int | None
    last_error: str


class AlertDetail(AlertOut):
    audit: list[AuditOut]
    deliveries: list[DeliveryOut]


class AckIn(BaseModel):
    note: str = Field(default="", max_length=2000)


class ResolveIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


def _out(a: Alert, sensor: str) -> AlertOut:
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
    from server.rules import SEVERITIES

    q = select(Alert, Sensor.name).join(Sensor, Sensor.id == Alert.sensor_id)
    if state == "active":
        q = q.where(Alert.state != "resolved")
    elif state != "all":
        q = q.where(Alert.state == state)
    if severity:
        if severity not in SEVERITIES:
            raise HTTPException(422, f"severity: one of {', '.join(SEVERITIES)}")
        q = q.where(Alert.severity.in_(SEVERITIES[SEVERITIES.index(severity):]))
    for column, value in ((Alert.site, site), (Alert.zone, zone), (Sensor.name, sensor),
                          (Alert.worker, worker), (Alert.rule_id, rule)):
        if value:
            q = q.where(column == value)
    if since is not None:
        q = q.where(Alert.opened_ts >= since)
    if until is not None:
        q = q.where(Alert.opened_ts < until)
    rows = session.execute(q.order_by(Alert.opened_ts.desc(), Alert.id.desc()).limit(limit)).all()
    return [_out(a, name) for a, name in rows]


@router.get("/alerts/{alert_id}", summary="One alert with its audit trail and notification deliveries")
def get_alert(alert_id: int, session: SessionDep, _: StaffDep) -> AlertDetail:
    row = session.execute(
        select(Alert, Sensor.name).join(Sensor, Sensor.id == Alert.sensor_id)
        .where(Alert.id == alert_id)
    ).first()
    if row is None:
        raise HTTPException(404, f"no alert {alert_id}")
    audit = session.execute(
        select(AuditEntry).where(AuditEntry.target == f"alert:{alert_id}").order_by(AuditEntry.id)
    ).scalars()
    jobs = session.execute(
        select(NotificationJob).where(NotificationJob.alert_id == alert_id).order_by(NotificationJob.id)
    ).scalars()
    return AlertDetail(
        **_out(row[0], row[1]).model_dump(),
        audit=[AuditOut(ts_ms=e.ts_ms, actor=e.actor, action=e.action, detail=e.detail) for e in audit],
        deliveries=[DeliveryOut(key=j.key, kind=j.kind, recipient=j.recipient, group=j.group_name, stage=j.stage,
                                repeat=j.repeat, state=j.state, due_ms=j.due_ms, attempts=j.attempts,
                                sent_ms=j.sent_ms, last_error=j.last_error) for j in jobs],
    )


def _transition(request: Request, session: SessionDep, alert_id: int, fn, **kw) -> AlertOut:  # type: ignore[no-untyped-def]
    state = request.app.state
    try:
        alert = fn(session, state.rules, alert_id, now_ms=state.clock(), **kw)
        sensor = session.execute(select(Sensor.name).where(Sensor.id == alert.sensor_id)).scalar_one()
        session.commit()
    except LookupError:
        session.rollback()
        raise HTTPException(404, f"no alert {alert_id}") from None
    except AlertStateError as exc:
        session.rollback()
        raise HTTPException(409, str(exc)) from None
    return _out(alert, sensor)


@router.post("/alerts/{alert_id}/acknowledge", summary="Take responsibility: stops repeats and escalation")
def acknowledge_alert(alert_id: int, request: Request, session: SessionDep, user: ManagerDep,
                      body: AckIn | None = None) -> AlertOut:
    return _transition(request, session, alert_id, acknowledge, user=user.name, note=(body or AckIn()).note)


@router.post("/alerts/{alert_id}/resolve", summary="Resolve by hand, with a reason")
def resolve_alert(alert_id: int, request: Request, session: SessionDep, user: ManagerDep, body: ResolveIn) -> AlertOut:
    return _transition(request, session, alert_id, resolve, user=user.name, reason=body.reason)


@router.get("/alerts/{alert_id}/deliveries/log", summary="Every delivery attempt of the alert's notifications")
def delivery_log(alert_id: int, session: SessionDep, _: StaffDep) -> list[dict[str, object]]:
    rows = session.execute(
        select(DeliveryAttempt, NotificationJob.key).join(NotificationJob, NotificationJob.id == DeliveryAttempt.job_id)
        .where(NotificationJob.alert_id == alert_id).order_by(DeliveryAttempt.id)
    ).all()
    return [{"key": key, "ts_ms": a.ts_ms, "attempt": a.attempt, "ok": a.ok, "error": a.error} for a, key in rows]


# -- rules and notification settings through the API -------------------------------------------------------------


@router.get("/rules", summary="The alert rules in force, thresholds resolved")
def list_rules(request: Request, _: StaffDep) -> list[dict[str, object]]:
    return [r.to_spec() for r in request.app.state.rules.rules]


def _store(session: SessionDep, name: str, text: str, user: Principal, now_ms: int) -> None:
    from server.audit import audit

    row = session.get(SettingsDocument, name)
    if row is None:
        session.add(SettingsDocument(name=name, toml=text, updated_ms=now_ms, updated_by=user.name))
    else:
        row.toml, row.updated_ms, row.updated_by = text, now_ms, user.name
    audit(session, ts_ms=now_ms, actor=user.name, action=f"{name}_settings_set", target=f"settings:{name}")
    session.commit()


@router.put("/rules", summary="Replace the alert rules (TOML, as in the rules file)")
def put_rules(request: Request, session: SessionDep, user: ManagerDep,
              text: Annotated[str, Body(media_type="text/plain")]) -> list[dict[str, object]]:
    try:
        parsed = parse_rules(text, name="rules (API)")
    except RulesError as exc:
        raise HTTPException(422, str(exc)) from None
    state = request.app.state
    _store(session, "rules", text, user, state.clock())
    install_rules(state, parsed)
    return [r.to_spec() for r in state.rules.rules]


def install_rules(state: object, parsed: RuleSet) -> None:
    """Put rules in force: app.state.rules (HTTP ingest, edge alarms) and the MQTT ingest's `rules`, which it reads
    at each message (the MQTT consumer is built once at start-up with the rules of that moment)."""
    rules: RuleSet = parsed.carry(state.rules)  # type: ignore[attr-defined]
    state.rules = rules  # type: ignore[attr-defined]
    mqtt = getattr(state, "mqtt_ingest", None)
    if mqtt is not None:
        mqtt.rules = rules


@router.get("/notify/config", summary="The notification settings (secrets hidden)")
def get_notify_config(request: Request, _: ManagerDep) -> dict[str, object]:
    data = request.app.state.notifier.config.model_dump()
    for g in data["groups"]:
        for m in g["members"]:
            if m.get("secret"):
                m["secret"] = "***"
    return data


@router.put("/notify/config", summary="Replace the notification settings (TOML, as in HAZMON_NOTIFY_FILE)")
def put_notify_config(request: Request, session: SessionDep, user: ManagerDep,
                      text: Annotated[str, Body(media_type="text/plain")]) -> dict[str, object]:
    try:
        config = parse_notify_config(text, name="notify settings (API)")
    except NotifyConfigError as exc:
        raise HTTPException(422, str(exc)) from None
    state = request.app.state
    _store(session, "notify", text, user, state.clock())
    state.notifier.config = config
    return get_notify_config(request, user)


@router.get("/notify/jobs", summary="The notification queue, newest first")
def list_jobs(session: SessionDep, _: StaffDep,
              state: Annotated[str | None, Query(max_length=16)] = None,
              limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> list[DeliveryOut]:
    q = select(NotificationJob)
    if state:
        q = q.where(NotificationJob.state == state)
    jobs = session.execute(q.order_by(NotificationJob.id.desc()).limit(limit)).scalars()
    return [DeliveryOut(key=j.key, kind=j.kind, recipient=j.recipient, group=j.group_name, stage=j.stage,
                        repeat=j.repeat, state=j.state, due_ms=j.due_ms, attempts=j.attempts, sent_ms=j.sent_ms,
                        last_error=j.last_error) for j in jobs]


# -- wiring ---------------------------------------------------------------------------------------------------------


def setup_alerting(app: FastAPI, settings: Settings) -> None:
    """Validate the notification settings and emergency plans (errors stop start-up), build the notifier with the
    server plugins' channels, and attach the alert listeners to the rules."""
    from server.emergency.service import Emergency
    from server.notify.service import Notifier, load_notify_config
    from server.plugin_manager import build_server_plugins

    state = app.state
    state.server_plugins = build_server_plugins()
    state.notifier = Notifier(load_notify_config(settings.notify_file), plugins=state.server_plugins,
                              clock=state.clock)
    state.emergency = Emergency.from_settings(settings, notifier=state.notifier, clock=state.clock)
    from server.health.config import HealthConfig

    rules: RuleSet = state.rules
    health = getattr(state, "health_config", None) or HealthConfig()
    state.rules = dataclasses.replace(rules, listeners=(state.notifier.on_alert, state.emergency.on_alert),
                                      counters=state.counters, site_profile=health.profile)


@contextlib.asynccontextmanager
async def alerting_tasks(app: FastAPI) -> AsyncIterator[None]:
    """Load settings saved through the API, then run the notification worker until the app stops."""
    state = app.state

    def load() -> None:
        with state.sessionmaker() as session:
            state.notifier.load_stored(session)
            row = session.get(SettingsDocument, "rules")
            health = getattr(state, "health_config", None)
            if health is not None:
                state.rules = dataclasses.replace(state.rules, site_profile=health.profile)
            if row is not None:
                install_rules(state, parse_rules(row.toml, name="rules (API)"))

    await run_in_threadpool(load)
    task = asyncio.create_task(state.notifier.run(state.sessionmaker), name="notifications")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
