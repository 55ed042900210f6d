"""The alerting service as the composition root holds it: the rules in force, the site's profile, the event bus
its transitions go to, and the counters. HTTP ingest, MQTT ingest, edge alarms and the API all use this one
object, so rules replaced through the API are in force everywhere at once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.accounts.audit import audit
from server.alerts.rules import RuleSet
from server.counters import Counters
from server.events import AlertEvent, Events


class Alerting:
    def __init__(self, rules: RuleSet, *, events: Events, counters: Counters, site_profile: str) -> None:
        self.rules = rules
        self.events = events
        self.counters = counters
        self.site_profile = site_profile

    def install(self, rules: RuleSet) -> None:
        """Put new rules in force (PUT /rules, or rules saved through the API at start-up)."""
        self.rules = rules

    def count(self, name: str, n: int = 1) -> None:
        self.counters.add(name, n)

    def emit(self, session: Session, event: AlertEvent) -> None:
        """Audit the transition and publish it (notifications, emergency plans, health-file links)."""
        audit(session, ts_ms=event.ts, actor=event.actor, action=f"alert_{event.kind}",
              target=f"alert:{event.alert_id}",
              detail=f"rule={event.rule_id} sensor={event.sensor}{' worker=' + event.worker if event.worker else ''}"
                     f" severity={event.severity} value={event.value:g}"
                     f"{' late' if event.late else ''}{' note=' + event.note if event.note else ''}")
        self.events.publish(session, event)
