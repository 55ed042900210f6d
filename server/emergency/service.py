"""The emergency service as the composition root holds it: the plans, the secret key for muster links, the event
bus its incidents are published on, and the alert subscriber that starts a plan when one of its triggers fires."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from server.emergency.incidents import start_incident
from server.emergency.muster import secret_key
from server.emergency.plans import Plan, load_plans
from server.events import AlertEvent, Events
from server.settings import Settings


class Emergency:
    def __init__(self, plans: dict[str, Plan], *, key: bytes, events: Events, clock: Callable[[], int]) -> None:
        self.plans, self.key, self.events, self.clock = plans, key, events, clock

    @classmethod
    def from_settings(cls, settings: Settings, *, events: Events, clock: Callable[[], int]) -> Emergency:
        return cls(load_plans(settings.emergency_dir), key=secret_key(settings), events=events, clock=clock)

    def on_alert(self, session: Session, event: AlertEvent) -> None:
        """An alert opened or raised: start every plan it triggers (once per plan, site and zone). Late data never
        starts a plan: it is not a live condition."""
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
                now_ms=self.clock(), alert_id=event.alert_id, events=self.events, key=self.key,
            )

    def start(self, session: Session, plan: Plan, *, site: str, zone: str, drill: bool, actor: str, trigger: str,
              now_ms: int) -> int:
        """Start a plan by hand (or as a drill); returns the incident id."""
        incident, _ = start_incident(session, plan, site=site, zone=zone, drill=drill, actor=actor, trigger=trigger,
                                     now_ms=now_ms, alert_id=None, events=self.events, key=self.key)
        return incident.id
