"""Incidents: started by a trigger (an alert) or by hand, with a timeline, an ordered checklist, a muster of everyone
rostered in the zone, notifications to the team and to each person, and a close-out report. A drill runs the same
way with `drill=True`, shown in every subject, page and report."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.audit import audit
from server.emergency.models import Incident, IncidentEvent, IncidentStep, MusterEntry
from server.emergency.muster import muster_path
from server.emergency.plans import Plan
from server.events import Events, IncidentOpened, MusterPerson
from server.org import presence as where


class IncidentError(Exception):
    pass


@dataclass(frozen=True)
class RosterPerson:
    id: str
    name: str
    contact: str | None


def roster_for(session: Session, plan: Plan, zone: str, now_ms: int) -> list[RosterPerson]:
    """Everyone in the zone now: the workers rostered there (server.org.presence), merged with the plan's roster
    (which also gives contacts)."""
    people: dict[str, RosterPerson] = {}
    contacts = {p.id: p.contact for p in plan.roster}
    for w in where.rostered_in_zone(session, zone, now_ms):
        people[w.employee_no] = RosterPerson(w.employee_no, w.name, contacts.get(w.employee_no))
    for p in plan.roster:
        if p.id not in people and any(fnmatch.fnmatchcase(zone, z) for z in p.zones):
            people[p.id] = RosterPerson(p.id, p.name, p.contact)
    return sorted(people.values(), key=lambda p: p.id)


def tag(drill: bool) -> str:
    return "[DRILL] " if drill else ""


def add_event(session: Session, incident: Incident, *, ts: int, actor: str, kind: str, text: str) -> None:
    session.add(IncidentEvent(incident_id=incident.id, ts_ms=ts, actor=actor, kind=kind,
                              text=f"{tag(incident.drill)}{text}"))
    audit(session, ts_ms=ts, actor=actor, action=f"incident_{kind}", target=f"incident:{incident.id}",
          detail=("drill; " if incident.drill else "") + text[:500])


def start_incident(
    session: Session, plan: Plan, *, site: str, zone: str, drill: bool, actor: str, trigger: str, now_ms: int,
    alert_id: int | None, events: Events, key: bytes,
) -> tuple[Incident, bool]:
    """Open an incident of the plan for (site, zone), or return the one already open. Returns (incident, new).
    A new incident is published (`IncidentOpened`): notify messages the team and everyone on the muster list,
    health links the workers present and schedules emergency exams."""
    existing = session.execute(
        select(Incident).where(Incident.plan_id == plan.id, Incident.site == site, Incident.zone == zone,
                               Incident.drill == drill, Incident.state == "open")
    ).scalar_one_or_none()
    if existing is not None:
        add_event(session, existing, ts=now_ms, actor=actor, kind="trigger", text=f"further trigger: {trigger}")
        return existing, False
    incident = Incident(plan_id=plan.id, title=plan.title, site=site, zone=zone, drill=drill, state="open",
                        opened_ms=now_ms, opened_by=actor, trigger=trigger, alert_id=alert_id, close_note="")
    session.add(incident)
    session.flush()
    for i, step in enumerate(plan.steps, start=1):
        session.add(IncidentStep(incident_id=incident.id, idx=i, title=step.title, owner=step.owner, note=""))
    people = roster_for(session, plan, zone, now_ms)
    for p in people:
        session.add(MusterEntry(incident_id=incident.id, person_id=p.id, name=p.name, contact=p.contact or "",
                                via="", marked_by=""))
    session.flush()
    opened = IncidentOpened(
        incident_id=incident.id, plan_id=plan.id, title=plan.title, site=site, zone=zone, drill=drill,
        trigger=trigger, opened_ms=now_ms, alert_id=alert_id, team_group=plan.team_group or "",
        steps=tuple((s.title, s.owner) for s in plan.steps),
        people=tuple(MusterPerson(p.id, p.name, p.contact or "", muster_path(key, incident.id, p.id))
                     for p in people),
    )
    add_event(session, incident, ts=now_ms, actor=actor, kind="opened",
              text=f"{plan.title} started in {site}/{zone or '-'}: {trigger}; {len(people)} people to account for")
    queued = sum(n for n in events.publish(session, opened) if isinstance(n, int))
    add_event(session, incident, ts=now_ms, actor="system", kind="notified",
              text=f"{queued} notifications queued (team and everyone rostered in the zone)")
    session.flush()
    return incident, True


def _open(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id, with_for_update=True)
    if incident is None:
        raise LookupError(f"no incident {incident_id}")
    if incident.state != "open":
        raise IncidentError(f"incident {incident_id} is closed")
    return incident


def complete_step(session: Session, incident_id: int, idx: int, *, actor: str, note: str, now_ms: int) -> IncidentStep:
    incident = _open(session, incident_id)
    step = session.execute(
        select(IncidentStep).where(IncidentStep.incident_id == incident_id, IncidentStep.idx == idx)
    ).scalar_one_or_none()
    if step is None:
        raise LookupError(f"incident {incident_id} has no step {idx}")
    if step.done_ms is not None:
        raise IncidentError(f"step {idx} was done by {step.done_by}")
    step.done_ms, step.done_by, step.note = now_ms, actor, note
    add_event(session, incident, ts=now_ms, actor=actor, kind="step", text=f"step {idx} done: {step.title}"
              + (f" ({note})" if note else ""))
    return step


def undo_step(session: Session, incident_id: int, idx: int, *, actor: str, now_ms: int) -> IncidentStep:
    """Take back a step marked done by mistake; the timeline keeps both marks and who made them."""
    incident = _open(session, incident_id)
    step = session.execute(
        select(IncidentStep).where(IncidentStep.incident_id == incident_id, IncidentStep.idx == idx)
    ).scalar_one_or_none()
    if step is None:
        raise LookupError(f"incident {incident_id} has no step {idx}")
    if step.done_ms is None:
        raise IncidentError(f"step {idx} is not done")
    was = step.done_by
    step.done_ms, step.done_by, step.note = None, None, ""
    add_event(session, incident, ts=now_ms, actor=actor, kind="undone",
              text=f"step {idx} undone: {step.title} (marked done by {was})")
    return step


def muster_entry(session: Session, incident_id: int, person_id: str) -> MusterEntry | None:
    return session.execute(
        select(MusterEntry).where(MusterEntry.incident_id == incident_id, MusterEntry.person_id == person_id)
    ).scalar_one_or_none()


def ask_help(session: Session, incident_id: int, person_id: str, *, now_ms: int) -> tuple[Incident, MusterEntry]:
    """The person answered "I need help" on their link: the incident becomes urgent (`urgency`) until they are
    marked safe."""
    incident = _open(session, incident_id)
    entry = muster_entry(session, incident_id, person_id)
    if entry is None:
        entry = MusterEntry(incident_id=incident_id, person_id=person_id, name=person_id, contact="", via="",
                            marked_by="")
        session.add(entry)
    if entry.safe_ms is None:
        entry.via = "help"
        add_event(session, incident, ts=now_ms, actor=f"person:{person_id}", kind="help",
                  text=f"{entry.name} needs help")
    session.flush()
    return incident, entry


def mark_safe(session: Session, incident_id: int, person_id: str, *, via: str, actor: str, now_ms: int) -> MusterEntry:
    incident = _open(session, incident_id)
    entry = session.execute(
        select(MusterEntry).where(MusterEntry.incident_id == incident_id, MusterEntry.person_id == person_id)
    ).scalar_one_or_none()
    if entry is None:  # someone not on the roster reports in: they count too
        entry = MusterEntry(incident_id=incident_id, person_id=person_id, name=person_id, contact="", via="",
                            marked_by="")
        session.add(entry)
    if entry.safe_ms is None:
        entry.safe_ms, entry.via, entry.marked_by = now_ms, via, actor
        add_event(session, incident, ts=now_ms, actor=actor, kind="muster", text=f"{entry.name} is safe ({via})")
    session.flush()
    return entry


def add_note(session: Session, incident_id: int, *, actor: str, text: str, now_ms: int) -> None:
    add_event(session, _open(session, incident_id), ts=now_ms, actor=actor, kind="note", text=text)


def close_incident(session: Session, incident_id: int, *, actor: str, note: str, now_ms: int) -> Incident:
    incident = _open(session, incident_id)
    open_steps = session.execute(
        select(IncidentStep.idx).where(IncidentStep.incident_id == incident_id, IncidentStep.done_ms.is_(None))
        .order_by(IncidentStep.idx)
    ).scalars().all()
    note = note.strip()
    if open_steps and not note:
        raise IncidentError(f"steps {', '.join(map(str, open_steps))} are not done: give a reason for closing")
    if open_steps:
        note = f"with steps {', '.join(map(str, open_steps))} not done; reason: {note}"
    incident.state, incident.closed_ms, incident.closed_by, incident.close_note = "closed", now_ms, actor, note
    add_event(session, incident, ts=now_ms, actor=actor, kind="closed", text=f"closed: {note}")
    return incident


def muster_count(session: Session, incident_id: int) -> dict[str, int]:
    rows = session.execute(select(MusterEntry.safe_ms).where(MusterEntry.incident_id == incident_id)).scalars().all()
    safe = sum(1 for r in rows if r is not None)
    return {"expected": len(rows), "safe": safe, "missing": len(rows) - safe}


def urgency(session: Session, incident_id: int) -> str:
    """"help" while someone who answered "I need help" is not yet safe, else "normal"."""
    waiting = session.execute(
        select(MusterEntry.id).where(MusterEntry.incident_id == incident_id, MusterEntry.via == "help",
                                     MusterEntry.safe_ms.is_(None))
    ).first()
    return "help" if waiting else "normal"


def report(session: Session, incident_id: int) -> dict[str, Any]:
    """The close-out report (also the incident view): everything recorded, in order."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise LookupError(f"no incident {incident_id}")
    steps = session.execute(
        select(IncidentStep).where(IncidentStep.incident_id == incident_id).order_by(IncidentStep.idx)
    ).scalars()
    muster = session.execute(
        select(MusterEntry).where(MusterEntry.incident_id == incident_id).order_by(MusterEntry.person_id)
    ).scalars()
    events = session.execute(
        select(IncidentEvent).where(IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.id)
    ).scalars()
    return {
        "id": incident.id, "plan": incident.plan_id, "title": incident.title, "drill": incident.drill,
        "site": incident.site, "zone": incident.zone, "state": incident.state, "trigger": incident.trigger,
        "alert_id": incident.alert_id, "opened_ms": incident.opened_ms, "opened_by": incident.opened_by,
        "closed_ms": incident.closed_ms, "closed_by": incident.closed_by, "close_note": incident.close_note,
        "muster_count": muster_count(session, incident_id), "urgency": urgency(session, incident_id),
        "steps": [{"idx": s.idx, "title": s.title, "owner": s.owner, "done_ms": s.done_ms, "done_by": s.done_by,
                   "note": s.note} for s in steps],
        "muster": [{"person": m.person_id, "name": m.name, "safe_ms": m.safe_ms, "via": m.via,
                    "marked_by": m.marked_by, "contact": bool(m.contact)} for m in muster],
        "timeline": [{"ts_ms": e.ts_ms, "actor": e.actor, "kind": e.kind, "text": e.text} for e in events],
    }


def without_names(data: dict[str, Any]) -> dict[str, Any]:
    """The report without people's names (for roles that may not see them): muster entries keep their person
    id and state, and the timeline's muster lines say only that a person is safe."""
    out = dict(data)
    out["muster"] = [{**m, "name": None} for m in data["muster"]]
    hidden = {"muster": "a person is safe", "help": "a person needs help"}
    out["timeline"] = [{**e, "text": hidden[e["kind"]]} if e["kind"] in hidden else e for e in data["timeline"]]
    return out
