"""Who and what a batch's readings are about, for the rules that apply: the sites and zones of its sensors,
the sensors of each rule's zone, the workers wearing personal sensors, and the rostered shifts of TWA and dose
rules. Read once per batch from server.org.presence ("who was where, when")."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.alerts.metrics import SHIFT_METRICS
from server.alerts.rules import Rule
from server.org import presence as where
from server.series.models import Sensor


@dataclass
class Subjects:
    sites: dict[int, str] = field(default_factory=dict)
    sensor_zones: dict[int, str] = field(default_factory=dict)  # sensor id -> the zone it measures now
    zone_sensors: dict[str, frozenset[str]] = field(default_factory=dict)  # rule zone -> sensor names
    wearers: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)  # sensor -> (start, end, worker)
    worn: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)  # worker -> (start, end, sensor)
    employee_no: dict[int, str] = field(default_factory=dict)
    worker_shifts: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    zone_shifts: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def wearer(self, sensor_id: int, ts: int) -> int | None:
        return next((w for a, b, w in self.wearers.get(sensor_id, ()) if a <= ts < b), None)

    @staticmethod
    def shift(shifts: list[tuple[int, int]], ts: int) -> tuple[int, int] | None:
        """The rostered shift covering ts (the latest-starting one when several do)."""
        return max(((a, b) for a, b in shifts if a <= ts < b), default=None)


def subjects_of(session: Session, sensor_ids: set[int], lo: int, hi: int, rules: list[Rule]) -> Subjects:
    out = Subjects()
    out.sites = dict(session.execute(select(Sensor.id, Sensor.site).where(Sensor.id.in_(sensor_ids))).all())
    out.sensor_zones = where.zone_now_of_sensors(session, sensor_ids)
    for rule in rules:
        if rule.zone is not None and rule.zone not in out.zone_sensors:
            out.zone_sensors[rule.zone] = where.zone_sensor_names_now(session, rule.zone)
    if any(r.workers is not None for r in rules):
        worn_now = {w.worker_id for w in where.wearing(session, sensor_ids=sensor_ids, a=lo, b=hi + 1)}
        for w in where.wearing(session, worker_ids=worn_now, a=lo, b=hi + 1):
            out.wearers.setdefault(w.sensor_id, []).append((w.start_ms, w.end_ms, w.worker_id))
            out.worn.setdefault(w.worker_id, []).append((w.start_ms, w.end_ms, w.sensor_id))
            out.employee_no[w.worker_id] = w.employee_no
    if out.employee_no and any(r.workers is not None and r.metric in SHIFT_METRICS for r in rules):
        out.worker_shifts = where.shifts_of_workers(session, out.employee_no, lo, hi)
    codes = {r.zone for r in rules if r.zone is not None and r.metric in SHIFT_METRICS}
    if codes:
        out.zone_shifts = where.shifts_in_zones(session, codes, lo, hi)
    return out
