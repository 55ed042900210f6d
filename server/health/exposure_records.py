"""Per worker, shift and hazard: the exposure record, computed by the exposure engine from the series that stand
for the worker (the zone's sensors while assigned there, a worn personal sensor while worn), weighted by presence.

How a record is computed (docs/health-files.md "Exposure records"):
1. The shift's presence intervals come from the worker's assignments and personal sensors (presence.py).
2. In each interval, the series of each sensor is built by exposure.segments.series_from_readings (flagged
   readings excluded and counted, gaps kept as gaps); several zone sensors join as the highest value.
3. Each interval's level is its time-weighted mean over the valid data (chemicals: exposure.chemical.twa over
   the covered time; noise: LAeq by energy averaging, exposure.noise.lex_8h). The shift exposure is the
   presence-weighted combination of these levels (TWA over 8 h, LEX,8h), so a gap lowers the coverage, never the
   exposure. A noise dose is never taken from an average level (with a 5 dB exchange rate that is wrong): each
   interval's dose is the criterion's sum(C_i / T_i) over its own segments (exposure.noise.dose_fraction_of,
   the function `hazmon calc noise` and the alert rules use), scaled from its covered to its whole time; the
   shift's dose is the sum over the intervals.
   The measured lower bound (gaps adding nothing) is kept in the record's details.
4. STEL and peaks come from the measured series only (a gap can hide a peak, never make one).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from exposure.catalogue import Substance, load_catalogue
from exposure.chemical import ceiling, exposure_class, stel, twa
from exposure.noise import DOSE_CRITERIA, dose_fraction_of, dose_result, lex_8h
from exposure.profiles import AppliedLimit, applicable_limit, get_profile
from exposure.readings import Reading
from exposure.results import Coverage, LimitUsed, verdict_of
from exposure.segments import Segment, Series, series_from_readings
from server.health.models import ExposureRecord, ShiftRun
from server.health.shift_series import (
    DroppedSpan,
    Interval,
    highest_of,
    join_pieces,
    label_gaps,
    mark_dropped,
    split_by_personal,
)
from server.org.models import Assignment, Hazard, PersonalSensorAssignment, ZoneSensor
from server.series.models import EdgeGapRow, ReadingRow, Sensor
from server.series.rows import row_to_reading, select_readings
from server.settings import HealthConfig

#: the dust fraction a quantity measures, to pick the matching limit row
_FRACTION = {"tsp": "total", "pm4": "respirable", "pm10": "inhalable"}
_DOSE_CRITERION = {"us-osha": "osha-pel", "us-niosh": "niosh"}  # others: niosh (3 dB, 85 dB(A), no threshold)
_CAL_FLAGS = ("calibration_overdue", "bump_test_overdue")


@dataclass(frozen=True)
class ShiftKey:
    worker_id: int
    start_ms: int
    end_ms: int


@dataclass
class _SensorUse:
    sensor_id: int
    role: str
    zone_id: int | None
    readings: int = 0
    flagged: int = 0
    used_ms: int = 0
    flags: dict[str, int] | None = None


def _dumps(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def shift_hazards(session: Session, key: ShiftKey) -> list[tuple[str, str, str | None]]:
    """(substance, quantity, limit variant) of the hazards of the zones and posts the worker was assigned to."""
    rows = session.execute(
        select(Assignment.zone_id, Assignment.post_id).where(
            Assignment.worker_id == key.worker_id, Assignment.shift_start_ms == key.start_ms,
            Assignment.shift_end_ms == key.end_ms)
    ).all()
    found: dict[tuple[str, str], str | None] = {}
    for zone_id, post_id in rows:
        cond = Hazard.post_id.is_(None) if post_id is None else or_(Hazard.post_id.is_(None), Hazard.post_id == post_id)
        for sub, q, variant in session.execute(
                select(Hazard.substance, Hazard.quantity, Hazard.variant).where(Hazard.zone_id == zone_id, cond)):
            found[(sub, q)] = found.get((sub, q)) or variant
    return sorted((sub, q, v) for (sub, q), v in found.items())


def presence(session: Session, key: ShiftKey, quantity: str, *, margin_ms: int) -> list[Interval]:
    """The shift's presence intervals for one quantity: a personal sensor counts only if it measured it."""
    zone_iv = [(a.start_ms, a.end_ms, a.zone_id) for a in session.execute(
        select(Assignment).where(Assignment.worker_id == key.worker_id, Assignment.shift_start_ms == key.start_ms,
                                 Assignment.shift_end_ms == key.end_ms)).scalars()]
    personal = []
    for p in session.execute(select(PersonalSensorAssignment).where(
            PersonalSensorAssignment.worker_id == key.worker_id, PersonalSensorAssignment.start_ms < key.end_ms,
            PersonalSensorAssignment.end_ms > key.start_ms)).scalars():
        has = session.execute(select(ReadingRow.id).where(
            ReadingRow.sensor_id == p.sensor_id, ReadingRow.quantity == quantity,
            ReadingRow.ts >= max(p.start_ms, key.start_ms) - margin_ms,
            ReadingRow.ts <= min(p.end_ms, key.end_ms) + margin_ms).limit(1)).first()
        if has is not None:
            personal.append((p.start_ms, p.end_ms, p.sensor_id))
    return split_by_personal(zone_iv, personal, key.start_ms, key.end_ms)


def zone_sensor_ids(session: Session, zone_id: int, a: int, b: int) -> list[int]:
    return sorted(set(session.execute(select(ZoneSensor.sensor_id).where(
        ZoneSensor.zone_id == zone_id, ZoneSensor.start_ms < b,
        or_(ZoneSensor.end_ms.is_(None), ZoneSensor.end_ms > a))).scalars()))


def _readings(session: Session, sensor_id: int, quantity: str, lo: int, hi: int) -> list[tuple[int, Reading]]:
    rows = session.execute(select_readings().where(
        ReadingRow.sensor_id == sensor_id, ReadingRow.quantity == quantity, ReadingRow.ts >= lo, ReadingRow.ts <= hi,
    ).order_by(ReadingRow.ts, ReadingRow.id))
    return [(r.id, row_to_reading(r, sensor=str(sensor_id))) for r in rows]


def _limit(substance: Substance, kind: str, quantity: str, profile: str,
           variant: str | None = None) -> AppliedLimit | None:
    """The profile's limit for the hazard: the dust fraction its quantity measures, the variant its declaration
    names (a silica dust's free-SiO2 class, from the zone's hazard declaration)."""
    fraction = _FRACTION.get(quantity) if substance.family == "dust" else None
    found = applicable_limit(substance.id, profile, kind, fraction=fraction, variant=variant)  # type: ignore[arg-type]
    if found is None and fraction is not None:
        found = applicable_limit(substance.id, profile, kind, variant=variant)  # type: ignore[arg-type]
    return found


@dataclass(frozen=True)
class Computed:
    """The metrics of one hazard over one shift, ready to be stored as a record version."""

    substance: str
    quantity: str
    unit: str
    source: str
    presence_s: float
    coverage: Coverage
    gaps: list[dict[str, int | str]]
    sensors: list[dict[str, object]]
    flagged_excluded: int
    twa: float | None = None
    lex_8h: float | None = None
    dose_percent: float | None = None
    dose_criterion: str | None = None
    stel_max: float | None = None
    stel_at_ms: int | None = None
    peak: float | None = None
    peak_at_ms: int | None = None
    ratio: float | None = None
    verdict: str = "no_data"
    exposure_class: str | None = None
    limit: LimitUsed | None = None
    stel_limit: LimitUsed | None = None
    details: dict[str, object] | None = None
    #: the presence-weighted measured series the figures come from (not stored: drawn in the PDF)
    series: Series | None = None


def compute_hazard(session: Session, key: ShiftKey, substance_id: str, quantity: str,
                   config: HealthConfig, variant: str | None = None) -> Computed:
    """Compute one hazard's record for one worker-shift (no writes)."""
    cat = load_catalogue()
    sub = cat.substance(substance_id)
    profile = get_profile(config.profile)
    unit = sub.unit
    gap_ms = round(config.max_gap_s * 1000)
    margin = gap_ms + 60_000
    intervals = presence(session, key, quantity, margin_ms=margin)
    cache: dict[int, list[tuple[int, Reading]]] = {}
    uses: dict[tuple[int, str], _SensorUse] = {}
    flagged_ids: set[int] = set()
    pieces: list[Series] = []
    levels: list[Segment] = []
    kinds: set[str] = set()
    doses: dict[str, float] = {}  # noise: criterion -> presence-weighted dose fraction (1 = 100 %)
    measured_doses: dict[str, float] = {}  # the same over the measured time only (gaps adding nothing)
    for iv in intervals:
        if iv.personal_sensor_id is not None:
            ids, role = [iv.personal_sensor_id], "personal"
        else:
            assert iv.zone_id is not None
            ids, role = zone_sensor_ids(session, iv.zone_id, iv.start_ms, iv.end_ms), "zone"
        per_sensor: list[Series] = []
        for sid in ids:
            if sid not in cache:
                cache[sid] = _readings(session, sid, quantity, key.start_ms - margin, key.end_ms + margin)
            rows = cache[sid]
            s = series_from_readings((r for _, r in rows), start_ms=iv.start_ms, end_ms=iv.end_ms, unit=unit,
                                     max_gap_s=config.max_gap_s, mw=sub.mw, molar_volume=profile.molar_volume)
            use = uses.setdefault((sid, role), _SensorUse(sid, role, iv.zone_id, flags={}))
            for rid, r in rows:
                if iv.start_ms <= r.ts < iv.end_ms:
                    use.readings += 1
                    assert use.flags is not None
                    for f in r.flags:
                        use.flags[f] = use.flags.get(f, 0) + 1
                    if not r.valid_for_compliance:  # `late` says how it travelled, not what it measured
                        use.flagged += 1
                        flagged_ids.add(rid)
            use.used_ms += round(s.coverage.covered_s * 1000)
            per_sensor.append(s)
        if not per_sensor:
            continue
        kinds.add(role)
        piece = highest_of(per_sensor, iv.start_ms, iv.end_ms, unit)
        pieces.append(piece)
        covered_h = piece.coverage.covered_s / 3600.0
        if covered_h <= 0:
            continue
        if sub.family == "noise":
            level = lex_8h(piece, shift_h=covered_h).laeq_db
            # the dose of the interval by its criterion's own rule, segment by segment (1910.95 App. A:
            # D = 100 x sum(C_i / T_i)), its uncovered time taken to be like its covered time
            scale = (iv.end_ms - iv.start_ms) / 1000.0 / piece.coverage.covered_s
            for name, c in DOSE_CRITERIA.items():
                measured_dose = dose_fraction_of(piece.segments, c)
                doses[name] = doses.get(name, 0.0) + measured_dose * scale
                measured_doses[name] = measured_doses.get(name, 0.0) + measured_dose
        else:
            level = twa(piece, reference_h=covered_h).twa
        if level is not None:
            levels.append(Segment(iv.start_ms, iv.end_ms, level))

    measured = join_pieces(pieces, key.start_ms, key.end_ms, unit, len(flagged_ids))
    estimate = Series(unit, tuple(levels), measured.coverage)
    presence_s = sum(iv.end_ms - iv.start_ms for iv in intervals) / 1000.0
    sensors = [
        {"sensor_id": u.sensor_id, "sensor": _sensor_name(session, u.sensor_id), "role": u.role, "zone_id": u.zone_id,
         "readings": u.readings, "flagged": u.flagged, "flags": dict(sorted((u.flags or {}).items())),
         "valid_s": u.used_ms / 1000.0,
         "calibration": "overdue" if any((u.flags or {}).get(f) for f in _CAL_FLAGS) else "no_overdue_flag"}
        for u in sorted(uses.values(), key=lambda u: (u.sensor_id, u.role))
    ]
    source = "none" if not kinds else ("mixed" if len(kinds) > 1 else next(iter(kinds)))
    base = dict(substance=sub.id, quantity=quantity, unit=unit, source=source, presence_s=presence_s,
                coverage=measured.coverage,
                gaps=mark_dropped(label_gaps(measured.coverage.gaps, intervals),
                                  _dropped(session, sorted({u.sensor_id for u in uses.values()}), key)),
                sensors=sensors,
                flagged_excluded=len(flagged_ids), series=measured)
    if measured.coverage.covered_s <= 0:
        return Computed(**base, details={"note": "no valid data in the shift"})  # type: ignore[arg-type]
    top = ceiling(measured)
    if sub.family == "noise":
        return _noise(base, estimate, measured, doses, measured_doses, top.max_value, top.at_ms, key, config)
    return _chemical(base, estimate, measured, top.max_value, top.at_ms, sub, quantity, config, variant)


def _dropped(session: Session, sensor_ids: Sequence[int], key: ShiftKey) -> list[DroppedSpan]:
    """What the agents of these sensors reported they could not keep (edge gaps) during the shift."""
    if not sensor_ids:
        return []
    rows = session.execute(
        select(EdgeGapRow.from_ts, EdgeGapRow.to_ts, EdgeGapRow.dropped, EdgeGapRow.reason)
        .join(Sensor, (Sensor.agent_id == EdgeGapRow.agent_id) & (Sensor.name == EdgeGapRow.sensor))
        .where(Sensor.id.in_(sensor_ids), EdgeGapRow.to_ts >= key.start_ms, EdgeGapRow.from_ts < key.end_ms)
    ).all()
    return [DroppedSpan(r.from_ts, r.to_ts, r.dropped, r.reason) for r in rows]


def _sensor_name(session: Session, sensor_id: int) -> str:
    row = session.execute(select(Sensor.site, Sensor.name).where(Sensor.id == sensor_id)).first()
    return f"{row.site}/{row.name}" if row else str(sensor_id)


def _noise(base: dict, estimate: Series, measured: Series, doses: dict[str, float], measured_doses: dict[str, float],
           peak: float | None, peak_at: int | None, key: ShiftKey, config: HealthConfig) -> Computed:
    """LEX,8h by energy averaging (ISO 9612 / 2003/10/EC / GBZ 2.2) of the presence-weighted levels; the dose by
    the profile's criterion summed over the presence intervals (a worker who moves gets the sum of the parts)."""
    shift_h = (key.end_ms - key.start_ms) / 3.6e6
    criterion = "gbz" if config.profile == "cn" else "iso"
    lex = lex_8h(estimate, criterion=criterion, shift_h=shift_h)
    dose_c = _DOSE_CRITERION.get(config.profile, "niosh")
    dose = dose_result(measured.coverage, doses.get(dose_c, 0.0), DOSE_CRITERIA[dose_c], shift_h=shift_h)
    lower = lex_8h(measured, criterion=criterion, shift_h=shift_h)
    # 1910.95(c) action level, for surveillance: the same rule with its 80 dB threshold
    hc = dose_result(measured.coverage, doses.get("osha-hc", 0.0), DOSE_CRITERIA["osha-hc"], shift_h=shift_h)
    us = config.profile in _DOSE_CRITERION
    limit = dose.limit if us else lex.limit
    exceeds = dose.exceeds if us else lex.exceeds
    value = lex.lex_8h_db
    band = None if value is None else ("<80" if value < 80 else ("80-85" if value < 85 else ">=85"))
    return Computed(
        **base, lex_8h=value, dose_percent=dose.dose_percent, dose_criterion=dose_c, peak=peak, peak_at_ms=peak_at,
        ratio=dose.dose_percent / 100.0, verdict=verdict_of(exceeds, limit, measured.coverage), exposure_class=band,
        limit=limit,
        details={"lex_criterion": criterion, "measured_lex_8h": lower.lex_8h_db, "dose_twa_db": dose.twa_db,
                 "measured_dose_percent": 100.0 * measured_doses.get(dose_c, 0.0),
                 "laeq_valid_time": lower.laeq_db, "osha_hc_twa_db": hc.twa_db,
                 "osha_hc_dose_percent": hc.dose_percent},
    )


def _chemical(base: dict, estimate: Series, measured: Series, peak: float | None, peak_at: int | None,
              sub: Substance, quantity: str, config: HealthConfig, variant: str | None) -> Computed:
    twa_lim = _limit(sub, "twa", quantity, config.profile, variant)
    stel_lim = _limit(sub, "stel", quantity, config.profile, variant)
    ceil_lim = _limit(sub, "ceiling", quantity, config.profile, variant)
    t = twa(estimate, limit=twa_lim)
    lower = twa(measured, limit=twa_lim)
    s = stel(measured, limit=stel_lim)
    c = ceiling(measured, limit=ceil_lim)
    details: dict[str, object] = {"measured_twa": lower.twa}
    if twa_lim is not None:
        limit, ratio, exceeds = t.limit, t.ratio, t.exceeds or s.exceeds or c.exceeds
        cls = exposure_class(t.twa, t.limit.value).level if t.limit else None
    elif ceil_lim is not None:
        limit, ratio, exceeds = c.limit, c.ratio, c.exceeds
        cls = exposure_class(c.max_value or 0.0, c.limit.value).level if c.limit else None
    else:
        limit, ratio, exceeds, cls = None, None, False, None
    if c.limit is not None and twa_lim is not None:
        details["ceiling_limit"] = {"value": c.limit.value, "source": c.limit.label, "exceeds": c.exceeds}
    return Computed(
        **base, twa=t.twa, stel_max=s.value, stel_at_ms=s.window_start_ms, peak=peak, peak_at_ms=peak_at,
        ratio=ratio, verdict=verdict_of(exceeds, limit, measured.coverage), exposure_class=cls, limit=limit,
        stel_limit=s.limit, details=details,
    )


def store(session: Session, key: ShiftKey, computed: Iterable[Computed], *, profile: str,
          now_ms: int) -> list[ExposureRecord]:
    """Write the computed records as new versions, superseding the current ones (which are kept)."""
    current = {r.substance: r for r in session.execute(select(ExposureRecord).where(
        ExposureRecord.worker_id == key.worker_id, ExposureRecord.shift_start_ms == key.start_ms,
        ExposureRecord.superseded.is_(False))).scalars()}
    latest_version = dict(session.execute(
        select(ExposureRecord.substance, ExposureRecord.version).where(
            ExposureRecord.worker_id == key.worker_id, ExposureRecord.shift_start_ms == key.start_ms)
        .order_by(ExposureRecord.version)).all())
    out = []
    seen = set()
    for c in computed:
        seen.add(c.substance)
        old = current.get(c.substance)
        if old is not None:
            old.superseded = True
        lim, sl = c.limit, c.stel_limit
        rec = ExposureRecord(
            worker_id=key.worker_id, shift_start_ms=key.start_ms, shift_end_ms=key.end_ms, substance=c.substance,
            quantity=c.quantity, unit=c.unit, version=latest_version.get(c.substance, 0) + 1, computed_ms=now_ms,
            superseded=False, profile=profile, source=c.source, presence_s=c.presence_s, twa=_f(c.twa),
            lex_8h=_f(c.lex_8h), dose_percent=_f(c.dose_percent), dose_criterion=c.dose_criterion,
            stel_max=_f(c.stel_max), stel_at_ms=c.stel_at_ms, peak=_f(c.peak), peak_at_ms=c.peak_at_ms,
            ratio=_f(c.ratio), verdict=c.verdict, exposure_class=c.exposure_class,
            limit_value=lim.value if lim else None, limit_unit=lim.unit if lim else None,
            limit_kind=lim.kind if lim else None, limit_source=_source(lim),
            stel_limit_value=sl.value if sl else None, stel_limit_source=_source(sl),
            coverage=c.coverage.fraction, gaps_json=_dumps(c.gaps), sensors_json=_dumps(c.sensors),
            flagged_excluded=c.flagged_excluded, details_json=_dumps(c.details or {}),
        )
        session.add(rec)
        out.append(rec)
    for sub, old in current.items():
        if sub not in seen:
            old.superseded = True  # the hazard is no longer part of the shift (roster changed)
    session.flush()
    return out


def _f(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _source(lim: LimitUsed | None) -> str | None:
    if lim is None:
        return None
    text = lim.label + (f"; {lim.note}" if lim.note else "")
    return text[:256]


def compute_shift(session: Session, key: ShiftKey, config: HealthConfig, *, now_ms: int) -> list[ExposureRecord]:
    """Compute (or recompute) every hazard of one worker-shift and record the run. The caller commits."""
    computed = [compute_hazard(session, key, sub, q, config, variant)
                for sub, q, variant in shift_hazards(session, key)]
    records = store(session, key, computed, profile=config.profile, now_ms=now_ms)
    run = session.execute(select(ShiftRun).where(
        ShiftRun.worker_id == key.worker_id, ShiftRun.shift_start_ms == key.start_ms,
        ShiftRun.shift_end_ms == key.end_ms)).scalar_one_or_none()
    if run is None:
        session.add(ShiftRun(worker_id=key.worker_id, shift_start_ms=key.start_ms, shift_end_ms=key.end_ms,
                             computed_ms=now_ms, stale=False))
    else:
        run.computed_ms, run.stale, run.stale_since_ms = now_ms, False, None
        run.failed_ms, run.error = None, None
    session.flush()
    return records
