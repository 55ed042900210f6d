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

Hooks: `on_alert_event` (called by the emergency alert listener) and `on_incident_opened` (called by
`server.emergency.incidents.start_incident`). Both run in a savepoint and never raise: a failure to link is
logged and never stops an alert or an incident.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.audit import audit
from server.db.models import Alert
from server.health.config import HealthConfig
from server.health.models import (
    Assignment,
    EventLink,
    EventLinkRun,
    Exam,
    Hazard,
    PersonalSensorAssignment,
    Worker,
    Zone,
    ZoneSensor,
)
from server.health.surveillance import jurisdiction_of, load_rules, local_date

log = logging.getLogger("hazmon.health")

#: session.info key of the app state (set by the health router's lifespan) so hooks find the health config
APP_STATE_KEY = "hazmon.app_state"


def config_for(session: Session) -> HealthConfig:
    """The app's health config (app.state.health_config) for a session of the app, else the environment's."""
    state = session.info.get(APP_STATE_KEY)
    cfg = getattr(state, "health_config", None) if state is not None else None
    return cfg if isinstance(cfg, HealthConfig) else HealthConfig()


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
    sensor measured then, or wearing it. Presence intervals are the assignments' (clipped to the alert on read)."""
    al = session.get(Alert, alert_id)
    if al is None:
        return []
    a = al.opened_ts
    b = max(alert_end(al), a + 1) if whole_episode else a + 1
    found: dict[int, tuple[str, str | None, int, int]] = {}
    zones = session.execute(select(ZoneSensor.zone_id, Zone.code).join(Zone, Zone.id == ZoneSensor.zone_id).where(
        ZoneSensor.sensor_id == al.sensor_id, ZoneSensor.start_ms < b,
        or_(ZoneSensor.end_ms.is_(None), ZoneSensor.end_ms > a))).all()
    codes = dict(zones)
    if codes:
        for asg in session.execute(select(Assignment).where(
                Assignment.zone_id.in_(list(codes)), Assignment.start_ms < b, Assignment.end_ms > a)).scalars():
            _merge(found, asg.worker_id, "zone", codes[asg.zone_id], max(asg.start_ms, a), asg.end_ms)
    for p in session.execute(select(PersonalSensorAssignment).where(
            PersonalSensorAssignment.sensor_id == al.sensor_id, PersonalSensorAssignment.start_ms < b,
            PersonalSensorAssignment.end_ms > a)).scalars():
        _merge(found, p.worker_id, "personal", None, max(p.start_ms, a), p.end_ms)
    return _store(session, "alert", al.id, found, now_ms)


def link_incident(session: Session, incident: Any, *, now_ms: int) -> list[EventLink]:
    """Link the workers whose assignment in the incident's zone covers its start, and everyone on its muster
    list (by employee number)."""
    from server.emergency.models import MusterEntry

    t = incident.opened_ms
    found: dict[int, tuple[str, str | None, int, int]] = {}
    zone = incident.zone or None
    if zone:
        for asg in session.execute(select(Assignment).join(Zone, Zone.id == Assignment.zone_id).where(
                Zone.code == zone, Assignment.start_ms <= t, Assignment.end_ms > t)).scalars():
            _merge(found, asg.worker_id, "zone", zone, asg.start_ms, asg.end_ms)
    people = list(session.execute(select(MusterEntry.person_id).where(MusterEntry.incident_id == incident.id))
                  .scalars())
    if people:
        for wid in session.execute(select(Worker.id).where(Worker.employee_no.in_(people))).scalars():
            _merge(found, wid, "muster", zone, t, t)
    return _store(session, "incident", incident.id, found, now_ms)


# -- emergency exams -------------------------------------------------------------------------------------------


def schedule_emergency_exams(session: Session, incident: Any, links: list[EventLink], config: HealthConfig, *,
                             now_ms: int) -> int:
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
    reason = (f"emergency rule {rule.id}: incident {incident.id} ({incident.plan_id}) ({rule.source}; "
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
              detail=f"exam:{exam.id} type={rule.exam_type} incident:{incident.id} rule={rule.id}")
        n += 1
    session.flush()
    return n


# -- hooks -----------------------------------------------------------------------------------------------------


def on_alert_event(session: Session, event: Any) -> None:
    """Alert listener hook: link at opening (present then), widen at escalation and resolution. Never raises."""
    if event.kind not in ("opened", "escalated", "resolved"):
        return
    try:
        with session.begin_nested():
            link_alert(session, event.alert_id, now_ms=event.ts, whole_episode=event.kind != "opened")
    except Exception:
        log.exception("health: linking alert %s failed", event.alert_id)


def on_incident_opened(session: Session, incident: Any, *, now_ms: int) -> None:
    """Incident hook (same transaction): store the links, schedule the emergency exams, audit. Never raises."""
    try:
        with session.begin_nested():
            links = link_incident(session, incident, now_ms=now_ms)
            audit(session, ts_ms=now_ms, actor="system", action="health.events.link", target=f"incident:{incident.id}",
                  detail="workers=" + ",".join(str(ln.worker_id) for ln in links))
            schedule_emergency_exams(session, incident, links, config_for(session), now_ms=now_ms)
    except Exception:
        log.exception("health: linking incident %s failed", getattr(incident, "id", "?"))
