"""Linkage: the alerts and incidents in a worker's file, with their evidence.

Links are stored when the event opens (server/health/links.py: `health_event_links`), so a roster edited later does
not change who was linked. Alerts from before the table existed (no `health_event_link_runs` mark) are linked at
read time from the stored assignments, zone sensors and personal sensors, as before.

Evidence:
- an alert: the readings of its sensor from `margin` before it opened to `margin` after it ended, and its
  lifecycle once per transition, from one source: the audit entries whose target is `alert:<id>` (opened,
  acknowledged, escalated, resolved, with the note); only an alert without any audit entry (from before the audit
  trail) shows the transitions kept in its own columns.
- an incident: its timeline (the muster answers of other people are left out: they are in the count), the
  checklist state, the muster count, the worker's own muster answer, and whether it was a drill; the series of the
  alert that started it, when one did.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.db.models import Alert, AuditEntry, ReadingRow, Sensor
from server.health.links import alert_end
from server.health.models import (
    Assignment,
    EventLink,
    EventLinkRun,
    PersonalSensorAssignment,
    Worker,
    Zone,
    ZoneSensor,
)

MAX_EVIDENCE_POINTS = 5000


@dataclass(frozen=True)
class HistoryEntry:
    ts_ms: int
    actor: str
    action: str
    detail: str = ""


@dataclass(frozen=True)
class EvidencePoint:
    ts: int
    value: float
    flags: str


@dataclass(frozen=True)
class StepState:
    idx: int
    title: str
    owner: str
    done_ms: int | None
    done_by: str | None


@dataclass(frozen=True)
class OwnMuster:
    person_id: str
    safe_ms: int | None
    via: str
    marked_by: str


@dataclass(frozen=True)
class IncidentEvidence:
    incident_id: int
    plan: str
    title: str
    drill: bool
    site: str
    trigger: str
    alert_id: int | None
    opened_ms: int
    closed_ms: int | None
    steps: tuple[StepState, ...]
    muster_count: dict[str, int]
    own_muster: OwnMuster | None


@dataclass(frozen=True)
class LinkedEvent:
    alert_id: int | None
    rule: str | None
    sensor: str | None
    quantity: str | None
    severity: str | None
    state: str
    zone_code: str | None
    via: str  # zone | personal | muster, joined with "+" when several
    opened_ts: int
    end_ts: int
    present_from_ms: int
    present_until_ms: int
    threshold: float | None
    unit: str | None
    trigger_value: float | None
    worst_value: float | None
    series: tuple[EvidencePoint, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    kind: str = "alert"  # alert | incident
    incident_id: int | None = None
    stored: bool = True  # False: linked at read time (an event from before the links were stored)
    incident: IncidentEvidence | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.incident_id if self.kind == "incident" else self.alert_id)  # type: ignore[return-value]


def _alert_event(al: Alert, sensor: str, zone: str | None, via: str, lo: int, hi: int, *, stored: bool) -> LinkedEvent:
    end = alert_end(al)
    return LinkedEvent(al.id, al.rule_id, sensor, al.quantity, al.severity, al.state, zone, via, al.opened_ts, end,
                       lo, hi, al.threshold, al.unit, al.trigger_value, al.worst_value, stored=stored)


def _overlaps(a: int, b: int, since_ms: int | None, until_ms: int | None) -> bool:
    return (since_ms is None or b >= since_ms) and (until_ms is None or a < until_ms)


def events_for_worker(session: Session, worker_id: int, *, margin_ms: int, evidence: bool = True,
                      since_ms: int | None = None, until_ms: int | None = None) -> list[LinkedEvent]:
    """Every alert and incident linked to the worker (stored links, and read-time links for older alerts)."""
    sensors = {s.id: f"{s.site}/{s.name}" for s in session.execute(select(Sensor)).scalars()}
    out: dict[tuple[str, int], LinkedEvent] = {}
    links = list(session.execute(select(EventLink).where(EventLink.worker_id == worker_id)).scalars())
    for ln in links:
        if ln.kind == "alert":
            al = session.get(Alert, ln.event_id)
            if al is None:
                continue
            hi = min(ln.present_until_ms, max(alert_end(al), al.opened_ts + 1))
            e = _alert_event(al, sensors.get(al.sensor_id, str(al.sensor_id)), ln.zone, ln.via,
                             max(ln.present_from_ms, al.opened_ts), max(hi, ln.present_from_ms), stored=True)
        elif ln.kind == "incident":
            e = _incident_event(session, worker_id, ln)
            if e is None:
                continue
        else:
            continue
        if _overlaps(e.opened_ts, e.end_ts, since_ms, until_ms):
            out[e.key] = e
    for e in _read_time_alerts(session, worker_id, sensors, since_ms, until_ms):
        out.setdefault(e.key, e)
    events = sorted(out.values(), key=lambda e: (e.opened_ts, e.kind, e.key[1]))
    if not evidence:
        return events
    return [with_evidence(session, e, margin_ms=margin_ms) for e in events]


def _read_time_alerts(session: Session, worker_id: int, sensors: dict[int, str], since_ms: int | None,
                      until_ms: int | None) -> list[LinkedEvent]:
    """Alerts without stored links (from before migration 0006), linked from the roster as it is now."""
    marked = set(session.execute(select(EventLinkRun.event_id).where(EventLinkRun.kind == "alert")).scalars())
    zones = {z.id: z.code for z in session.execute(select(Zone)).scalars()}
    presences: list[tuple[str, int | None, list[int], int, int]] = []
    for a in session.execute(select(Assignment).where(Assignment.worker_id == worker_id)).scalars():
        ids = list(session.execute(select(ZoneSensor.sensor_id).where(
            ZoneSensor.zone_id == a.zone_id, ZoneSensor.start_ms < a.end_ms,
            or_(ZoneSensor.end_ms.is_(None), ZoneSensor.end_ms > a.start_ms))).scalars())
        presences.append(("zone", a.zone_id, ids, a.start_ms, a.end_ms))
    for p in session.execute(select(PersonalSensorAssignment).where(
            PersonalSensorAssignment.worker_id == worker_id)).scalars():
        presences.append(("personal", None, [p.sensor_id], p.start_ms, p.end_ms))
    out: dict[int, LinkedEvent] = {}
    for via, zone_id, ids, a, b in presences:
        if not ids:
            continue
        if since_ms is not None:
            a = max(a, since_ms)
        if until_ms is not None:
            b = min(b, until_ms)
        if b <= a:
            continue
        for al in session.execute(select(Alert).where(Alert.sensor_id.in_(ids), Alert.opened_ts < b)).scalars():
            if al.id in marked:
                continue
            end = alert_end(al)
            if end < a:
                continue
            lo, hi = max(a, al.opened_ts), min(b, max(end, al.opened_ts + 1))
            prev = out.get(al.id)
            if prev is not None:
                lo, hi = min(lo, prev.present_from_ms), max(hi, prev.present_until_ms)
            out[al.id] = _alert_event(al, sensors.get(al.sensor_id, str(al.sensor_id)),
                                      zones.get(zone_id) if zone_id is not None else None, via, lo, hi, stored=False)
    return list(out.values())


def _incident_event(session: Session, worker_id: int, ln: EventLink) -> LinkedEvent | None:
    from server.emergency.incidents import muster_count
    from server.emergency.models import Incident, IncidentEvent, IncidentStep, MusterEntry

    inc = session.get(Incident, ln.event_id)
    if inc is None:
        return None
    steps = tuple(StepState(s.idx, s.title, s.owner, s.done_ms, s.done_by) for s in session.execute(
        select(IncidentStep).where(IncidentStep.incident_id == inc.id).order_by(IncidentStep.idx)).scalars())
    employee_no = session.execute(select(Worker.employee_no).where(Worker.id == worker_id)).scalar()
    own = session.execute(select(MusterEntry).where(MusterEntry.incident_id == inc.id,
                                                    MusterEntry.person_id == employee_no)).scalar_one_or_none()
    timeline = [ev for ev in session.execute(select(IncidentEvent).where(IncidentEvent.incident_id == inc.id)
                                             .order_by(IncidentEvent.ts_ms, IncidentEvent.id)).scalars()]
    history = tuple(HistoryEntry(ev.ts_ms, ev.actor, ev.kind, ev.text) for ev in timeline if ev.kind != "muster")
    if own is not None and own.safe_ms is not None:  # the worker's own answer, without anyone else's name
        history = tuple(sorted((*history, HistoryEntry(own.safe_ms, own.marked_by or "?", "muster",
                                                       f"{'[DRILL] ' if inc.drill else ''}marked safe ({own.via})")),
                               key=lambda h: h.ts_ms))
    end = inc.closed_ms if inc.closed_ms is not None else max([inc.opened_ms, *(ev.ts_ms for ev in timeline)])
    severity = unit = quantity = sensor = None
    if inc.alert_id is not None:
        al = session.get(Alert, inc.alert_id)
        if al is not None:
            severity, unit, quantity = al.severity, al.unit, al.quantity
            s = session.get(Sensor, al.sensor_id)
            sensor = f"{s.site}/{s.name}" if s else str(al.sensor_id)
    evidence = IncidentEvidence(
        inc.id, inc.plan_id, inc.title, inc.drill, inc.site, inc.trigger, inc.alert_id, inc.opened_ms, inc.closed_ms,
        steps, muster_count(session, inc.id),
        OwnMuster(own.person_id, own.safe_ms, own.via, own.marked_by) if own is not None else None)
    return LinkedEvent(
        inc.alert_id, f"plan:{inc.plan_id}", sensor, quantity, severity, inc.state, ln.zone or inc.zone or None, ln.via,
        inc.opened_ms, end, ln.present_from_ms, ln.present_until_ms, None, unit, None, None, history=history,
        kind="incident", incident_id=inc.id, stored=True, incident=evidence)


def alert_history(session: Session, alert_id: int) -> tuple[HistoryEntry, ...]:
    """The alert's lifecycle once per transition: its audit entries, or (only for an alert with none, from before
    the audit trail) its own columns."""
    entries = session.execute(select(AuditEntry).where(AuditEntry.target == f"alert:{alert_id}")
                              .order_by(AuditEntry.ts_ms, AuditEntry.id)).scalars().all()
    if entries:
        return tuple(HistoryEntry(e.ts_ms, e.actor, e.action.removeprefix("alert_"), e.detail) for e in entries)
    al = session.get(Alert, alert_id)
    if al is None:
        return ()
    out = [HistoryEntry(al.opened_ts, "system", "opened")]
    if al.acknowledged_ms is not None:
        out.append(HistoryEntry(al.acknowledged_ms, al.acknowledged_by or "?", "acknowledged", al.ack_note or ""))
    if al.resolved_ts is not None:
        out.append(HistoryEntry(al.resolved_ts, al.resolved_by or "system", "resolved", al.resolve_reason or ""))
    return tuple(sorted(out, key=lambda h: h.ts_ms))


def _series(session: Session, alert_id: int, lo: int, hi: int) -> tuple[EvidencePoint, ...]:
    al = session.get(Alert, alert_id)
    if al is None:
        return ()
    rows = session.execute(select(ReadingRow.ts, ReadingRow.value, ReadingRow.flags).where(
        ReadingRow.sensor_id == al.sensor_id, ReadingRow.quantity == al.quantity,
        ReadingRow.ts >= lo, ReadingRow.ts <= hi,
    ).order_by(ReadingRow.ts, ReadingRow.id).limit(MAX_EVIDENCE_POINTS)).all()
    return tuple(EvidencePoint(r.ts, r.value, r.flags) for r in rows)


def with_evidence(session: Session, e: LinkedEvent, *, margin_ms: int) -> LinkedEvent:
    if e.kind == "incident":
        if e.alert_id is None:
            return e
        return replace(e, series=_series(session, e.alert_id, e.opened_ts - margin_ms, e.end_ts + margin_ms))
    assert e.alert_id is not None
    return replace(e, series=_series(session, e.alert_id, e.opened_ts - margin_ms, e.end_ts + margin_ms),
                   history=alert_history(session, e.alert_id))


def workers_present(session: Session, alert_id: int) -> list[tuple[int, str]]:
    """(worker_id, via) of the workers present during the alert, from the roster as it is now: in its zone, or
    wearing its sensor."""
    al = session.get(Alert, alert_id)
    if al is None:
        return []
    a, b = al.opened_ts, max(alert_end(al), al.opened_ts + 1)
    zone_ids = set(session.execute(select(ZoneSensor.zone_id).where(
        ZoneSensor.sensor_id == al.sensor_id, ZoneSensor.start_ms < b,
        or_(ZoneSensor.end_ms.is_(None), ZoneSensor.end_ms > a))).scalars())
    found: dict[int, str] = {}
    if zone_ids:
        for w in session.execute(select(Assignment.worker_id).where(
                Assignment.zone_id.in_(zone_ids), Assignment.start_ms < b, Assignment.end_ms > a)).scalars():
            found.setdefault(w, "zone")
    for w in session.execute(select(PersonalSensorAssignment.worker_id).where(
            PersonalSensorAssignment.sensor_id == al.sensor_id, PersonalSensorAssignment.start_ms < b,
            PersonalSensorAssignment.end_ms > a)).scalars():
        found.setdefault(w, "personal")
    return sorted(found.items())
