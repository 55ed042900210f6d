"""One alert as the alert page shows it: the alert, its audit trail and its notification deliveries (alerts,
accounts and notify read together), and every delivery attempt."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy import select

from server.accounts.auth import StaffDep
from server.accounts.models import AuditEntry
from server.alerts.models import Alert
from server.alerts.router import AlertOut, alert_out
from server.alerts.subject_name import select_alerts
from server.notify.models import DeliveryAttempt, NotificationJob
from server.notify.router import DeliveryOut, delivery_out
from server.services import SessionDep

router = APIRouter(tags=["alerts"])


class AuditOut(BaseModel):
    ts_ms: int
    actor: str
    action: str
    detail: str


class AlertDetail(AlertOut):
    audit: list[AuditOut]
    deliveries: list[DeliveryOut]


@router.get("/alerts/{alert_id}", summary="One alert with its audit trail and notification deliveries")
def get_alert(alert_id: int, session: SessionDep, _: StaffDep) -> AlertDetail:
    row = session.execute(
        select_alerts().where(Alert.id == alert_id)
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
        **alert_out(row[0], row[1]).model_dump(),
        audit=[AuditOut(ts_ms=e.ts_ms, actor=e.actor, action=e.action, detail=e.detail) for e in audit],
        deliveries=[delivery_out(j) for j in jobs],
    )


@router.get("/alerts/{alert_id}/deliveries/log", summary="Every delivery attempt of the alert's notifications")
def delivery_log(alert_id: int, session: SessionDep, _: StaffDep) -> list[dict[str, object]]:
    rows = session.execute(
        select(DeliveryAttempt, NotificationJob.key).join(NotificationJob, NotificationJob.id == DeliveryAttempt.job_id)
        .where(NotificationJob.alert_id == alert_id).order_by(DeliveryAttempt.id)
    ).all()
    return [{"key": key, "ts_ms": a.ts_ms, "attempt": a.attempt, "ok": a.ok, "error": a.error} for a, key in rows]


