"""The messages of an incident (server.events.IncidentOpened): one to each member of the plan's team group with
the checklist, and one to each person on the muster list with a contact, carrying their signed "I am safe" link.
Drills say so in every subject and body."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.events import IncidentOpened
from server.notify.delivery import Draft, fmt_time, insert_jobs
from server.notify.policies import NotifyConfig


def incident_drafts(event: IncidentOpened, notify: NotifyConfig) -> list[Draft]:
    prefix = "[DRILL] " if event.drill else ""
    drill_note = "THIS IS A DRILL. " if event.drill else ""
    where = f"{event.site}/{event.zone or '-'}"
    subject = f"{prefix}[EMERGENCY] {event.title} in {where}"
    base = notify.public_url.rstrip("/")
    page = f"{base}/incident?id={event.incident_id}"
    payload: dict[str, Any] = {
        "schema": "hazmon.notification/1", "kind": "incident", "drill": event.drill,
        "incident": {"id": event.incident_id, "plan": event.plan_id, "site": event.site, "zone": event.zone,
                     "trigger": event.trigger, "opened_ms": event.opened_ms},
    }
    steps = "\n".join(f"{i}. {title} ({owner})" for i, (title, owner) in enumerate(event.steps, start=1))
    team_body = (f"{drill_note}{event.title} started {fmt_time(event.opened_ms, notify.timezone)} in {where}.\n"
                 f"Trigger: {event.trigger}\nChecklist:\n{steps}\nPeople to account for: {len(event.people)}\n"
                 f"Incident: {page}")
    drafts: list[Draft] = []
    group = notify.group(event.team_group) if event.team_group else None
    if group is not None:
        for m in group.members:
            drafts.append(Draft(key=f"incident:{event.incident_id}:team:{group.name}:{m.name}", kind="incident",
                                recipient=m.name, group=group.name, target=m.target, subject=subject, body=team_body,
                                severity="emergency", due_ms=event.opened_ms, payload=payload,
                                incident_id=event.incident_id))
    for p in event.people:
        if not p.contact:
            continue
        link = f"{base}{p.muster_path}"
        body = (f"{drill_note}{event.title} in {where}. Leave the zone now by the nearest safe route and go to the "
                f"muster point.\nWhen you are safe, confirm here: {link}")
        drafts.append(Draft(key=f"incident:{event.incident_id}:muster:{p.id}", kind="muster", recipient=p.id,
                            group="", target=p.contact, subject=f"{prefix}[EMERGENCY] Leave {event.zone or where} now",
                            body=body, severity="emergency", due_ms=event.opened_ms,
                            payload={**payload, "kind": "muster", "person": p.id, "muster_link": link},
                            incident_id=event.incident_id))
    return drafts


def queue_incident(session: Session, event: IncidentOpened, notify: NotifyConfig) -> int:
    """Queue the incident's messages in the publisher's transaction. Returns how many were queued."""
    drafts = incident_drafts(event, notify)
    insert_jobs(session, drafts, event.opened_ms)
    return len(drafts)
