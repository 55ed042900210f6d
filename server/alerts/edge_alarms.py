"""Edge alarms: alarms raised or cleared by an agent's local evaluation, delivered when the uplink is
up. Each event is stored once per (agent, event id) and becomes (or updates) an alert with origin `edge`, which is
notified like any other. The answer lists the event ids the agent may delete."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from exposure.wire import Severity, severity_rank
from server.alerts.models import Alert, EdgeAlarmEvent
from server.alerts.service import Alerting
from server.events import AlertEvent
from server.series.models import Sensor
from server.series.sensors import refuse_foreign_sensors


class EdgeAlarmIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    rule: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,58}$")
    kind: Literal["raised", "cleared"]
    sensor: str = Field(min_length=1, max_length=128)
    quantity: str = Field(max_length=32)
    metric: str = Field(default="value", max_length=24)
    severity: Severity = "warning"
    value: float
    unit: str = Field(max_length=16)
    threshold: float
    ts: int
    message: str = Field(default="", max_length=500)


class EdgeAlarmsIn(BaseModel):
    events: list[EdgeAlarmIn] = Field(max_length=1000)


def _sensor_id(session: Session, *, agent_id: int, site: str, name: str, now_ms: int) -> int:
    sid = session.execute(select(Sensor.id).where(Sensor.site == site, Sensor.name == name)).scalar()
    if sid is None:
        sensor = Sensor(site=site, name=name, agent_id=agent_id, first_seen_ms=now_ms)
        session.add(sensor)
        session.flush()
        sid = sensor.id
    return sid


def record_edge_alarms(session: Session, *, agent_id: int, site: str, agent: str, events: list[EdgeAlarmIn],
                       alerting: Alerting, now_ms: int, late_after_ms: int) -> list[str]:
    """Store each event once per (agent, event id), open/escalate/resolve its `edge` alert, notify, commit.
    Returns the event ids the agent may delete (HTTP answer, or the MQTT ack)."""
    now, late_ms = now_ms, late_after_ms
    # another agent's sensor: the whole message is refused before anything is stored (SensorNotOwned)
    refuse_foreign_sensors(session, site=site, agent_id=agent_id, names=(ev.sensor for ev in events))
    acked: list[str] = []
    alert_events: list[AlertEvent] = []
    for ev in sorted(events, key=lambda e: e.ts):
        if session.get(EdgeAlarmEvent, (agent_id, ev.id)) is not None:
            acked.append(ev.id)
            continue
        sensor_id = _sensor_id(session, agent_id=agent_id, site=site, name=ev.sensor, now_ms=now)
        rule_id = f"edge.{ev.rule}"
        alert = session.execute(
            select(Alert).where(Alert.rule_id == rule_id, Alert.sensor_id == sensor_id,
                                      Alert.state != "resolved")
        ).scalar_one_or_none()
        late = now - ev.ts > late_ms
        kind: str | None = None
        previous = None
        if ev.kind == "raised":
            if alert is None:
                alert = Alert(
                    rule_id=rule_id, sensor_id=sensor_id, quantity=ev.quantity, severity=ev.severity, state="open",
                    message=ev.message or f"edge alarm {ev.rule} on {ev.sensor}", threshold=ev.threshold,
                    unit=ev.unit, opened_ts=ev.ts, trigger_value=ev.value, worst_value=ev.value, last_ts=ev.ts,
                    site=site, metric=ev.metric, origin="edge", current_severity=ev.severity, step=0, late=late,
                )
                session.add(alert)
                session.flush()
                kind = "opened"
            elif severity_rank(ev.severity) > severity_rank(alert.severity):
                previous, alert.severity, alert.step = alert.severity, ev.severity, alert.step + 1
                alert.threshold, alert.state, alert.late = ev.threshold, "open", alert.late or late
                kind = "escalated"
            if alert is not None:
                alert.worst_value = max(alert.worst_value, ev.value) if ev.value >= alert.threshold else min(
                    alert.worst_value, ev.value)
                alert.last_ts = max(alert.last_ts, ev.ts)
        elif alert is not None:
            alert.state, alert.resolved_ts, alert.last_ts = "resolved", ev.ts, max(alert.last_ts, ev.ts)
            alert.resolved_by, alert.resolve_reason = f"agent:{agent}", "cleared at the edge"
            kind = "resolved"
        session.add(EdgeAlarmEvent(agent_id=agent_id, event_id=ev.id, alert_id=alert.id if alert else None,
                                   received_ms=now, payload=json.dumps(ev.model_dump(), sort_keys=True)))
        session.flush()
        if kind is not None and alert is not None:
            alert_events.append(AlertEvent(
                kind=kind, alert_id=alert.id, rule_id=rule_id, site=site, sensor=ev.sensor, zone=alert.zone,
                quantity=ev.quantity, severity=alert.severity, previous_severity=previous, step=alert.step,
                value=ev.value, unit=ev.unit, threshold=ev.threshold, ts=ev.ts, late=alert.late,
                message=alert.message, actor=f"agent:{agent}", origin="edge",
            ))
        acked.append(ev.id)
    for event in alert_events:
        alerting.emit(session, event)
    session.commit()
    return acked
