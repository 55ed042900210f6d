"""The alert lifecycle by hand: acknowledge (open -> acknowledged) and resolve (-> resolved, with a reason).
Each transition is audited and published like the engine's own."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from server.alerts.models import Alert, AlertState, AlertWorkerState
from server.alerts.service import Alerting
from server.alerts.subject_name import select_alerts
from server.events import AlertEvent


class AlertStateError(Exception):
    """The transition does not apply to the alert in its current state."""


def _event_of(alert: Alert, sensor: str, kind: str, ts: int, actor: str, note: str) -> AlertEvent:
    return AlertEvent(
        kind=kind, alert_id=alert.id, rule_id=alert.rule_id, site=alert.site or "", sensor=sensor, zone=alert.zone,
        quantity=alert.quantity, severity=alert.severity, previous_severity=None, step=alert.step,
        value=alert.worst_value, unit=alert.unit, threshold=alert.threshold, ts=ts, late=alert.late,
        message=alert.message, actor=actor, note=note, origin=alert.origin, worker=alert.worker,
    )


def acknowledge(session: Session, alerting: Alerting, alert_id: int, *, user: str, note: str, now_ms: int) -> Alert:
    """open -> acknowledged (who, when, note). Stops repeats and escalation of this step."""
    alert, sensor = _load(session, alert_id)
    if alert.state != "open":
        raise AlertStateError(f"alert {alert_id} is {alert.state}, not open")
    alert.state = "acknowledged"
    alert.acknowledged_by, alert.acknowledged_ms, alert.ack_note = user, now_ms, note
    session.flush()
    alerting.emit(session, _event_of(alert, sensor, "acknowledged", now_ms, user, note))
    return alert


def resolve(session: Session, alerting: Alerting, alert_id: int, *, user: str, reason: str, now_ms: int) -> Alert:
    """open | acknowledged -> resolved by hand, with a reason. The evaluator state is reset, so a condition that
    still holds opens a new episode."""
    alert, sensor = _load(session, alert_id)
    if alert.state == "resolved":
        raise AlertStateError(f"alert {alert_id} is already resolved")
    alert.state = "resolved"
    alert.resolved_ts = now_ms
    alert.resolved_by, alert.resolve_reason = user, reason
    row: AlertState | AlertWorkerState | None
    if alert.worker_id is not None:
        row = session.get(AlertWorkerState, (alert.rule_id, alert.worker_id))
    else:
        row = session.get(AlertState, (alert.rule_id, alert.sensor_id))
    if row is not None:
        st = json.loads(row.state)
        st["since"], st["clear_since"] = None, None
        row.state = json.dumps(st)
    session.flush()
    alerting.emit(session, _event_of(alert, sensor, "resolved", now_ms, user, reason))
    return alert


def _load(session: Session, alert_id: int) -> tuple[Alert, str]:
    row = session.execute(
        select_alerts().where(Alert.id == alert_id).with_for_update(of=Alert)
    ).first()
    if row is None:
        raise LookupError(f"no alert {alert_id}")
    return row[0], row[1]

