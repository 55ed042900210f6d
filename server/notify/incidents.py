"""The messages of an incident (server.events.IncidentOpened): one to each member of the plan's team group with
the checklist, and one to each person on the muster list with a contact, carrying their signed "I am safe" link.
Drills say so in every subject and body."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.events import IncidentCall, IncidentOpened, MusterPerson
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
        if p.contact:
            drafts.append(muster_draft(event.incident_id, event.title, where, event.zone, event.drill, p,
                                       key=f"incident:{event.incident_id}:muster:{p.id}", due_ms=event.opened_ms,
                                       payload=payload, base=base))
    return drafts


def muster_draft(incident_id: int, title: str, where: str, zone: str, drill: bool, p: MusterPerson, *, key: str,
                 due_ms: int, payload: dict[str, Any], base: str) -> Draft:
    prefix = "[DRILL] " if drill else ""
    drill_note = "THIS IS A DRILL. " if drill else ""
    link = f"{base}{p.muster_path}"
    body = (f"{drill_note}{title} in {where}. Leave the zone now by the nearest safe route and go to the "
            f"muster point.\nWhen you are safe, confirm here: {link}")
    return Draft(key=key, kind="muster", recipient=p.id, group="", target=p.contact,
                 subject=f"{prefix}[EMERGENCY] Leave {zone or where} now", body=body, severity="emergency",
                 due_ms=due_ms, payload={**payload, "kind": "muster", "person": p.id, "muster_link": link},
                 incident_id=incident_id)


def call_drafts(event: IncidentCall, notify: NotifyConfig) -> list[Draft]:
    """"I need help": a message to each member of the team group (naming the person by id only, the message
    leaves the server). "resend": the person's "I am safe" link again."""
    where = f"{event.site}/{event.zone or '-'}"
    base = notify.public_url.rstrip("/")
    payload: dict[str, Any] = {
        "schema": "hazmon.notification/1", "kind": "incident", "drill": event.drill,
        "incident": {"id": event.incident_id, "site": event.site, "zone": event.zone}, "person": event.person.id,
    }
    key = f"incident:{event.incident_id}:{event.kind}:{event.person.id}:{event.ts_ms}"
    if event.kind == "resend":
        if not event.person.contact:
            return []
        return [muster_draft(event.incident_id, event.title, where, event.zone, event.drill, event.person, key=key,
                             due_ms=event.ts_ms, payload=payload, base=base)]
    group = notify.group(event.team_group) if event.team_group else None
    if group is None:
        return []
    prefix = "[DRILL] " if event.drill else ""
    subject = f"{prefix}[EMERGENCY] {event.person.id} needs help: {event.title} in {where}"
    body = (f"{'THIS IS A DRILL. ' if event.drill else ''}Person {event.person.id} answered \"I need help\" "
            f"at {fmt_time(event.ts_ms, notify.timezone)} in {where}.\n"
            f"Incident: {base}/incidents/{event.incident_id}")
    return [Draft(key=f"{key}:{m.name}", kind="incident", recipient=m.name, group=group.name, target=m.target,
                  subject=subject, body=body, severity="emergency", due_ms=event.ts_ms,
                  payload={**payload, "kind": "help"}, incident_id=event.incident_id) for m in group.members]


def queue_call(session: Session, event: IncidentCall, notify: NotifyConfig) -> int:
    drafts = call_drafts(event, notify)
    insert_jobs(session, drafts, event.ts_ms)
    return len(drafts)


def queue_incident(session: Session, event: IncidentOpened, notify: NotifyConfig) -> int:
    """Queue the incident's messages in the publisher's transaction. Returns how many were queued."""
    drafts = incident_drafts(event, notify)
    insert_jobs(session, drafts, event.opened_ms)
    return len(drafts)
