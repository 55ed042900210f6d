"""The emergency service as the app holds it: the plans, the secret key for muster links, and the alert
listener that starts a plan when one of its triggers fires."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from server.alerting import AlertEvent
from server.emergency.incidents import start_incident
from server.emergency.muster import secret_key
from server.emergency.plans import Plan, load_plans
from server.settings import Settings

if TYPE_CHECKING:
    from server.notify.service import Notifier


class Emergency:
    def __init__(self, plans: dict[str, Plan], *, key: bytes, notifier: Notifier, clock: Callable[[], int]) -> None:
        self.plans, self.key, self.notifier, self.clock = plans, key, notifier, clock

    @classmethod
    def from_settings(cls, settings: Settings, *, notifier: Notifier, clock: Callable[[], int]) -> Emergency:
        return cls(load_plans(settings.emergency_dir), key=secret_key(settings), notifier=notifier, clock=clock)

    def on_alert(self, session: Session, event: AlertEvent) -> None:
        """An alert opened or raised: start every plan it triggers (once per plan, site and zone). Late data never
        starts a plan: it is not a live condition."""
        _link_workers(session, event)
        if event.kind not in ("opened", "escalated") or event.late:
            return
        for plan in self.plans.values():
            trigger = plan.triggered_by(rule_id=event.rule_id, quantity=event.quantity, severity=event.severity,
                                        site=event.site, zone=event.zone)
            if trigger is None:
                continue
            start_incident(
                session, plan, site=event.site, zone=event.zone or "", drill=False, actor="system",
                trigger=f"alert {event.alert_id}: {event.message} {event.value:g} {event.unit} at {event.sensor} "
                        f"({event.severity})",
                now_ms=self.clock(), alert_id=event.alert_id, notify=self.notifier.config, key=self.key,
            )


def _link_workers(session: Session, event: AlertEvent) -> None:
    """server.health (when installed) stores the workers present for the alert (it never raises)."""
    try:
        from server.health.links import on_alert_event
    except ImportError:
        return
    on_alert_event(session, event)
