"""Chemicals and dust: TWA, STEL, ceiling/MAC, the GBZ 2.1-2019 peak-exposure rule, OSHA Z-2 acceptable peaks,
the mixture index and the GBZ exposure-level classes. Formulas and sources: docs/exposure.md.

All functions take a `Series` (exposure.segments): valid segments plus coverage. Missing time adds nothing to
a sum and is reported in the coverage, never filled with zeros or the last value.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from itertools import pairwise
from typing import Final, Literal

from exposure.errors import InvalidInput
from exposure.profiles import AppliedLimit
from exposure.results import (
    CeilingResult,
    Coverage,
    Episode,
    ExposureClass,
    LimitUsed,
    MixtureResult,
    MixtureTerm,
    PeakRuleResult,
    TwaResult,
    Violation,
    WindowResult,
    user_limit,
    verdict_of,
)
from exposure.segments import Segment, Series

STEL_WINDOW_S: Final = 900.0
Adjustment = Literal["none", "brief-scala"]
LimitArg = AppliedLimit | float | None


def limit_used(limit: LimitArg, unit: str, kind: str) -> LimitUsed | None:
    """The LimitUsed for a result in `unit`: an AppliedLimit converted, a bare number taken as user-supplied."""
    if limit is None:
        return None
    if isinstance(limit, AppliedLimit):
        return limit.used(unit)
    if not math.isfinite(limit) or limit <= 0:
        raise InvalidInput("limit", f"must be a positive number, got {limit!r}")
    return user_limit(float(limit), unit, kind)


def integral(segments: Sequence[Segment]) -> float:
    """Sum of Ci x Ti (value x seconds) over the segments."""
    return math.fsum(s.value * (s.end_ms - s.start_ms) for s in segments) / 1000.0


def brief_scala_factor(shift_h: float) -> float:
    """Brief & Scala daily reduction factor RF = (8/h) x (24 - h)/16 for shifts longer than 8 h, else 1 [R42]."""
    if not 0 < shift_h <= 24:
        raise InvalidInput("shift_h", "must be between 0 and 24 hours")
    if shift_h <= 8:
        return 1.0
    return (8.0 / shift_h) * (24.0 - shift_h) / 16.0


def osha_lead_pel_ug(shift_h: float) -> float:
    """OSHA lead PEL for shifts over 8 h: 400 / hours ug/m3 (1910.1025(c)(2)) [R8]."""
    if shift_h <= 0:
        raise InvalidInput("shift_h", "must be positive")
    return 50.0 if shift_h <= 8 else 400.0 / shift_h


def twa(
    series: Series,
    *,
    limit: LimitArg = None,
    reference_h: float = 8.0,
    adjustment: Adjustment = "none",
    shift_h: float | None = None,
) -> TwaResult:
    """TWA = sum(Ci x Ti) / reference time (1910.1000(d)(1)(i); GBZ CTWA) over valid data.

    `reference_h` 8 gives the 8-h TWA; another value gives a shift TWA over that many hours. With
    ``adjustment="brief-scala"`` the limit is multiplied by the Brief & Scala factor for the hours worked,
    `shift_h` (default: the series' period, the shift it describes).
    `projected_twa` assumes the uncovered part of the period was like the covered part (an estimate only).
    """
    if shift_h is None:
        shift_h = series.coverage.period_s / 3600.0
    return twa_result(integral(series.segments), series.coverage, series.unit, limit=limit,
                      reference_h=reference_h, adjustment=adjustment, shift_h=shift_h)


def twa_result(
    total: float,
    cov: Coverage,
    unit: str,
    *,
    limit: LimitArg = None,
    reference_h: float = 8.0,
    adjustment: Adjustment = "none",
    shift_h: float | None = None,
) -> TwaResult:
    """The TwaResult for sum(Ci x Ti) = `total` (value x seconds) over the covered time of `cov`. The Brief &
    Scala factor is for `shift_h` hours worked (default: the period of `cov`)."""
    if not math.isfinite(reference_h) or reference_h <= 0:
        raise InvalidInput("reference_h", "must be a positive number of hours")
    ref_s = reference_h * 3600.0
    value = total / ref_s
    projected = total / cov.covered_s * cov.period_s / ref_s if cov.covered_s > 0 else None
    hours = cov.period_s / 3600.0 if shift_h is None else shift_h
    factor = brief_scala_factor(hours) if adjustment == "brief-scala" else 1.0
    used = limit_used(limit, unit, "twa")
    if used is not None and factor != 1.0:
        note = f"Brief & Scala RF {factor:.4g} for a {hours:g}-h shift"
        used = LimitUsed(used.value * factor, used.unit, used.kind, used.source, used.clause, used.mark,
                         used.substance, f"{used.note}; {note}" if used.note else note)
    ratio = value / used.value if used else None
    exceeds = used is not None and value > used.value
    return TwaResult(value, unit, reference_h, cov, projected, used, factor, ratio, exceeds,
                     verdict_of(exceeds, used, cov))


def _prefix(segments: Sequence[Segment]) -> tuple[list[int], list[float]]:
    starts = [s.start_ms for s in segments]
    cum = [0.0]
    for s in segments:
        cum.append(cum[-1] + s.value * (s.end_ms - s.start_ms))
    return starts, cum


def _cumulative(segments: Sequence[Segment], starts: list[int], cum: list[float], x: int) -> float:
    """Integral of the series from -inf to x (value x ms)."""
    i = bisect_right(starts, x) - 1
    if i < 0:
        return 0.0
    s = segments[i]
    return cum[i] + s.value * (min(x, s.end_ms) - s.start_ms)


def max_window(
    segments: Sequence[Segment], window_ms: int, lo: int | None = None, hi: int | None = None
) -> tuple[float, int | None]:
    """The highest integral (value x ms) of the series over a window of `window_ms`, and where the window starts.

    The window slides continuously; its integral is piecewise linear in the start time, so the maximum is at a
    start where the start or the end meets a segment boundary. With `lo`/`hi`, only starts in [lo, hi) count.
    Time without data adds nothing: a 5-min exposure is averaged over the whole 15-min window.
    """
    if not segments:
        return 0.0, None
    starts, cum = _prefix(segments)
    candidates: set[int] = set()
    for s in segments:
        candidates.update((s.start_ms, s.end_ms, s.start_ms - window_ms, s.end_ms - window_ms))
    if lo is not None:
        candidates = {c for c in candidates if c >= lo}
        candidates.add(lo)
    if hi is not None:
        candidates = {c for c in candidates if c < hi}
    best, at = -1.0, None
    for c in sorted(candidates):
        v = _cumulative(segments, starts, cum, c + window_ms) - _cumulative(segments, starts, cum, c)
        if v > best:
            best, at = v, c
    return max(best, 0.0), at


def window_average(series: Series, *, window_s: float, limit: LimitArg = None, kind: str = "stel") -> WindowResult:
    """The highest `window_s` average of the series (see max_window), compared with `limit`."""
    if not math.isfinite(window_s) or window_s <= 0:
        raise InvalidInput("window_s", "must be a positive number of seconds")
    window_ms = round(window_s * 1000)
    total, at = max_window(series.segments, window_ms)
    value = total / window_ms
    used = limit_used(limit, series.unit, kind)
    exceeds = used is not None and value > used.value
    return WindowResult(value, series.unit, window_s, at, series.coverage, used,
                        value / used.value if used else None, exceeds, verdict_of(exceeds, used, series.coverage))


def stel(series: Series, *, limit: LimitArg = None, window_s: float = STEL_WINDOW_S) -> WindowResult:
    """STEL: the highest 15-min TWA of the shift (CSTE: a shorter exposure is averaged over 15 min) [R17c][R50b]."""
    return window_average(series, window_s=window_s, limit=limit, kind="stel")


def ceiling(series: Series, *, limit: LimitArg = None, averaging_s: float | None = None) -> CeilingResult:
    """Ceiling / MAC: the highest valid value must not exceed the limit at any time.

    A NIOSH ceiling with an averaging period (15-min for Cl2, 10-min for H2S) is assessed as the highest average
    over that period: pass `averaging_s`, or an AppliedLimit whose row has `averaging_min`.
    """
    if averaging_s is None and isinstance(limit, AppliedLimit) and limit.limit.averaging_min is not None:
        averaging_s = limit.limit.averaging_min * 60.0
    used = limit_used(limit, series.unit, "ceiling")
    if averaging_s is not None:
        w = window_average(series, window_s=averaging_s, limit=None)
        value: float | None = w.value if series.segments else None
        at = w.window_start_ms
    elif series.segments:
        top = max(series.segments, key=lambda s: s.value)
        value, at = top.value, top.start_ms
    else:
        value, at = None, None
    exceeds = used is not None and value is not None and value > used.value
    ratio = value / used.value if used is not None and value is not None else None
    return CeilingResult(value, at, series.unit, series.coverage, used, ratio, exceeds,
                         verdict_of(exceeds, used, series.coverage))


def episodes_above(segments: Sequence[Segment], threshold: float) -> tuple[Episode, ...]:
    """Maximal runs of adjacent segments above `threshold`. A gap ends a run: we never assume it went on."""
    out: list[Episode] = []
    for s in segments:
        if s.value <= threshold:
            continue
        if out and out[-1].end_ms == s.start_ms:
            last = out[-1]
            out[-1] = Episode(last.start_ms, s.end_ms, max(last.max_value, s.value))
        else:
            out.append(Episode(s.start_ms, s.end_ms, s.value))
    return tuple(out)


def gbz_peak_rule(series: Series, *, pc_twa: AppliedLimit | float) -> PeakRuleResult:
    """GBZ 2.1-2019 peak exposure (峰接触浓度, cited as 6.3.3) for substances with only a PC-TWA [R18]:
    time above 3 x PC-TWA comes in episodes of at most 15 min, at most 4 a day, at least 1 h apart, and the
    concentration never exceeds 5 x PC-TWA."""
    used = limit_used(pc_twa, series.unit, "twa")
    assert used is not None
    threshold, never = 3.0 * used.value, 5.0 * used.value
    eps = episodes_above(series.segments, threshold)
    v: list[Violation] = []
    for e in eps:
        if e.max_value > never:
            v.append(Violation("above-5x-pc-twa", f"{e.max_value:g} {series.unit} > 5 x PC-TWA = {never:g}",
                               e.start_ms, e.end_ms))
        if e.duration_s > 15 * 60:
            v.append(Violation("episode-over-15-min", f"{e.duration_s / 60:g} min above 3 x PC-TWA = {threshold:g}",
                               e.start_ms, e.end_ms))
    if len(eps) > 4:
        v.append(Violation("more-than-4-episodes", f"{len(eps)} episodes above 3 x PC-TWA in the day"))
    for a, b in pairwise(eps):
        if b.start_ms - a.end_ms < 3600 * 1000:
            v.append(Violation("episodes-under-1-h-apart",
                               f"{(b.start_ms - a.end_ms) / 60000:g} min between episodes", a.end_ms, b.start_ms))
    return PeakRuleResult("gbz-2.1-2019-peak", not v, tuple(v), eps, threshold, never, series.unit,
                          series.coverage, used)


def osha_z2_peaks(
    series: Series,
    *,
    ceiling_limit: AppliedLimit | float,
    peak_limit: AppliedLimit | float,
    max_minutes: float = 10.0,
    max_count: int = 1,
) -> PeakRuleResult:
    """OSHA Table Z-2 acceptable maximum peak above the ceiling: exposure above the ceiling only in at most
    `max_count` period(s) of at most `max_minutes`, never above the peak (H2S: C 20, peak 50 ppm, 10 min once;
    toluene: C 300, peak 500 ppm, 10 min per 8-h shift) [R33][R34b]."""
    c_used = limit_used(ceiling_limit, series.unit, "ceiling")
    p_used = limit_used(peak_limit, series.unit, "peak")
    assert c_used is not None and p_used is not None
    eps = episodes_above(series.segments, c_used.value)
    v: list[Violation] = []
    for e in eps:
        if e.max_value > p_used.value:
            v.append(Violation("above-peak", f"{e.max_value:g} {series.unit} > acceptable peak {p_used.value:g}",
                               e.start_ms, e.end_ms))
        if e.duration_s > max_minutes * 60:
            v.append(Violation("excursion-too-long", f"{e.duration_s / 60:g} min above the ceiling "
                               f"{c_used.value:g} (max {max_minutes:g} min)", e.start_ms, e.end_ms))
    if len(eps) > max_count:
        v.append(Violation("too-many-excursions", f"{len(eps)} periods above the ceiling (max {max_count})"))
    return PeakRuleResult("osha-z2-peak", not v, tuple(v), eps, c_used.value, p_used.value, series.unit,
                          series.coverage, p_used)


def mixture_index(components: Sequence[tuple[float, float]]) -> MixtureResult:
    """Em = C1/L1 + ... + Cn/Ln; above 1 exceeds (1910.1000(d)(2)(i); GBZ 2.1-2019 3.8) [R40][R18]."""
    if not components:
        raise InvalidInput("components", "at least one component is needed")
    terms = []
    for i, (c, lim) in enumerate(components):
        if not math.isfinite(c) or c < 0:
            raise InvalidInput(f"component[{i}]", "concentration must be a non-negative number")
        if not math.isfinite(lim) or lim <= 0:
            raise InvalidInput(f"component[{i}]", "limit must be a positive number")
        terms.append(MixtureTerm(c, lim, c / lim))
    index = math.fsum(t.ratio for t in terms)
    return MixtureResult(index, tuple(terms), index > 1.0)


def exposure_class(concentration: float, oel: float) -> ExposureClass:
    """GBZ 2.1-2019 6.5.1 classes by C/OEL: <=1 % 0; <=10 % I; <=50 % II; <=100 % III; above IV [R18]."""
    if oel <= 0 or concentration < 0:
        raise InvalidInput("oel", "OEL must be positive and the concentration non-negative")
    r = concentration / oel
    level: Literal["0", "I", "II", "III", "IV"]
    if r <= 0.01:
        level = "0"
    elif r <= 0.10:
        level = "I"
    elif r <= 0.50:
        level = "II"
    elif r <= 1.0:
        level = "III"
    else:
        level = "IV"
    return ExposureClass(level, r)
