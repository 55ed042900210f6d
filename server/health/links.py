"""Stored links of workers to alerts and incidents, written when the event opens, and the emergency exams an
incident schedules.

- An **alert** is linked when it opens (the workers present at that moment: assigned to a zone its sensor measures,
  or wearing it) and again when it escalates or resolves (everyone present during the episode so far). Links are
  only added or widened, never removed, so a roster edited afterwards does not change the file.
- An **incident** (server.emergency) is linked when it opens, in the same transaction: the workers whose
  assignment in the incident's zone covers its start, and everyone on its muster list (matched by employee
  number). A real incident (not a drill) then schedules an exam for every linked worker, by the `[[emergency]]`
  surveillance rules, once per incident and worker, audited.

`health_event_link_runs` marks the events whose links were stored; events without a mark (from before migration
0006) are linked at read time from the roster (server/health/linkage.py).

`HealthLinks` subscribes to the event bus (server/events.py): alert transitions, incidents opened, readings
backfilled. Each handler runs in a savepoint of its own: a failure to link is logged and counted and never stops
an alert or an incident.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.audit import audit
from server.alerts.models import Alert
from server.events import AlertEvent, IncidentOpened, ReadingsBackfilled, ShiftsChanged
from server.health.models import EventLink, EventLinkRun, Exam
from server.health.shift_runs import mark_shifts_stale, mark_stale
from server.health.surveillance import jurisdiction_of, load_rules, local_date
from server.org import presence as where
from server.org.models import Hazard, Zone
from server.settings import HealthConfig

log = logging.getLogger("hazmon.health")

# -- storing links ---------------------------------------------------------------------------------------------


def _store(session: Session, kind: str, event_id: int, found: dict[int, tuple[str, str | None, int, int]],
           now_ms: int) -> list[EventLink]:
    """Insert or widen the links (worker -> via, zone, from, until) of one event and mark it linked."""
    existing = {ln.worker_id: ln for ln in session.execute(
        select(EventLink).where(EventLink.kind == kind, EventLink.event_id == event_id)).scalars()}
    for wid, (via, zone, lo, hi) in found.items():
        ln = existing.get(wid)
        if ln is None:
            ln = EventLink(worker_id=wid, kind=kind, event_id=event_id, via=via, zone=zone, present_from_ms=lo,
                           present_until_ms=hi, linked_ms=now_ms)
            session.add(ln)
            existing[wid] = ln
        else:
            ln.present_from_ms, ln.present_until_ms = min(ln.present_from_ms, lo), max(ln.present_until_ms, hi)
            vias = "+".join(sorted({*ln.via.split("+"), *via.split("+")}))
            if vias != ln.via:
                ln.via = vias
            ln.zone = ln.zone or zone
    run = session.get(EventLinkRun, (kind, event_id))
    if run is None:
        session.add(EventLinkRun(kind=kind, event_id=event_id, linked_ms=now_ms, workers=len(existing)))
    else:
        run.linked_ms, run.workers = now_ms, len(existing)
    session.flush()
    return sorted(existing.values(), key=lambda ln: ln.worker_id)


def _merge(found: dict[int, tuple[str, str | None, int, int]], wid: int, via: str, zone: str | None, lo: int,
           hi: int) -> None:
    prev = found.get(wid)
    if prev is None:
        found[wid] = (via, zone, lo, hi)
        return
    vias = "+".join(sorted({*prev[0].split("+"), *via.split("+")}))
    found[wid] = (vias, prev[1] or zone, min(prev[2], lo), max(prev[3], hi))


def alert_end(al: Alert) -> int:
    return al.resolved_ts if al.resolved_ts is not None else max(al.last_ts, al.opened_ts)


def link_alert(session: Session, alert_id: int, *, now_ms: int, whole_episode: bool = True) -> list[EventLink]:
    """Link the workers present during the alert (at its opening only, unless `whole_episode`): in a zone its
    sensor measured then, or wearing it (server.org.presence). Presence intervals are the assignments' (clipped to
    the alert on read)."""
    al = session.get(Alert, alert_id)
    if al is None:
        return []
    a = al.opened_ts
    b = max(alert_end(al), a + 1) if whole_episode else a + 1
    found: dict[int, tuple[str, str | None, int, int]] = {}
    for p in where.present_with_sensor(session, al.sensor_id, a, b):
        _merge(found, p.worker_id, p.via, p.zone, p.start_ms, p.end_ms)
    return _store(session, "alert", al.id, found, now_ms)


def link_incident(session: Session, incident: IncidentOpened, *, now_ms: int) -> list[EventLink]:
    """Link the workers whose assignment in the incident's zone covers its start, and everyone on its muster
    list (by employee number)."""
    t = incident.opened_ms
    found: dict[int, tuple[str, str | None, int, int]] = {}
    zone = incident.zone or None
    if zone:
        for r in where.rostered_in_zone(session, zone, t):
            _merge(found, r.worker_id, "zone", zone, r.start_ms, r.end_ms)
    people = [p.id for p in incident.people]
    if people:
        for wid in where.worker_ids_by_employee_no(session, people):
            _merge(found, wid, "muster", zone, t, t)
    return _store(session, "incident", incident.incident_id, found, now_ms)


# -- emergency exams -------------------------------------------------------------------------------------------


def schedule_emergency_exams(session: Session, incident: IncidentOpened, links: list[EventLink],
                             config: HealthConfig, *, now_ms: int) -> int:
    """An exam (type and interval from the first matching `[[emergency]]` rule) for every linked worker of a real
    incident, once per incident and worker (the link keeps the exam id). Audited. Returns how many."""
    if incident.drill or not links:
        return 0
    severity = quantity = None
    if incident.alert_id is not None:
        al = session.get(Alert, incident.alert_id)
        if al is not None:
            severity, quantity = al.severity, al.quantity
    juris = jurisdiction_of(config.profile)
    rule = next((r for r in load_rules(config).emergency if r.matches(juris, incident.plan_id, severity)), None)
    if rule is None:
        return 0
    hazard = None
    if quantity is not None:
        hazard = session.execute(select(Hazard.substance).join(Zone, Zone.id == Hazard.zone_id).where(
            Zone.code == incident.zone, Hazard.quantity == quantity).limit(1)).scalar() or quantity
    due = local_date(incident.opened_ms, config) + dt.timedelta(days=rule.within_days)
    reason = (f"emergency rule {rule.id}: incident {incident.incident_id} ({incident.plan_id}) ({rule.source}; "
              f"{rule.mark})")[:256]
    n = 0
    for ln in links:
        if ln.exam_id is not None:
            continue
        exam = Exam(worker_id=ln.worker_id, exam_type=rule.exam_type, hazard=hazard, status="scheduled",
                    due_date=due, reason=reason, created_ms=now_ms, updated_ms=now_ms)
        session.add(exam)
        session.flush()
        ln.exam_id = exam.id
        audit(session, ts_ms=now_ms, actor="system", action="health.exams.schedule", target=f"worker:{ln.worker_id}",
              detail=f"exam:{exam.id} type={rule.exam_type} incident:{incident.incident_id} rule={rule.id}")
        n += 1
    session.flush()
    return n


# -- the subscriber ------------------------------------------------------------------------------------------


class HealthLinks:
    """health's subscriber on the event bus (server/events.py), registered by the composition root: links
    workers to alerts and incidents, schedules emergency exams, and marks exposure records stale when readings
    are backfilled. Each handler runs in a savepoint of the publisher's transaction."""

    def __init__(self, config: HealthConfig) -> None:
        self.config = config

    def on_alert(self, session: Session, event: AlertEvent) -> None:
        """Link at opening (present then), widen at escalation and resolution."""
        if event.kind in ("opened", "escalated", "resolved"):
            link_alert(session, event.alert_id, now_ms=event.ts, whole_episode=event.kind != "opened")

    def on_incident(self, session: Session, event: IncidentOpened) -> None:
        """Store the links, schedule the emergency exams, audit."""
        links = link_incident(session, event, now_ms=event.opened_ms)
        audit(session, ts_ms=event.opened_ms, actor="system", action="health.events.link",
              target=f"incident:{event.incident_id}", detail="workers=" + ",".join(str(ln.worker_id) for ln in links))
        schedule_emergency_exams(session, event, links, self.config, now_ms=event.opened_ms)

    def on_backfill(self, session: Session, event: ReadingsBackfilled) -> None:
        mark_stale(session, list(event.sensor_ids), event.since_ms, event.until_ms, now_ms=event.now_ms)

    def on_shifts_changed(self, session: Session, event: ShiftsChanged) -> None:
        mark_shifts_stale(session, event.shifts, now_ms=event.now_ms)
