"""Who was where, when: the one place that reads assignments (a worker in a zone for an interval), the sensors
measuring each zone, and personal sensors (a worker wearing a sensor for an interval).

Every interval is half-open [start, end) in ms since the epoch; "overlapping [a, b)" means start < b and end > a.
A zone sensor with no end still measures the zone. Alerts, emergency plans, exposure records and the health file
all ask here, so a change of what "present" means is made once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.org.models import Assignment, PersonalSensorAssignment, Worker, Zone, ZoneSensor
from server.series.models import Sensor


@dataclass(frozen=True)
class Presence:
    """A worker present for [start_ms, end_ms): in `zone` (via "zone") or wearing a sensor (via "personal")."""

    worker_id: int
    via: str
    zone: str | None
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Wearing:
    """A worker wearing a personal sensor for [start_ms, end_ms)."""

    worker_id: int
    employee_no: str
    sensor_id: int
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Rostered:
    """A worker assigned to a zone for [start_ms, end_ms)."""

    worker_id: int
    employee_no: str
    name: str
    start_ms: int
    end_ms: int


def _measuring(a: int, b: int):  # type: ignore[no-untyped-def]
    return ZoneSensor.start_ms < b, or_(ZoneSensor.end_ms.is_(None), ZoneSensor.end_ms > a)


# -- sensors and zones ------------------------------------------------------------------------------------------


def zone_sensor_names_now(session: Session, zone_code: str) -> frozenset[str]:
    """The names of the sensors measuring a zone (by code) now (no end)."""
    return frozenset(session.execute(
        select(Sensor.name).join(ZoneSensor, ZoneSensor.sensor_id == Sensor.id)
        .join(Zone, Zone.id == ZoneSensor.zone_id).where(Zone.code == zone_code, ZoneSensor.end_ms.is_(None))
    ).scalars())


def zone_now_of_sensors(session: Session, sensor_ids: Iterable[int]) -> dict[int, str]:
    """The zone code each sensor measures now."""
    rows = session.execute(
        select(ZoneSensor.sensor_id, Zone.code).join(Zone, Zone.id == ZoneSensor.zone_id)
        .where(ZoneSensor.sensor_id.in_(set(sensor_ids)), ZoneSensor.end_ms.is_(None))
    ).all()
    return {sid: code for sid, code in rows}


def zones_of_sensor(session: Session, sensor_id: int, a: int, b: int) -> dict[int, str]:
    """zone id -> code of the zones the sensor measured at some time in [a, b)."""
    return dict(session.execute(
        select(ZoneSensor.zone_id, Zone.code).join(Zone, Zone.id == ZoneSensor.zone_id)
        .where(ZoneSensor.sensor_id == sensor_id, *_measuring(a, b))
    ).all())


def zone_sensor_ids(session: Session, zone_ids: int | Iterable[int], a: int, b: int) -> list[int]:
    """The sensors measuring the zone(s) at some time in [a, b)."""
    ids = {zone_ids} if isinstance(zone_ids, int) else set(zone_ids)
    return sorted(set(session.execute(
        select(ZoneSensor.sensor_id).where(ZoneSensor.zone_id.in_(ids), *_measuring(a, b))).scalars()))


def zones_measured_by(session: Session, sensor_ids: Iterable[int], a: int, b: int) -> set[int]:
    """The zones any of the sensors measured at some time in [a, b)."""
    return set(session.execute(select(ZoneSensor.zone_id).where(
        ZoneSensor.sensor_id.in_(set(sensor_ids)), *_measuring(a, b))).scalars())


# -- people -----------------------------------------------------------------------------------------------------


def present_with_sensor(session: Session, sensor_id: int, a: int, b: int) -> list[Presence]:
    """Everyone exposed to the sensor's series at some time in [a, b): assigned to a zone it measured, or wearing
    it. Each presence is clipped to start no earlier than `a`."""
    out: list[Presence] = []
    codes = zones_of_sensor(session, sensor_id, a, b)
    if codes:
        for asg in session.execute(select(Assignment).where(
                Assignment.zone_id.in_(list(codes)), Assignment.start_ms < b, Assignment.end_ms > a)).scalars():
            out.append(Presence(asg.worker_id, "zone", codes[asg.zone_id], max(asg.start_ms, a), asg.end_ms))
    for p in session.execute(select(PersonalSensorAssignment).where(
            PersonalSensorAssignment.sensor_id == sensor_id, PersonalSensorAssignment.start_ms < b,
            PersonalSensorAssignment.end_ms > a)).scalars():
        out.append(Presence(p.worker_id, "personal", None, max(p.start_ms, a), p.end_ms))
    return out


def rostered_in_zone(session: Session, zone_code: str, at_ms: int) -> list[Rostered]:
    """The workers whose assignment in the zone (by code) covers `at_ms`."""
    if not zone_code:
        return []
    rows = session.execute(
        select(Worker.id, Worker.employee_no, Worker.name, Assignment.start_ms, Assignment.end_ms)
        .join(Assignment, Assignment.worker_id == Worker.id).join(Zone, Zone.id == Assignment.zone_id)
        .where(Zone.code == zone_code, Assignment.start_ms <= at_ms, Assignment.end_ms > at_ms)
        .order_by(Worker.employee_no)
    ).all()
    return [Rostered(*r) for r in rows]


def workers_in_zones(session: Session, zone_ids: Iterable[int], a: int, b: int) -> set[int]:
    """The workers assigned to any of the zones at some time in [a, b)."""
    return set(session.execute(select(Assignment.worker_id).where(
        Assignment.zone_id.in_(set(zone_ids)), Assignment.start_ms < b, Assignment.end_ms > a)).scalars())


def worker_ids_by_employee_no(session: Session, employee_nos: Iterable[str]) -> list[int]:
    return list(session.execute(select(Worker.id).where(Worker.employee_no.in_(set(employee_nos)))).scalars())


def employee_no(session: Session, worker_id: int) -> str | None:
    return session.execute(select(Worker.employee_no).where(Worker.id == worker_id)).scalar()


def wearing(session: Session, *, sensor_ids: Iterable[int] | None = None, worker_ids: Iterable[int] | None = None,
            a: int, b: int) -> list[Wearing]:
    """Personal sensors worn at some time in [a, b) (by sensor or by worker), oldest first."""
    q = select(PersonalSensorAssignment, Worker.employee_no).join(
        Worker, Worker.id == PersonalSensorAssignment.worker_id).where(
        PersonalSensorAssignment.start_ms < b, PersonalSensorAssignment.end_ms > a)
    if sensor_ids is not None:
        q = q.where(PersonalSensorAssignment.sensor_id.in_(set(sensor_ids)))
    if worker_ids is not None:
        q = q.where(PersonalSensorAssignment.worker_id.in_(set(worker_ids)))
    return [Wearing(p.worker_id, emp, p.sensor_id, p.start_ms, p.end_ms)
            for p, emp in session.execute(q.order_by(PersonalSensorAssignment.start_ms)).all()]


def worker_presences(session: Session, worker_id: int) -> list[tuple[Assignment | PersonalSensorAssignment, str]]:
    """Every assignment ("zone") and personal sensor ("personal") of a worker."""
    out: list[tuple[Assignment | PersonalSensorAssignment, str]] = [
        (a, "zone") for a in session.execute(select(Assignment).where(Assignment.worker_id == worker_id)).scalars()]
    out += [(p, "personal") for p in session.execute(
        select(PersonalSensorAssignment).where(PersonalSensorAssignment.worker_id == worker_id)).scalars()]
    return out


# -- shifts -----------------------------------------------------------------------------------------------------


def shifts_of_workers(session: Session, worker_ids: Iterable[int], lo: int,
                      hi: int) -> dict[int, list[tuple[int, int]]]:
    """worker id -> the rostered shifts (start, end) overlapping [lo, hi]."""
    out: dict[int, list[tuple[int, int]]] = {}
    for wid, a, b in session.execute(
        select(Assignment.worker_id, Assignment.shift_start_ms, Assignment.shift_end_ms).where(
            Assignment.worker_id.in_(set(worker_ids)), Assignment.shift_start_ms <= hi, Assignment.shift_end_ms > lo)
    ).all():
        out.setdefault(wid, []).append((a, b))
    return out


def shifts_in_zones(session: Session, zone_codes: Iterable[str], lo: int, hi: int) -> dict[str, list[tuple[int, int]]]:
    """zone code -> the rostered shifts (start, end) of its assignments overlapping [lo, hi]."""
    out: dict[str, list[tuple[int, int]]] = {}
    for code, a, b in session.execute(
        select(Zone.code, Assignment.shift_start_ms, Assignment.shift_end_ms)
        .join(Zone, Zone.id == Assignment.zone_id)
        .where(Zone.code.in_(set(zone_codes)), Assignment.shift_start_ms <= hi, Assignment.shift_end_ms > lo)
    ).all():
        out.setdefault(code, []).append((a, b))
    return out


def shift_assignments(session: Session, worker_id: int, shift_start_ms: int, shift_end_ms: int) -> list[Assignment]:
    """The worker's assignments belonging to one rostered shift."""
    return list(session.execute(select(Assignment).where(
        Assignment.worker_id == worker_id, Assignment.shift_start_ms == shift_start_ms,
        Assignment.shift_end_ms == shift_end_ms)).scalars())


def shifts_touching(session: Session, *, zone_ids: Iterable[int], worker_ids: Iterable[int], since_ms: int,
                    until_ms: int) -> set[tuple[int, int, int]]:
    """(worker id, shift start, shift end) of the shifts overlapping [since, until] in those zones or of those
    workers."""
    zones, workers = set(zone_ids), set(worker_ids)
    if not zones and not workers:
        return set()
    cond = []
    if zones:
        cond.append(Assignment.zone_id.in_(zones))
    if workers:
        cond.append(Assignment.worker_id.in_(workers))
    return {(w, a, b) for w, a, b in session.execute(
        select(Assignment.worker_id, Assignment.shift_start_ms, Assignment.shift_end_ms).where(
            or_(*cond), Assignment.shift_start_ms <= until_ms, Assignment.shift_end_ms > since_ms)).all()}
