"""Linkage: an alert in a zone is linked to the workers present there at the time (assigned to the zone, or
wearing the sensor that raised it), with its evidence: the series around the event and its history.

Links are resolved from the stored assignments, zone sensors and alerts whenever a file is read, so a roster
corrected later links the right people. The history is the alert's own transitions (opened, resolved) and every
audit entry whose target is the alert (`alert:<id>`: acknowledgements, escalations by the alerting code).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.db.models import Alert, AuditEntry, ReadingRow, Sensor
from server.health.models import Assignment, PersonalSensorAssignment, Zone, ZoneSensor

MAX_EVIDENCE_POINTS = 5000


@dataclass(frozen=True)
class HistoryEntry:
    ts_ms: int
    actor: str
    action: str


@dataclass(frozen=True)
class EvidencePoint:
    ts: int
    value: float
    flags: str


@dataclass(frozen=True)
class LinkedEvent:
    alert_id: int
    rule: str
    sensor: str
    quantity: str
    severity: str
    state: str
    zone_code: str | None
    via: str  # zone | personal
    opened_ts: int
    end_ts: int
    present_from_ms: int
    present_until_ms: int
    threshold: float
    unit: str
    trigger_value: float
    worst_value: float
    series: tuple[EvidencePoint, ...] = ()
    history: tuple[HistoryEntry, ...] = ()


def _end(a: Alert) -> int:
    return a.resolved_ts if a.resolved_ts is not None else max(a.last_ts, a.opened_ts)


def events_for_worker(session: Session, worker_id: int, *, margin_ms: int, evidence: bool = True,
                      since_ms: int | None = None, until_ms: int | None = None) -> list[LinkedEvent]:
    """Every alert that overlaps a time the worker was in the alert's zone or wore its sensor."""
    out: dict[int, LinkedEvent] = {}
    sensors = {s.id: f"{s.site}/{s.name}" for s in session.execute(select(Sensor)).scalars()}
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
            end = _end(al)
            if end < a:
                continue
            lo, hi = max(a, al.opened_ts), min(b, max(end, al.opened_ts + 1))
            prev = out.get(al.id)
            if prev is not None:
                lo, hi = min(lo, prev.present_from_ms), max(hi, prev.present_until_ms)
            out[al.id] = LinkedEvent(
                al.id, al.rule_id, sensors.get(al.sensor_id, str(al.sensor_id)), al.quantity, al.severity, al.state,
                zones.get(zone_id) if zone_id is not None else None, via, al.opened_ts, end, lo, hi, al.threshold,
                al.unit, al.trigger_value, al.worst_value)
    events = sorted(out.values(), key=lambda e: (e.opened_ts, e.alert_id))
    if not evidence:
        return events
    return [with_evidence(session, e, margin_ms=margin_ms) for e in events]


def with_evidence(session: Session, e: LinkedEvent, *, margin_ms: int) -> LinkedEvent:
    al = session.get(Alert, e.alert_id)
    assert al is not None
    rows = session.execute(select(ReadingRow.ts, ReadingRow.value, ReadingRow.flags).where(
        ReadingRow.sensor_id == al.sensor_id, ReadingRow.quantity == al.quantity,
        ReadingRow.ts >= e.opened_ts - margin_ms, ReadingRow.ts <= e.end_ts + margin_ms,
    ).order_by(ReadingRow.ts, ReadingRow.id).limit(MAX_EVIDENCE_POINTS)).all()
    history = [HistoryEntry(al.opened_ts, "system", "opened")]
    history += [HistoryEntry(h.ts_ms, h.actor, h.action) for h in session.execute(
        select(AuditEntry).where(AuditEntry.target == f"alert:{al.id}").order_by(AuditEntry.ts_ms, AuditEntry.id)
    ).scalars()]
    acked_ms = getattr(al, "acknowledged_ms", None)  # the alert lifecycle's columns, once its migration is in
    if acked_ms is not None:
        history.append(HistoryEntry(acked_ms, f"user:{getattr(al, 'acknowledged_by', None) or '?'}", "acknowledged"))
    if al.resolved_ts is not None:
        history.append(HistoryEntry(al.resolved_ts, "system", "resolved"))
    history.sort(key=lambda h: h.ts_ms)
    return LinkedEvent(**{**e.__dict__, "series": tuple(EvidencePoint(r.ts, r.value, r.flags) for r in rows),
                          "history": tuple(history)})


def workers_present(session: Session, alert_id: int) -> list[tuple[int, str]]:
    """(worker_id, via) of the workers present during the alert: in its zone, or wearing its sensor."""
    al = session.get(Alert, alert_id)
    if al is None:
        return []
    a, b = al.opened_ts, max(_end(al), al.opened_ts + 1)
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
