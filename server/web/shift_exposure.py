"""Exposure so far this shift, for the dashboard tiles and the zone page: the noise dose (%) and, for a declared
substance, the 8-h TWA as a percentage of its OEL, from the zone sensors' stored readings with exposure's own
formulas (exposure.segments.series_from_readings, exposure.noise.noise_dose, exposure.chemical.twa).

The shift is the zone's rostered one (the assignments that cover now, from the earliest start) or, with nobody
rostered, the last `DEFAULT_SHIFT_H` hours; `ShiftExposure.shift_src` says which."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from exposure import InvalidInput
from exposure.chemical import twa
from exposure.noise import noise_dose
from exposure.profiles import applicable_limit
from exposure.segments import DEFAULT_MAX_GAP_S, series_from_readings
from server.alerts.rules import RuleSet
from server.org.models import Assignment, Hazard, Zone, ZoneSensor
from server.series.models import ReadingRow, Sensor
from server.series.rows import row_to_reading, select_readings

DEFAULT_SHIFT_H = 8.0
NOISE = "noise"
_GAP_MS = round(DEFAULT_MAX_GAP_S * 1000)


@dataclass(frozen=True)
class ShiftExposure:
    sensor: str
    substance: str
    kind: Literal["dose", "twa"]
    percent: float  # dose %, or TWA as % of the OEL
    value: float  # the dose % again, or the TWA in `unit`
    unit: str
    limit: str  # what 100 % is
    since_ms: int
    shift_src: Literal["roster", "last hours"]


def shift_window(session: Session, zone_id: int, *, now_ms: int) -> tuple[int, Literal["roster", "last hours"]]:
    """Where this zone's shift started: the earliest start of the assignments covering now, else DEFAULT_SHIFT_H
    hours ago."""
    start = session.execute(select(func.min(Assignment.start_ms)).where(
        Assignment.zone_id == zone_id, Assignment.start_ms <= now_ms, Assignment.end_ms > now_ms)).scalar()
    if start is not None:
        return int(start), "roster"
    return now_ms - round(DEFAULT_SHIFT_H * 3_600_000), "last hours"


def _criterion(rules: RuleSet, quantity: str) -> str:
    for rule in rules.rules:
        if rule.quantity == quantity and rule.metric in ("dose", "projected_dose") and rule.criterion:
            return str(rule.criterion)
    return "osha-pel"


def sensor_exposure(session: Session, rules: RuleSet, *, sensor_id: int, sensor: str, substance: str,
                    quantity: str, variant: str | None, profile: str, since_ms: int, now_ms: int,
                    shift_src: Literal["roster", "last hours"]) -> ShiftExposure | None:
    """The sensor's exposure to the substance over [since_ms, now_ms), or None without readings, a limit or a
    unit the limit can be expressed in."""
    if now_ms <= since_ms:
        return None
    rows = session.execute(select_readings().where(
        ReadingRow.sensor_id == sensor_id, ReadingRow.quantity == quantity,
        ReadingRow.ts >= since_ms - _GAP_MS, ReadingRow.ts <= now_ms).order_by(ReadingRow.ts)).all()
    if not rows:
        return None
    readings = [row_to_reading(r, sensor=sensor) for r in rows]
    unit = readings[-1].unit
    same = [r for r in readings if r.unit == unit]
    try:
        series = series_from_readings(same, start_ms=since_ms, end_ms=now_ms, unit=unit)
        if series.coverage.covered_s <= 0:
            return None
        if substance == NOISE:
            dose = noise_dose(series, criterion=_criterion(rules, quantity), shift_h=DEFAULT_SHIFT_H)
            return ShiftExposure(sensor, substance, "dose", dose.dose_percent, dose.dose_percent, "%",
                                 f"100 % dose ({dose.criterion})", since_ms, shift_src)
        limit = applicable_limit(substance, profile, "twa", variant=variant)
        if limit is None:
            return None
        result = twa(series, limit=limit)
    except InvalidInput:
        return None
    if result.ratio is None or result.limit is None:
        return None
    return ShiftExposure(sensor, substance, "twa", 100.0 * result.ratio, result.twa, unit,
                         f"OEL {result.limit.value:g} {result.limit.unit}", since_ms, shift_src)


def zone_exposure(session: Session, rules: RuleSet, *, zone_id: int, sensors: Iterable[tuple[int, str]],
                  hazards: Iterable[tuple[str, str, str | None]], profile: str,
                  now_ms: int) -> tuple[ShiftExposure, ...]:
    """Each (zone sensor, declared hazard) pair's exposure this shift; `hazards` are (substance, quantity, the
    catalogue variant whose limit applies)."""
    since, src = shift_window(session, zone_id, now_ms=now_ms)
    out: list[ShiftExposure] = []
    for substance, quantity, variant in sorted(set(hazards), key=lambda h: (h[0], h[1], h[2] or "")):
        for sid, name in sensors:
            e = sensor_exposure(session, rules, sensor_id=sid, sensor=name, substance=substance, quantity=quantity,
                                variant=variant, profile=profile, since_ms=since, now_ms=now_ms, shift_src=src)
            if e is not None:
                out.append(e)
    return tuple(out)


def exposure_by_zone(session: Session, rules: RuleSet, *, profile: str, now_ms: int,
                     code: str | None = None) -> dict[str, tuple[ShiftExposure, ...]]:
    """Every zone's (or the one zone `code`'s) exposures this shift, by zone code."""
    zones = select(Zone)
    if code is not None:
        zones = zones.where(Zone.code == code)
    out: dict[str, tuple[ShiftExposure, ...]] = {}
    for zone in session.execute(zones).scalars():
        sensors = session.execute(
            select(Sensor.id, Sensor.name).join(ZoneSensor, ZoneSensor.sensor_id == Sensor.id)
            .where(ZoneSensor.zone_id == zone.id, ZoneSensor.start_ms <= now_ms,
                   or_(ZoneSensor.end_ms.is_(None), ZoneSensor.end_ms > now_ms)).order_by(Sensor.name)).all()
        hazards = session.execute(select(Hazard.substance, Hazard.quantity, Hazard.variant)
                                  .where(Hazard.zone_id == zone.id)).all()
        out[zone.code] = zone_exposure(session, rules, zone_id=zone.id, sensors=[(s, n) for s, n in sensors],
                                       hazards=[(s, q, v) for s, q, v in hazards], profile=profile, now_ms=now_ms)
    return out
