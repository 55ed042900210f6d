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

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import AuditEntry
from server.alerts.models import Alert
from server.events import IncidentMusterMark, IncidentRecords, IncidentStepState
from server.health.links import alert_end
from server.health.models import EventLink, EventLinkRun
from server.org import presence as where
from server.org.models import PersonalSensorAssignment, Zone
from server.series.models import ReadingRow, Sensor

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


StepState = IncidentStepState
OwnMuster = IncidentMusterMark


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


def events_for_worker(session: Session, worker_id: int, *, incidents: IncidentRecords, margin_ms: int,
                      evidence: bool = True,
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
            e = _incident_event(session, incidents, worker_id, ln)
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
    for row, via in where.worker_presences(session, worker_id):
        if isinstance(row, PersonalSensorAssignment):
            presences.append((via, None, [row.sensor_id], row.start_ms, row.end_ms))
        else:
            ids = where.zone_sensor_ids(session, row.zone_id, row.start_ms, row.end_ms)
            presences.append((via, row.zone_id, ids, row.start_ms, row.end_ms))
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


def _incident_event(session: Session, incidents: IncidentRecords, worker_id: int, ln: EventLink) -> LinkedEvent | None:
    facts = incidents.facts(session, ln.event_id, person_id=where.employee_no(session, worker_id))
    if facts is None:
        return None
    history = tuple(HistoryEntry(ev.ts_ms, ev.actor, ev.kind, ev.text) for ev in facts.timeline if ev.kind != "muster")
    own = facts.own_muster
    if own is not None and own.safe_ms is not None:  # the worker's own answer, without anyone else's name
        history = tuple(sorted((*history, HistoryEntry(own.safe_ms, own.marked_by or "?", "muster",
                                                       f"{'[DRILL] ' if facts.drill else ''}marked safe ({own.via})")),
                               key=lambda h: h.ts_ms))
    end = facts.closed_ms if facts.closed_ms is not None else max([facts.opened_ms,
                                                                   *(ev.ts_ms for ev in facts.timeline)])
    severity = unit = quantity = sensor = None
    if facts.alert_id is not None:
        al = session.get(Alert, facts.alert_id)
        if al is not None:
            severity, unit, quantity = al.severity, al.unit, al.quantity
            s = session.get(Sensor, al.sensor_id)
            sensor = f"{s.site}/{s.name}" if s else str(al.sensor_id)
    evidence = IncidentEvidence(
        facts.incident_id, facts.plan_id, facts.title, facts.drill, facts.site, facts.trigger, facts.alert_id,
        facts.opened_ms, facts.closed_ms, facts.steps, facts.muster_count, own)
    return LinkedEvent(
        facts.alert_id, f"plan:{facts.plan_id}", sensor, quantity, severity, facts.state, ln.zone or facts.zone or None,
        ln.via, facts.opened_ms, end, ln.present_from_ms, ln.present_until_ms, None, unit, None, None,
        history=history, kind="incident", incident_id=facts.incident_id, stored=True, incident=evidence)


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
    found: dict[int, str] = {}
    for p in where.present_with_sensor(session, al.sensor_id, al.opened_ts, max(alert_end(al), al.opened_ts + 1)):
        found.setdefault(p.worker_id, p.via)
    return sorted(found.items())
