"""Zones, posts, hazards, zone sensors, shift patterns, assignments, personal sensors and roster import."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import select

from exposure.catalogue import load_catalogue
from exposure.quantities import QUANTITIES
from server.accounts.access import AccessDep
from server.csv_import import csv_text
from server.events import ShiftsChanged
from server.org.models import Assignment, Hazard, PersonalSensorAssignment, Post, ShiftPattern, Worker, Zone, ZoneSensor
from server.org.roster_import import import_roster, overlaps
from server.org.schemas import (
    AssignmentIn,
    AssignmentOut,
    EndIn,
    HazardIn,
    HazardOut,
    PersonalSensorIn,
    PersonalSensorOut,
    PostIn,
    RosterError,
    RosterReport,
    ShiftPatternIn,
    ZoneCreate,
    ZoneOut,
    ZoneSensorIn,
    ZoneSensorOut,
    assignment_out,
)
from server.series.models import Sensor

router = APIRouter(tags=["health: organisation"])
MAX_ROSTER = 8 * 1024 * 1024


def _zone(acc: AccessDep, code_or_id: str) -> Zone:
    s = acc.session
    z = s.execute(select(Zone).where(Zone.code == code_or_id)).scalar_one_or_none()
    if z is None and code_or_id.isdigit():
        z = s.get(Zone, int(code_or_id))
    if z is None:
        raise HTTPException(404, f"no zone {code_or_id!r}")
    return z


def zone_out(acc: AccessDep, z: Zone) -> ZoneOut:
    s = acc.session
    posts = {p.id: p for p in s.execute(select(Post).where(Post.zone_id == z.id).order_by(Post.code)).scalars()}
    hazards = s.execute(select(Hazard).where(Hazard.zone_id == z.id).order_by(Hazard.substance, Hazard.id)).scalars()
    sensors = s.execute(select(ZoneSensor, Sensor.site, Sensor.name).join(Sensor, Sensor.id == ZoneSensor.sensor_id)
                        .where(ZoneSensor.zone_id == z.id).order_by(ZoneSensor.id)).all()
    return ZoneOut(id=z.id, code=z.code, name=z.name, site=z.site,
                   posts=[PostIn(code=p.code, name=p.name) for p in posts.values()],
                   hazards=[HazardOut(substance=h.substance, quantity=h.quantity,
                                      post=posts[h.post_id].code if h.post_id in posts else None, variant=h.variant,
                                      ppe=h.ppe)
                            for h in hazards],
                   sensors=[ZoneSensorOut(sensor_id=zs.sensor_id, sensor=f"{site}/{name}", start_ms=zs.start_ms,
                                          end_ms=zs.end_ms) for zs, site, name in sensors])


def _sensor_id(acc: AccessDep, name: str, site: str | None) -> int:
    q = select(Sensor.id).where(Sensor.name == name)
    if site:
        q = q.where(Sensor.site == site)
    ids = acc.session.execute(q).scalars().all()
    if len(ids) != 1:
        raise HTTPException(404 if not ids else 409, f"sensor {name!r}: {len(ids)} found (name the site)")
    return ids[0]


@router.get("/zones", summary="Zones with their posts, hazards and sensors")
def list_zones(acc: AccessDep) -> list[ZoneOut]:
    acc.require("org.read", "zones")
    return [zone_out(acc, z) for z in acc.session.execute(select(Zone).order_by(Zone.code)).scalars()]


@router.post("/zones", status_code=201, summary="Create a zone")
def create_zone(acc: AccessDep, body: ZoneCreate) -> ZoneOut:
    acc.require("org.write", "zones")
    if acc.session.execute(select(Zone.id).where(Zone.code == body.code)).first():
        raise HTTPException(409, f"zone {body.code!r} exists")
    z = Zone(code=body.code, name=body.name, site=body.site)
    acc.session.add(z)
    acc.session.flush()
    acc.record("zone.create", f"zone:{z.id}")
    acc.session.commit()
    return zone_out(acc, z)


@router.get("/zones/{zone}", summary="One zone")
def get_zone(acc: AccessDep, zone: str) -> ZoneOut:
    acc.require("org.read", f"zone:{zone}")
    return zone_out(acc, _zone(acc, zone))


@router.post("/zones/{zone}/posts", status_code=201, summary="Add a post to a zone")
def add_post(acc: AccessDep, zone: str, body: PostIn) -> ZoneOut:
    acc.require("org.write", f"zone:{zone}")
    z = _zone(acc, zone)
    acc.session.add(Post(zone_id=z.id, code=body.code, name=body.name))
    acc.record("zone.post_add", f"zone:{z.id}")
    acc.session.commit()
    return zone_out(acc, z)


@router.post("/zones/{zone}/hazards", status_code=201,
             summary="Declare a hazard present in a zone or at a post (again: update its variant and required PPE)")
def add_hazard(acc: AccessDep, zone: str, body: HazardIn) -> ZoneOut:
    acc.require("org.write", f"zone:{zone}")
    z = _zone(acc, zone)
    cat = load_catalogue()
    if body.substance not in cat.substances:
        raise HTTPException(422, f"unknown substance {body.substance!r}")
    quantity = body.quantity or cat.substances[body.substance].quantity
    if quantity is None or quantity not in QUANTITIES:
        raise HTTPException(422, f"name the reading quantity that measures {body.substance!r}")
    if body.variant is not None and body.variant not in cat.variants_of(body.substance):
        known = ", ".join(cat.variants_of(body.substance)) or "none"
        raise HTTPException(422, f"{body.variant!r} is not a limit variant of {body.substance!r} (known: {known})")
    post_id = None
    if body.post:
        q = select(Post).where(Post.zone_id == z.id, Post.code == body.post)
        post = acc.session.execute(q).scalar_one_or_none()
        if post is None:
            raise HTTPException(404, f"no post {body.post!r} in zone {z.code!r}")
        post_id = post.id
    ppe = " ".join(body.ppe.split()) if body.ppe else None
    same = acc.session.execute(select(Hazard).where(
        Hazard.zone_id == z.id, Hazard.post_id.is_(None) if post_id is None else Hazard.post_id == post_id,
        Hazard.substance == body.substance, Hazard.quantity == quantity)).scalars().first()
    if same is not None:  # declared again: its variant and required PPE are updated, never a second row
        same.variant, same.ppe = body.variant, ppe or None
        acc.record("zone.hazard_update", f"zone:{z.id}")
    else:
        acc.session.add(Hazard(zone_id=z.id, post_id=post_id, substance=body.substance, quantity=quantity,
                               variant=body.variant, ppe=ppe or None))
        acc.record("zone.hazard_add", f"zone:{z.id}")
    acc.session.commit()
    return zone_out(acc, z)


@router.post("/zones/{zone}/sensors", status_code=201, summary="A sensor measures the zone from start_ms")
def add_zone_sensor(acc: AccessDep, zone: str, body: ZoneSensorIn) -> ZoneOut:
    acc.require("org.write", f"zone:{zone}")
    z = _zone(acc, zone)
    acc.session.add(ZoneSensor(zone_id=z.id, sensor_id=_sensor_id(acc, body.sensor, body.site),
                               start_ms=body.start_ms, end_ms=body.end_ms))
    acc.record("zone.sensor_add", f"zone:{z.id}")
    acc.session.commit()
    return zone_out(acc, z)


@router.get("/shift-patterns", summary="Shift patterns")
def list_patterns(acc: AccessDep) -> list[ShiftPatternIn]:
    acc.require("org.read", "shift-patterns")
    rows = acc.session.execute(select(ShiftPattern).order_by(ShiftPattern.code)).scalars()
    return [ShiftPatternIn(code=p.code, start=p.start, hours=p.hours) for p in rows]


@router.post("/shift-patterns", status_code=201, summary="Create a shift pattern")
def create_pattern(acc: AccessDep, body: ShiftPatternIn) -> ShiftPatternIn:
    acc.require("roster.write", "shift-patterns")
    if acc.session.execute(select(ShiftPattern.id).where(ShiftPattern.code == body.code)).first():
        raise HTTPException(409, f"shift pattern {body.code!r} exists")
    acc.session.add(ShiftPattern(code=body.code, start=body.start, hours=body.hours))
    acc.record("shift_pattern.create", f"shift-pattern:{body.code}")
    acc.session.commit()
    return body


@router.get("/assignments", summary="Assignments (presence of workers in zones), filtered")
def list_assignments(
    acc: AccessDep,
    worker_id: int | None = None,
    zone: str | None = None,
    since: Annotated[int | None, Query(description="ms; assignments ending after")] = None,
    until: Annotated[int | None, Query(description="ms; assignments starting before")] = None,
) -> list[AssignmentOut]:
    acc.require("roster.read", f"worker:{worker_id}" if worker_id else "assignments")
    q = select(Assignment)
    if worker_id is not None:
        q = q.where(Assignment.worker_id == worker_id)
    if zone is not None:
        q = q.where(Assignment.zone_id == _zone(acc, zone).id)
    if since is not None:
        q = q.where(Assignment.end_ms > since)
    if until is not None:
        q = q.where(Assignment.start_ms < until)
    rows = [assignment_out(acc.session, a) for a in acc.session.execute(
        q.order_by(Assignment.start_ms, Assignment.id)).scalars()]
    acc.record("roster.read", f"worker:{worker_id}" if worker_id else "assignments", f"n={len(rows)}")
    acc.session.commit()
    return rows


@router.post("/assignments", status_code=201, summary="Assign a worker to a zone (and post) for an interval")
def create_assignment(acc: AccessDep, body: AssignmentIn) -> AssignmentOut:
    acc.require("roster.write", f"worker:{body.worker_id}")
    s = acc.session
    if s.get(Worker, body.worker_id) is None:
        raise HTTPException(404, f"no worker {body.worker_id}")
    z = _zone(acc, body.zone)
    post_id = None
    if body.post:
        post = s.execute(select(Post).where(Post.zone_id == z.id, Post.code == body.post)).scalar_one_or_none()
        if post is None:
            raise HTTPException(404, f"no post {body.post!r} in zone {z.code!r}")
        post_id = post.id
    sa_, sb = body.shift_start_ms or body.start_ms, body.shift_end_ms or body.end_ms
    if not (sa_ <= body.start_ms < body.end_ms <= sb):
        raise HTTPException(422, "the assignment must end after it starts and lie inside its shift")
    if overlaps(s, body.worker_id, body.start_ms, body.end_ms):
        raise HTTPException(409, "overlaps an assignment already stored for this worker")
    a = Assignment(worker_id=body.worker_id, zone_id=z.id, post_id=post_id, start_ms=body.start_ms,
                   end_ms=body.end_ms, shift_start_ms=sa_, shift_end_ms=sb, source="api")
    s.add(a)
    s.flush()
    acc.services.events.publish(s, ShiftsChanged(((a.worker_id, sa_, sb),), acc.now_ms))
    acc.record("roster.write", f"worker:{a.worker_id}", f"assignment={a.id}")
    s.commit()
    return assignment_out(s, a)


@router.post("/assignments/{assignment_id}/end", summary="End an assignment earlier than stored")
def end_assignment(acc: AccessDep, assignment_id: int, body: EndIn) -> AssignmentOut:
    s = acc.session
    a = s.get(Assignment, assignment_id)
    acc.require("roster.write", f"worker:{a.worker_id}" if a else f"assignment:{assignment_id}")
    if a is None:
        raise HTTPException(404, f"no assignment {assignment_id}")
    if not (a.start_ms < body.end_ms <= a.end_ms):
        raise HTTPException(422, "the new end must be after the assignment's start and not after its stored end")
    a.end_ms = body.end_ms
    acc.services.events.publish(s, ShiftsChanged(((a.worker_id, a.shift_start_ms, a.shift_end_ms),), acc.now_ms))
    acc.record("roster.write", f"worker:{a.worker_id}", f"assignment={a.id} end")
    s.commit()
    return assignment_out(s, a)


@router.post("/rosters/import", summary="Import a shift roster (CSV body) with a row-by-row error report")
async def roster_import(
    request: Request, acc: AccessDep, mode: Annotated[Literal["atomic", "partial"], Query()] = "atomic"
) -> RosterReport:
    acc.require("roster.write", "rosters")
    text = await csv_text(request, limit=MAX_ROSTER, what="roster")
    report = import_roster(acc.session, text, acc.config, mode=mode, source=f"roster:{acc.now_ms}",
                           now_ms=acc.now_ms, events=acc.services.events)
    acc.record("roster.import", "rosters", f"rows={report.rows} imported={report.imported} "
                                           f"errors={len(report.errors)}")
    acc.session.commit()
    return RosterReport(rows=report.rows, imported=report.imported,
                        errors=[RosterError(line=e.line, field=e.field, reason=e.reason) for e in report.errors])


@router.get("/personal-sensors", summary="Personal sensors worn by workers")
def list_personal(acc: AccessDep, worker_id: int | None = None) -> list[PersonalSensorOut]:
    acc.require("roster.read", f"worker:{worker_id}" if worker_id else "personal-sensors")
    q = select(PersonalSensorAssignment, Sensor.site, Sensor.name).join(
        Sensor, Sensor.id == PersonalSensorAssignment.sensor_id)
    if worker_id is not None:
        q = q.where(PersonalSensorAssignment.worker_id == worker_id)
    rows = acc.session.execute(q.order_by(PersonalSensorAssignment.start_ms)).all()
    acc.record("roster.read", f"worker:{worker_id}" if worker_id else "personal-sensors")
    acc.session.commit()
    return [PersonalSensorOut(id=p.id, worker_id=p.worker_id, sensor=f"{site}/{name}", start_ms=p.start_ms,
                              end_ms=p.end_ms) for p, site, name in rows]


@router.post("/personal-sensors", status_code=201, summary="A worker wears a personal sensor for an interval")
def create_personal(acc: AccessDep, body: PersonalSensorIn) -> PersonalSensorOut:
    acc.require("roster.write", f"worker:{body.worker_id}")
    s = acc.session
    if s.get(Worker, body.worker_id) is None:
        raise HTTPException(404, f"no worker {body.worker_id}")
    if body.end_ms <= body.start_ms:
        raise HTTPException(422, "the interval must end after it starts")
    sid = _sensor_id(acc, body.sensor, body.site)
    p = PersonalSensorAssignment(worker_id=body.worker_id, sensor_id=sid, start_ms=body.start_ms, end_ms=body.end_ms)
    s.add(p)
    s.flush()
    shifts = s.execute(select(Assignment.worker_id, Assignment.shift_start_ms, Assignment.shift_end_ms).where(
        Assignment.worker_id == body.worker_id, Assignment.shift_start_ms < body.end_ms,
        Assignment.shift_end_ms > body.start_ms)).all()
    acc.services.events.publish(s, ShiftsChanged(tuple(sorted({tuple(r) for r in shifts})), acc.now_ms))
    acc.record("roster.write", f"worker:{body.worker_id}", f"personal_sensor={p.id}")
    s.commit()
    sensor = s.get(Sensor, sid)
    assert sensor is not None
    return PersonalSensorOut(id=p.id, worker_id=p.worker_id, sensor=f"{sensor.site}/{sensor.name}",
                             start_ms=p.start_ms, end_ms=p.end_ms)


@router.post("/personal-sensors/{personal_id}/return", summary="A personal sensor handed back before its stored end")
def return_personal(acc: AccessDep, personal_id: int, body: EndIn) -> PersonalSensorOut:
    s = acc.session
    p = s.get(PersonalSensorAssignment, personal_id)
    acc.require("roster.write", f"worker:{p.worker_id}" if p else f"personal-sensor:{personal_id}")
    if p is None:
        raise HTTPException(404, f"no personal sensor hand-out {personal_id}")
    if not (p.start_ms < body.end_ms <= p.end_ms):
        raise HTTPException(422, "the return must be after the hand-out and not after the end already stored")
    old_end, p.end_ms = p.end_ms, body.end_ms
    shifts = s.execute(select(Assignment.worker_id, Assignment.shift_start_ms, Assignment.shift_end_ms).where(
        Assignment.worker_id == p.worker_id, Assignment.shift_start_ms < old_end,
        Assignment.shift_end_ms > p.start_ms)).all()
    changed = sorted({(w, a, b) for w, a, b in shifts})
    acc.services.events.publish(s, ShiftsChanged(tuple(changed), acc.now_ms))
    acc.record("roster.write", f"worker:{p.worker_id}", f"personal_sensor={p.id} return")
    s.commit()
    sensor = s.get(Sensor, p.sensor_id)
    assert sensor is not None
    return PersonalSensorOut(id=p.id, worker_id=p.worker_id, sensor=f"{sensor.site}/{sensor.name}",
                             start_ms=p.start_ms, end_ms=p.end_ms)
