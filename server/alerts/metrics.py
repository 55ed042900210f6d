"""The metrics alert rules evaluate, per reading, from a small state dict of the rule and subject.

- `shift_metric`: TWA, projected TWA, dose and projected dose over the current shift, in O(1) per reading;
- `stel_now`: the 15-minute TWA ending at the reading, from a bounded window of stored readings (at most once per
  `STEL_STEP_MS` of reading time per subject);
- `to_rule_unit`: a reading's value in the rule's unit (ppm <-> mg/m3 with the molar volume of the rule's profile,
  else the site's).
Every formula is exposure's; this module only keeps the running state.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from exposure import InvalidInput, Reading
from exposure.catalogue import load_catalogue
from exposure.chemical import STEL_WINDOW_S, integral, stel, twa_result
from exposure.noise import dose_contribution, dose_criterion, dose_result
from exposure.profiles import get_profile
from exposure.results import Coverage
from exposure.segments import DEFAULT_MAX_GAP_S, Segment, series_from_readings, span
from exposure.units import convert_concentration
from server.alerts.rules import Rule
from server.series.models import ReadingRow
from server.series.rows import row_to_reading, select_readings

STEL_STEP_MS = 15_000
GAP_MS = round(DEFAULT_MAX_GAP_S * 1000)
#: metrics computed over a shift: they use the roster's shift where one covers the reading
SHIFT_METRICS = frozenset({"twa", "projected_twa", "dose", "projected_dose"})
#: an open episode: (rule id, "s", sensor id) for sensor and zone rules, (rule id, "w", worker id) for worker rules
EpisodeKey = tuple[str, str, int]


@lru_cache(maxsize=64)
def _molecular_weight(quantity: str) -> float | None:
    try:
        return load_catalogue().substance(quantity).mw
    except InvalidInput:
        return None


def _molar_volume(profile: str) -> float:
    return get_profile(profile).molar_volume


def to_rule_unit(site_profile: str, rule: Rule, value: float, unit: str) -> float | None:
    """The value in the rule's unit (exposure.units; ppm <-> mg/m3 with the molar volume of the rule's profile, else
    the site's), or None when it cannot be converted (no molecular weight, not a concentration)."""
    if unit == rule.unit or rule.metric in ("dose", "projected_dose"):
        return value
    try:
        return convert_concentration(value, unit, rule.unit, mw=_molecular_weight(rule.quantity),
                                     molar_volume=_molar_volume(rule.profile or site_profile))
    except InvalidInput:
        return None




def stel_now(session: Session, site_profile: str, rule: Rule, reading: Reading, key: EpisodeKey,
              sources: list[tuple[int, int, int]], windows: dict[tuple[str, str, str, int], list[Reading]]) -> float:
    """The 15-min TWA ending at the reading (exposure.chemical.stel over exactly one window), from the subject's
    readings in the rule's unit: the sensor's, or a worker's personal sensors while worn."""
    window_ms = round(STEL_WINDOW_S * 1000)
    wkey = (reading.quantity, rule.unit, key[1], key[2])
    rows = windows.get(wkey)
    if rows is None or (rows and rows[0].ts > reading.ts - window_ms - GAP_MS):
        lo, hi = reading.ts - window_ms - GAP_MS, reading.ts + window_ms
        rows = []
        for sid, a, b in sources:
            for r in session.execute(
                select_readings().where(
                    ReadingRow.sensor_id == sid, ReadingRow.quantity == reading.quantity,
                    ReadingRow.ts >= max(lo, a), ReadingRow.ts <= hi, ReadingRow.ts < b,
                )
            ):
                value = to_rule_unit(site_profile, rule, r.value, r.unit)
                if value is not None:
                    rows.append(row_to_reading(r, sensor=reading.sensor, value=value, unit=rule.unit))
        rows.sort(key=lambda r: r.ts)
        windows[wkey] = rows
    upto = [r for r in rows if r.ts <= reading.ts]
    series = series_from_readings(upto, start_ms=reading.ts - window_ms, end_ms=reading.ts, unit=rule.unit)
    return stel(series).value


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def shift_metric(rule: Rule, st: dict[str, Any], reading: Reading, roster: tuple[int, int] | None) -> float | None:
    """TWA / projected TWA / dose / projected dose over the current shift, updated in O(1).

    The shift is the rostered one (server.health assignment of the rule's zone or worker) when one covers the
    reading; otherwise it starts at the first reading and lasts `shift_h`, and the next reading after it starts a
    new one. The time a reading covers is exposure.segments.span; its contribution comes from exposure's formulas.
    `st["shift_src"]` says which shift was used (the alert's detail)."""
    start = st.get("shift_start")
    if roster is not None:
        if start != roster[0] or st.get("shift_end") != roster[1]:
            start = roster[0]
            hours = (roster[1] - roster[0]) / 3_600_000
            st.update(shift_start=start, shift_end=roster[1], total=0.0, covered_ms=0, prev=None, prev2_ts=None,
                      shift_src=f"shift from the roster: {_iso(roster[0])} to {_iso(roster[1])} ({hours:g} h)")
    elif start is None or reading.ts >= st.get("shift_end", start + round(rule.shift_h * 3_600_000)) or \
            str(st.get("shift_src", "")).startswith("shift from the roster"):
        start = reading.ts - round((reading.interval_s or 0) * 1000)
        st.update(shift_start=start, shift_end=start + round(rule.shift_h * 3_600_000), total=0.0, covered_ms=0,
                  prev=None, prev2_ts=None,
                  shift_src=f"no rostered shift covers the readings: shift from the first reading "
                            f"({_iso(start)}) for shift_h = {rule.shift_h:g} h")
    end = st.setdefault("shift_end", start + round(rule.shift_h * 3_600_000))
    shift_ms = end - start
    prev = st.get("prev")
    valid = reading.valid_for_compliance
    iv = None if reading.interval_s is None else round(reading.interval_s * 1000)
    if prev is not None:
        p2 = st.get("prev2_ts")
        ts_list = [p2 if p2 is not None else prev["ts"] - shift_ms, prev["ts"], reading.ts]
        ivs = [None, prev["iv"], iv]
        a, b = span(ts_list, ivs, 1, GAP_MS)
        a, b = max(a, start), min(b, end)
        if prev["ok"] and b > a:
            st["total"] += _contribution(rule, prev["value"], a, b)
            st["covered_ms"] += b - a
    st["prev2_ts"] = prev["ts"] if prev is not None else None
    st["prev"] = {"ts": reading.ts, "iv": iv, "value": reading.value, "ok": valid}
    total, covered = st["total"], st["covered_ms"]
    if iv is not None and valid:  # an averaged reading's own span is already known
        p1 = st["prev2_ts"] if st["prev2_ts"] is not None else reading.ts - iv
        a, b = span([p1, reading.ts], [None, iv], 1, GAP_MS)
        a, b = max(a, start), min(b, end)
        if b > a:
            total += _contribution(rule, reading.value, a, b)
            covered += b - a
    if covered <= 0:
        return None
    cov = Coverage(start, end, covered / 1000.0)
    if rule.metric in ("twa", "projected_twa"):
        result = twa_result(total, cov, rule.unit, reference_h=8.0)
        return result.twa if rule.metric == "twa" else result.projected_twa
    dose = dose_result(cov, total, dose_criterion(rule.criterion), shift_h=shift_ms / 3_600_000)
    return dose.dose_percent if rule.metric == "dose" else dose.projected_dose_percent


def _contribution(rule: Rule, value: float, a: int, b: int) -> float:
    if rule.metric in ("dose", "projected_dose"):
        return dose_contribution(value, (b - a) / 1000.0, dose_criterion(rule.criterion))
    return integral([Segment(a, b, value)])


