"""Exposure so far this shift, for the dashboard tiles and the zone page: the noise dose (%) and, for a declared
substance, the 8-h TWA as a percentage of its OEL, from the zone sensors' stored readings with exposure's own
formulas (exposure.segments.series_from_readings, exposure.noise.noise_dose, exposure.chemical.twa).

The shift is the zone's rostered one (the assignments that cover now, from the earliest start) or, with nobody
rostered, the last `DEFAULT_SHIFT_H` hours; `ShiftExposure.shift_src` says which."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from exposure import InvalidInput
from exposure.chemical import integral, twa_result
from exposure.noise import dose_criterion, dose_fraction_of, dose_result
from exposure.profiles import applicable_limit
from exposure.readings import Reading
from exposure.results import Coverage
from server.alerts.rules import RuleSet
from server.org.models import Assignment, Hazard, Zone, ZoneSensor
from server.series.models import Latest, ReadingRow, Sensor
from server.series.rows import row_to_reading, select_readings
from server.web.shift_totals import STEP_MS, ShiftTotals

DEFAULT_SHIFT_H = 8.0
NOISE = "noise"


@dataclass(frozen=True)
class ShiftExposure:
    sensor: str
    substance: str
    kind: Literal["dose", "twa"]
    percent: float | None  # dose %, or TWA as % of the OEL; None while the shift is being folded (pending)
    value: float | None  # the dose % again, or the TWA in `unit`
    unit: str
    limit: str  # what 100 % is
    since_ms: int
    shift_src: Literal["roster", "last hours"]

    @property
    def pending(self) -> bool:
        return self.percent is None


def shift_window(session: Session, zone_id: int, *, now_ms: int) -> tuple[int, Literal["roster", "last hours"]]:
    """Where this zone's shift started: the earliest start of the assignments covering now, else DEFAULT_SHIFT_H
    hours ago (rounded down to the folds' 30-s step)."""
    start = session.execute(select(func.min(Assignment.start_ms)).where(
        Assignment.zone_id == zone_id, Assignment.start_ms <= now_ms, Assignment.end_ms > now_ms)).scalar()
    if start is not None:
        return int(start), "roster"
    # on a step of the folds' grid, so that consecutive refreshes ask for the same shift
    return (now_ms - round(DEFAULT_SHIFT_H * 3_600_000)) // STEP_MS * STEP_MS, "last hours"


def _criterion(rules: RuleSet, quantity: str) -> str:
    for rule in rules.rules:
        if rule.quantity == quantity and rule.metric in ("dose", "projected_dose") and rule.criterion:
            return str(rule.criterion)
    return "osha-pel"


@dataclass(frozen=True)
class _Stored:
    """A sensor's stored readings of one quantity (shift_totals.Source)."""

    sensor_id: int
    sensor: str
    quantity: str

    def _where(self, from_ms: int, to_ms: int) -> tuple[ColumnElement[bool], ...]:
        return (ReadingRow.sensor_id == self.sensor_id, ReadingRow.quantity == self.quantity,
                ReadingRow.ts >= from_ms, ReadingRow.ts <= to_ms)

    def readings(self, session: Session, from_ms: int, to_ms: int) -> list[Reading]:
        rows = session.execute(select_readings().where(*self._where(from_ms, to_ms)).order_by(ReadingRow.ts))
        return [row_to_reading(r, sensor=self.sensor) for r in rows]

    def count(self, session: Session, from_ms: int, to_ms: int) -> int:
        return int(session.execute(select(func.count()).select_from(ReadingRow)
                                   .where(*self._where(from_ms, to_ms))).scalar_one())


def sensor_exposure(session: Session, rules: RuleSet, totals: ShiftTotals, *, sensor_id: int, sensor: str,
                    substance: str, quantity: str, variant: str | None, profile: str, since_ms: int, now_ms: int,
                    shift_src: Literal["roster", "last hours"]) -> ShiftExposure | None:
    """The sensor's exposure to the substance over [since_ms, now_ms), or None without readings, a limit or a
    unit the limit can be expressed in. The sums come from `totals` (the settled part folded once)."""
    if now_ms <= since_ms:
        return None
    source = _Stored(sensor_id, sensor, quantity)
    try:
        if substance == NOISE:
            c = dose_criterion(_criterion(rules, quantity))
            t = totals.totals(session, (sensor_id, quantity, "dose", c.name), sensor_id=sensor_id,
                              since_ms=since_ms, now_ms=now_ms, source=source,
                              per_segments=lambda segs: dose_fraction_of(segs, c))
            if t is not None and t.pending:
                return ShiftExposure(sensor, substance, "dose", None, None, "%", "", since_ms, shift_src)
            if t is None or t.covered_ms <= 0:
                return None
            since = since_ms if t.since_ms is None else t.since_ms
            dose = dose_result(Coverage(since, now_ms, t.covered_ms / 1000.0), t.total, c,
                               shift_h=DEFAULT_SHIFT_H)
            return ShiftExposure(sensor, substance, "dose", dose.dose_percent, dose.dose_percent, "%",
                                 f"100 % dose ({dose.criterion})", since, shift_src)
        limit = applicable_limit(substance, profile, "twa", variant=variant)
        if limit is None:
            return None
        t = totals.totals(session, (sensor_id, quantity, "integral"), sensor_id=sensor_id, since_ms=since_ms,
                          now_ms=now_ms, source=source, per_segments=integral)
        if t is not None and t.pending:
            return ShiftExposure(sensor, substance, "twa", None, None, "", "", since_ms, shift_src)
        if t is None or t.covered_ms <= 0:
            return None
        since_ms = since_ms if t.since_ms is None else t.since_ms
        result = twa_result(t.total, Coverage(since_ms, now_ms, t.covered_ms / 1000.0), t.unit, limit=limit)
    except InvalidInput:
        return None
    if result.ratio is None or result.limit is None:
        return None
    return ShiftExposure(sensor, substance, "twa", 100.0 * result.ratio, result.twa, t.unit,
                         f"OEL {result.limit.value:g} {result.limit.unit}", since_ms, shift_src)


def zone_exposure(session: Session, rules: RuleSet, totals: ShiftTotals, *, zone_id: int,
                  sensors: Iterable[tuple[int, str, str]],
                  hazards: Iterable[tuple[str, str, str | None]], profile: str,
                  now_ms: int) -> tuple[ShiftExposure, ...]:
    """Each (zone sensor, declared hazard) pair's exposure this shift, where the sensor measures the hazard's
    quantity; `sensors` are (id, name, a quantity it has readings of), `hazards` (substance, quantity, the
    catalogue variant whose limit applies)."""
    since, src = shift_window(session, zone_id, now_ms=now_ms)
    out: list[ShiftExposure] = []
    for substance, quantity, variant in sorted(set(hazards), key=lambda h: (h[0], h[1], h[2] or "")):
        for sid, name, measured in sensors:
            if measured != quantity:
                continue
            e = sensor_exposure(session, rules, totals, sensor_id=sid, sensor=name, substance=substance,
                                quantity=quantity, variant=variant, profile=profile, since_ms=since, now_ms=now_ms,
                                shift_src=src)
            if e is not None:
                out.append(e)
    return tuple(out)


def exposure_by_zone(session: Session, rules: RuleSet, totals: ShiftTotals, *, profile: str, now_ms: int,
                     code: str | None = None) -> dict[str, tuple[ShiftExposure, ...]]:
    """Every zone's (or the one zone `code`'s) exposures this shift, by zone code."""
    zones = select(Zone)
    if code is not None:
        zones = zones.where(Zone.code == code)
    out: dict[str, tuple[ShiftExposure, ...]] = {}
    for zone in session.execute(zones).scalars():
        sensors = session.execute(
            select(Sensor.id, Sensor.name, Latest.quantity).join(ZoneSensor, ZoneSensor.sensor_id == Sensor.id)
            .join(Latest, Latest.sensor_id == Sensor.id)
            .where(ZoneSensor.zone_id == zone.id, ZoneSensor.start_ms <= now_ms,
                   or_(ZoneSensor.end_ms.is_(None), ZoneSensor.end_ms > now_ms))
            .order_by(Sensor.name, Latest.quantity)).all()
        hazards = session.execute(select(Hazard.substance, Hazard.quantity, Hazard.variant)
                                  .where(Hazard.zone_id == zone.id)).all()
        out[zone.code] = zone_exposure(session, rules, totals, zone_id=zone.id,
                                       sensors=[(s, n, q) for s, n, q in sensors],
                                       hazards=[(s, q, v) for s, q, v in hazards], profile=profile, now_ms=now_ms)
    return out
