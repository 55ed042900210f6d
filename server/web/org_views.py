"""What the organisation pages show: the zones grouped by site with their posts and declared hazards, the
catalogue's substances a hazard may name (with their limit variants: a silica dust's free-SiO2 classes), the
shift patterns, a week of assignments as a calendar grid (workers down, days across) and the personal sensors
handed out. Times are strings in the site's time zone (server/web/local_time.py). Frozen records for templates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from exposure.catalogue import load_catalogue
from server.org.models import Assignment, PersonalSensorAssignment, Post, Worker, Zone
from server.series.models import Sensor
from server.web.local_time import day_start, local, picker, stamp


@dataclass(frozen=True)
class SubstanceChoice:
    id: str
    name: str
    quantity: str | None
    variants: tuple[str, ...]


def substances() -> tuple[SubstanceChoice, ...]:
    cat = load_catalogue()
    return tuple(SubstanceChoice(s.id, s.name_en, s.quantity, cat.variants_of(s.id))
                 for s in sorted(cat.substances.values(), key=lambda s: s.name_en.lower()))


#: what a variant means, for the form's labels (the catalogue's ids are terse)
VARIANT_LABELS = {
    "sio2-10-50pct": "free SiO2 10–50 %",
    "sio2-50-80pct": "free SiO2 50–80 %",
    "sio2-above-80pct": "free SiO2 above 80 %",
}


@dataclass(frozen=True)
class WorkerChoice:
    id: int
    employee_no: str
    name: str


def workers(session: Session) -> tuple[WorkerChoice, ...]:
    return tuple(WorkerChoice(w.id, w.employee_no, w.name)
                 for w in session.execute(select(Worker).order_by(Worker.employee_no)).scalars())


def sites(session: Session) -> tuple[str, ...]:
    return tuple(sorted({s for s in session.execute(select(Zone.site)).scalars()}))


@dataclass(frozen=True)
class Item:
    """One assignment in a day's cell."""

    id: int
    worker_id: int
    zone: str
    post: str
    start: str
    end: str
    next_day: bool
    source: str
    label: str


@dataclass(frozen=True)
class Row:
    worker: WorkerChoice
    cells: tuple[tuple[Item, ...], ...]


@dataclass(frozen=True)
class Week:
    monday: dt.date
    days: tuple[dt.date, ...]
    rows: tuple[Row, ...]
    items: tuple[Item, ...]
    zone: str
    worker: str

    @property
    def previous(self) -> dt.date:
        return self.monday - dt.timedelta(days=7)

    @property
    def next(self) -> dt.date:
        return self.monday + dt.timedelta(days=7)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week(session: Session, tz: ZoneInfo, *, monday: dt.date, zone: str = "", worker: str = "") -> Week:
    """The assignments starting in the local week from `monday`, in a cell per worker and start day."""
    days = tuple(monday + dt.timedelta(days=k) for k in range(7))
    a_ms, b_ms = day_start(days[0], tz), day_start(days[-1] + dt.timedelta(days=1), tz)
    zones = {z.id: z.code for z in session.execute(select(Zone)).scalars()}
    posts = {p.id: p.code for p in session.execute(select(Post)).scalars()}
    q = select(Assignment).where(Assignment.start_ms >= a_ms, Assignment.start_ms < b_ms)
    if zone:
        q = q.where(Assignment.zone_id.in_([k for k, v in zones.items() if v == zone]))
    people = {w.id: w for w in workers(session)}
    if worker:
        q = q.where(Assignment.worker_id.in_([w.id for w in people.values() if w.employee_no == worker]))
    grid: dict[int, list[list[Item]]] = {}
    items = []
    for a in session.execute(q.order_by(Assignment.start_ms, Assignment.id)).scalars():
        start, end = local(a.start_ms, tz), local(a.end_ms, tz)
        w = people[a.worker_id]
        it = Item(a.id, a.worker_id, zones.get(a.zone_id, "?"), posts.get(a.post_id or 0, ""), f"{start:%H:%M}",
                  f"{end:%H:%M}", end.date() > start.date(), a.source,
                  f"{w.employee_no} {start:%a %d %b %H:%M}–{end:%H:%M} {zones.get(a.zone_id, '?')}")
        items.append(it)
        grid.setdefault(a.worker_id, [[] for _ in days])[(start.date() - monday).days].append(it)
    rows = tuple(Row(people[wid], tuple(tuple(c) for c in cells))
                 for wid, cells in sorted(grid.items(), key=lambda kv: people[kv[0]].employee_no))
    return Week(monday, days, rows, tuple(items), zone, worker)


@dataclass(frozen=True)
class Handout:
    id: int
    employee_no: str
    name: str
    sensor: str
    start: str
    end: str
    end_picker: str
    out: bool


def handouts(session: Session, tz: ZoneInfo, *, now_ms: int, limit: int = 200) -> tuple[Handout, ...]:
    """The newest personal-sensor hand-outs; `out` while the stored end is still ahead."""
    q = (select(PersonalSensorAssignment, Worker.employee_no, Worker.name, Sensor.site, Sensor.name)
         .join(Worker, Worker.id == PersonalSensorAssignment.worker_id)
         .join(Sensor, Sensor.id == PersonalSensorAssignment.sensor_id)
         .order_by(PersonalSensorAssignment.start_ms.desc()).limit(limit))
    return tuple(Handout(p.id, no, name, f"{site}/{sensor}", stamp(p.start_ms, tz), stamp(p.end_ms, tz),
                         picker(min(p.end_ms, max(now_ms, p.start_ms + 60_000)), tz), p.end_ms > now_ms)
                 for p, no, name, site, sensor in session.execute(q).all())


def sensor_names(session: Session) -> tuple[str, ...]:
    return tuple(f"{site}/{name}" for site, name in
                 session.execute(select(Sensor.site, Sensor.name).order_by(Sensor.site, Sensor.name)).all())
