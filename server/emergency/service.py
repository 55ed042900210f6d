"""The emergency service as the composition root holds it: the plans, the secret key for muster links, the event
bus its incidents are published on, and the alert subscriber that starts a plan when one of its triggers fires."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from server.emergency.incidents import IncidentError, add_event, ask_help, muster_entry, start_incident
from server.emergency.models import Incident
from server.emergency.muster import muster_path, secret_key
from server.emergency.plans import Plan, load_plans
from server.events import AlertEvent, Events, IncidentCall, MusterPerson
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

    def help(self, session: Session, incident_id: int, person_id: str, *, now_ms: int) -> int:
        """The person answered "I need help": recorded, and the plan's team is told. Returns messages queued."""
        incident, entry = ask_help(session, incident_id, person_id, now_ms=now_ms)
        return self._call(session, "help", incident, MusterPerson(entry.person_id, entry.name, entry.contact, ""),
                          now_ms=now_ms)

    def resend(self, session: Session, incident_id: int, person_id: str, *, actor: str, now_ms: int) -> int:
        """Send one person their "I am safe" link again (they lost it, or the first message failed)."""
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise LookupError(f"no incident {incident_id}")
        if incident.state != "open":
            raise IncidentError(f"incident {incident_id} is closed")
        entry = muster_entry(session, incident_id, person_id)
        if entry is None:
            raise LookupError(f"{person_id} is not on the muster list")
        if not entry.contact:
            raise IncidentError(f"{person_id} has no contact to send the link to")
        person = MusterPerson(entry.person_id, entry.name, entry.contact,
                              muster_path(self.key, incident_id, person_id))
        queued = self._call(session, "resend", incident, person, now_ms=now_ms)
        add_event(session, incident, ts=now_ms, actor=actor, kind="resent",
                  text=f"muster link sent again to {person_id} ({queued} queued)")
        return queued

    def _call(self, session: Session, kind: str, incident: Incident, person: MusterPerson, *, now_ms: int) -> int:
        plan = self.plans.get(incident.plan_id)
        team = (plan.team_group or "") if plan else ""
        event = IncidentCall(kind=kind, incident_id=incident.id, title=incident.title, site=incident.site,
                             zone=incident.zone, drill=incident.drill, team_group=team,
                             person=person, ts_ms=now_ms)
        return sum(n for n in self.events.publish(session, event) if isinstance(n, int))
