"""A zone's monthly monitoring data: per hazard and day, the zone series' mean over its valid time, highest
15-min average, highest value, coverage and flagged readings (all from exposure/), the alerts, and a summary of
the workers' exposure records (counts only: no names in a zone report)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exposure.catalogue import Substance, load_catalogue
from exposure.chemical import ceiling, stel, twa
from exposure.noise import lex_8h
from exposure.profiles import Profile, get_profile
from exposure.readings import Reading
from exposure.segments import series_from_readings
from server.alerts.models import Alert
from server.health.models import ExposureRecord
from server.health.shift_series import highest_of
from server.org.models import Assignment, Hazard, Zone, ZoneSensor
from server.series.models import ReadingRow, Sensor
from server.series.rows import row_to_reading, select_readings
from server.settings import HealthConfig


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    mean: float | None
    stel_max: float | None
    peak: float | None
    coverage: float
    flagged: int


@dataclass(frozen=True)
class HazardMonth:
    substance: str
    quantity: str
    unit: str
    days: tuple[DayRow, ...]


@dataclass(frozen=True)
class AlertRow:
    alert_id: int
    rule: str
    sensor: str
    severity: str
    opened_ts: int
    resolved_ts: int | None
    worst_value: float
    unit: str


@dataclass(frozen=True)
class ZoneMonth:
    zone_code: str
    zone_name: str
    site: str
    month: str
    timezone: str
    profile: str
    sensors: tuple[str, ...]
    hazards: tuple[HazardMonth, ...]
    alerts: tuple[AlertRow, ...]
    records_by_verdict: tuple[tuple[str, str, int], ...]  # substance, verdict, count
    workers_assigned: int


def month_bounds(month: str, config: HealthConfig) -> tuple[dt.date, dt.date]:
    first = dt.date.fromisoformat(f"{month}-01")
    nxt = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt


def _ms(d: dt.date, config: HealthConfig) -> int:
    return int(dt.datetime.combine(d, dt.time(), tzinfo=config.tz).timestamp() * 1000)


def _window(day: dt.date, readings: dict[int, list[Reading]], a: int, b: int, sub: Substance, profile: Profile,
            config: HealthConfig) -> DayRow:
    """The zone series (the highest of its sensors) over [a, b): mean over the valid time, highest 15-min average,
    highest value, coverage."""
    per = [series_from_readings(rs, start_ms=a, end_ms=b, unit=sub.unit, max_gap_s=config.max_gap_s,
                                mw=sub.mw, molar_volume=profile.molar_volume)
           for rs in readings.values() if rs]
    if not per:
        return DayRow(day, None, None, None, 0.0, 0)
    s = highest_of(per, a, b, sub.unit)
    cov_h = s.coverage.covered_s / 3600.0
    mean = None
    if cov_h > 0:
        mean = lex_8h(s, shift_h=cov_h).laeq_db if sub.family == "noise" else twa(s, reference_h=cov_h).twa
    st = stel(s).value if cov_h > 0 and sub.family != "noise" else None
    return DayRow(day, mean, st, ceiling(s).max_value, s.coverage.fraction, s.coverage.excluded_readings)


@dataclass(frozen=True)
class WindowResult:
    label: str  # a day or a shift
    substance: str
    unit: str
    row: DayRow


def zone_windows(session: Session, zone: Zone, windows: Sequence[tuple[str, int, int]], config: HealthConfig
                 ) -> tuple[WindowResult, ...]:
    """The zone series' results per hazard over each (label, start_ms, end_ms) window: a shift, a day."""
    if not windows:
        return ()
    cat = load_catalogue()
    profile = get_profile(config.profile)
    sensor_ids = sorted(set(session.execute(select(ZoneSensor.sensor_id).where(ZoneSensor.zone_id == zone.id))
                            .scalars()))
    hazards = sorted(set(session.execute(select(Hazard.substance, Hazard.quantity)
                                         .where(Hazard.zone_id == zone.id)).all()))
    margin = round(config.max_gap_s * 1000) + 60_000
    lo, hi = min(w[1] for w in windows), max(w[2] for w in windows)
    out = []
    for substance, quantity in hazards:
        sub = cat.substance(substance)
        readings = {sid: [row_to_reading(r, sensor=str(sid)) for r in session.execute(select_readings().where(
                        ReadingRow.sensor_id == sid, ReadingRow.quantity == quantity, ReadingRow.ts >= lo - margin,
                        ReadingRow.ts <= hi + margin).order_by(ReadingRow.ts))]
                    for sid in sensor_ids}
        for label, a, b in windows:
            day = dt.datetime.fromtimestamp(a / 1000, config.tz).date()
            out.append(WindowResult(label, substance, sub.unit, _window(day, readings, a, b, sub, profile, config)))
    return tuple(out)


def zone_month(session: Session, zone: Zone, month: str, config: HealthConfig) -> ZoneMonth:
    first, nxt = month_bounds(month, config)
    lo, hi = _ms(first, config), _ms(nxt, config)
    cat = load_catalogue()
    profile = get_profile(config.profile)
    zs = list(session.execute(select(ZoneSensor, Sensor.site, Sensor.name)
                              .join(Sensor, Sensor.id == ZoneSensor.sensor_id)
                              .where(ZoneSensor.zone_id == zone.id).order_by(Sensor.site, Sensor.name)).all())
    sensor_ids = sorted({z.sensor_id for z, _, _ in zs})
    hazards = sorted(set(session.execute(select(Hazard.substance, Hazard.quantity)
                                         .where(Hazard.zone_id == zone.id)).all()))
    margin = round(config.max_gap_s * 1000) + 60_000
    out_h = []
    for substance, quantity in hazards:
        sub = cat.substance(substance)
        readings: dict[int, list[Reading]] = {
            sid: [row_to_reading(r, sensor=str(sid))
                  for r in session.execute(select_readings().where(
                      ReadingRow.sensor_id == sid, ReadingRow.quantity == quantity, ReadingRow.ts >= lo - margin,
                      ReadingRow.ts <= hi + margin).order_by(ReadingRow.ts))]
            for sid in sensor_ids}
        days = []
        d = first
        while d < nxt:
            days.append(_window(d, readings, _ms(d, config), _ms(d + dt.timedelta(days=1), config), sub, profile,
                                config))
            d += dt.timedelta(days=1)
        out_h.append(HazardMonth(substance, quantity, sub.unit, tuple(days)))
    names = {z.sensor_id: f"{site}/{name}" for z, site, name in zs}
    alerts = tuple(AlertRow(a.id, a.rule_id, names.get(a.sensor_id, str(a.sensor_id)), a.severity, a.opened_ts,
                            a.resolved_ts, a.worst_value, a.unit)
                   for a in session.execute(select(Alert).where(
                       Alert.sensor_id.in_(sensor_ids), Alert.opened_ts >= lo, Alert.opened_ts < hi)
                       .order_by(Alert.opened_ts, Alert.id)).scalars()) if sensor_ids else ()
    workers = session.execute(select(Assignment.worker_id).where(
        Assignment.zone_id == zone.id, Assignment.start_ms < hi, Assignment.end_ms > lo).distinct()).scalars().all()
    counts = session.execute(
        select(ExposureRecord.substance, ExposureRecord.verdict, func.count())
        .where(ExposureRecord.superseded.is_(False), ExposureRecord.worker_id.in_(workers),
               ExposureRecord.shift_start_ms >= lo, ExposureRecord.shift_start_ms < hi,
               ExposureRecord.substance.in_([h[0] for h in hazards]))
        .group_by(ExposureRecord.substance, ExposureRecord.verdict)
        .order_by(ExposureRecord.substance, ExposureRecord.verdict)).all() if workers and hazards else []
    return ZoneMonth(zone.code, zone.name, zone.site, month, config.timezone, config.profile,
                     tuple(names[s] for s in sensor_ids), tuple(out_h), alerts,
                     tuple((s, v, int(n)) for s, v, n in counts), len(workers))
