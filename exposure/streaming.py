"""Streaming evaluators: the same numbers as the batch functions, updated one reading at a time.

- Ingest is O(1) amortised for in-order readings: a reading finalises the span of the one before it and adds
  its contribution to running sums (TWA: sum C x t; noise: dose per criterion and energy).
- Late and out-of-order readings are inserted in time order (binary search) and only the spans of the reading
  and its two neighbours are re-evaluated: their old contributions are subtracted and the new ones added.
- Sliding-window maxima (STEL, ceiling, peak level) are kept per bucket of window length; a change marks the
  few buckets it touches dirty, and a query recomputes only the dirty and the still-open buckets.
- Gaps are never filled: the coverage rule is exposure.segments.span, shared with the batch builder, so the
  streaming results equal batch results on the same readings (tests/exposure/test_streaming.py).

Query costs: TWA and dose are O(1) plus the gap list (O(n), built on demand); STEL is O(buckets) plus the
recomputed buckets. Memory is O(readings in the period): late readings need their neighbours.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

from exposure.chemical import STEL_WINDOW_S, Adjustment, LimitArg, limit_used, max_window, twa_result
from exposure.chemical import ceiling as batch_ceiling
from exposure.errors import InvalidInput
from exposure.noise import (
    LEX_CRITERIA,
    DoseCriterion,
    dose_contribution,
    dose_criterion,
    dose_result,
    lex_result,
    peak_level,
)
from exposure.profiles import AppliedLimit
from exposure.readings import Reading
from exposure.results import (
    CeilingResult,
    Coverage,
    LexResult,
    NoiseDoseResult,
    PeakLevelResult,
    TwaResult,
    WindowResult,
    verdict_of,
)
from exposure.segments import DEFAULT_MAX_GAP_S, Segment, Series, coverage_of, reading_value, span, wins

_Bucket = tuple[float, int | None, float, int | None]  # max window integral, its start, max value, its start


class SeriesEvaluator:
    """One series (one sensor, one quantity) over the period [start_ms, end_ms): the sorted reading log, the
    running sums and the bucketed window maxima. Subclasses choose what to sum."""

    def __init__(
        self,
        *,
        start_ms: int,
        end_ms: int,
        unit: str,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
        mw: float | None = None,
        molar_volume: float | None = None,
        window_s: float = STEL_WINDOW_S,
        sums: int = 0,
    ) -> None:
        if end_ms <= start_ms:
            raise InvalidInput("end_ms", "the period must end after it starts")
        if not math.isfinite(max_gap_s) or max_gap_s <= 0:
            raise InvalidInput("max_gap_s", "must be a positive number of seconds")
        self.start_ms, self.end_ms, self.unit = start_ms, end_ms, unit
        self.max_gap_ms = round(max_gap_s * 1000)
        self.window_ms = round(window_s * 1000)
        self.mw, self.molar_volume = mw, molar_volume
        self._ts: list[int] = []
        self._iv: list[int | None] = []
        self._val: list[float] = []
        self._ok: list[bool] = []
        self._max_iv = 0
        self._covered_ms = 0
        self._sums = [0.0] * sums
        self._excluded = 0
        self._buckets: dict[int, _Bucket] = {}
        self._dirty_lo: int | None = None  # lowest time whose buckets may be stale beyond the cache
        self.late = 0  # readings that arrived out of order (re-evaluated locally)

    # -- what subclasses sum ---------------------------------------------------------------------------------
    def _contrib(self, value: float, dt_ms: int) -> Iterable[float]:
        return ()

    # -- ingest ----------------------------------------------------------------------------------------------
    def add(self, reading: Reading) -> None:
        """Take one reading (any order). Flagged readings are kept to mark their time as a gap, never used."""
        value = reading_value(reading, self.unit, mw=self.mw, molar_volume=self.molar_volume)
        iv = None if reading.interval_s is None else round(reading.interval_s * 1000)
        self.add_value(reading.ts, value, interval_ms=iv, valid=reading.valid_for_compliance)

    def add_all(self, readings: Iterable[Reading]) -> None:
        for r in readings:
            self.add(r)

    def add_value(self, ts: int, value: float, *, interval_ms: int | None = None, valid: bool = True) -> None:
        n = len(self._ts)
        if n == 0 or ts > self._ts[-1]:
            k, replace = n, False
        else:
            k = bisect_left(self._ts, ts)
            replace = k < n and self._ts[k] == ts
            if replace and not wins(valid, value, self._ok[k], self._val[k]):
                return  # the stored reading wins (a replay, or a lower duplicate)
            self.late += 1
        if interval_ms is not None and interval_ms > self._max_iv:
            self._max_iv = interval_ms
        old = (k - 1, k, k + 1) if replace else (k - 1, k)
        lo, hi = self._affected(old)
        for i in old:
            if 0 <= i < n - 1:
                self._account(i, -1)
        if replace:
            if not self._ok[k] and self.start_ms <= self._ts[k] <= self.end_ms:
                self._excluded -= 1
            self._iv[k], self._val[k], self._ok[k] = interval_ms, value, valid
        else:
            self._ts.insert(k, ts)
            self._iv.insert(k, interval_ms)
            self._val.insert(k, value)
            self._ok.insert(k, valid)
        if not valid and self.start_ms <= ts <= self.end_ms:
            self._excluded += 1
        n2 = len(self._ts)
        for i in (k - 1, k, k + 1):
            if 0 <= i < n2 - 1:
                self._account(i, +1)
        lo2, hi2 = self._affected((k - 1, k, k + 1))
        self._invalidate(min(lo, lo2), max(hi, hi2))

    def _span(self, i: int) -> tuple[int, int]:
        a, b = span(self._ts, self._iv, i, self.max_gap_ms)
        return max(a, self.start_ms), min(b, self.end_ms)

    def _affected(self, idx: Iterable[int]) -> tuple[int, int]:
        lo, hi = self.end_ms, self.start_ms
        for i in idx:
            if 0 <= i < len(self._ts):
                a, b = self._span(i)
                lo, hi = min(lo, a), max(hi, b)
        return lo, hi

    def _account(self, i: int, sign: int) -> None:
        a, b = self._span(i)
        if b <= a:
            return
        if not self._ok[i]:
            return
        self._covered_ms += sign * (b - a)
        for j, c in enumerate(self._contrib(self._val[i], b - a)):
            self._sums[j] += sign * c

    def _totals(self) -> tuple[int, list[float]]:
        """Covered ms and sums including the tail (the last reading, whose span is still open)."""
        covered, sums = self._covered_ms, list(self._sums)
        n = len(self._ts)
        if n and self._ok[n - 1]:
            a, b = self._span(n - 1)
            if b > a:
                covered += b - a
                for j, c in enumerate(self._contrib(self._val[n - 1], b - a)):
                    sums[j] += c
        return covered, sums

    # -- segments and coverage -------------------------------------------------------------------------------
    def _segments_between(self, lo: int, hi: int) -> tuple[list[Segment], list[tuple[int, int]]]:
        i0 = max(0, bisect_left(self._ts, lo - self.max_gap_ms) - 1)
        i1 = min(len(self._ts), bisect_right(self._ts, hi + self._max_iv) + 1)
        segs: list[Segment] = []
        flagged: list[tuple[int, int]] = []
        for i in range(i0, i1):
            a, b = self._span(i)
            a, b = max(a, lo), min(b, hi)
            if b <= a:
                continue
            if self._ok[i]:
                segs.append(Segment(a, b, self._val[i]))
            else:
                flagged.append((a, b))
        return segs, flagged

    def series(self) -> Series:
        """The whole period as a batch Series (O(n)): for metrics computed on demand (peak rules)."""
        segs, flagged = self._segments_between(self.start_ms, self.end_ms)
        return Series(self.unit, tuple(segs), coverage_of(segs, flagged, self.start_ms, self.end_ms, self._excluded))

    def coverage(self) -> Coverage:
        """Coverage with the list of gaps (O(n): the gap list is built on demand)."""
        return self.series().coverage

    @property
    def coverage_fraction(self) -> float:
        """O(1)."""
        covered, _ = self._totals()
        return covered / (self.end_ms - self.start_ms)

    @property
    def excluded_readings(self) -> int:
        return self._excluded

    # -- bucketed window maxima ------------------------------------------------------------------------------
    def _bucket_of(self, t: int) -> int:
        return (t - self.start_ms) // self.window_ms

    def _invalidate(self, lo: int, hi: int) -> None:
        if hi < lo:
            return
        for j in range(self._bucket_of(lo - self.window_ms), self._bucket_of(hi) + 1):
            self._buckets.pop(j, None)

    def _bucket(self, j: int) -> _Bucket:
        cached = self._buckets.get(j)
        if cached is not None:
            return cached
        lo = self.start_ms + j * self.window_ms
        hi = lo + self.window_ms
        segs, _ = self._segments_between(lo, hi + self.window_ms)
        total, at = max_window(segs, self.window_ms, lo, hi)
        own = [s for s in segs if s.start_ms < hi]
        top = max(own, key=lambda s: s.value) if own else None
        result: _Bucket = (total, at, top.value if top else -math.inf, top.start_ms if top else None)
        # a bucket whose windows reach past the last reading's open span may still change: do not cache it
        if self._ts and hi + self.window_ms <= self._ts[-1]:
            self._buckets[j] = result
        return result

    def _scan(self) -> tuple[_Bucket, bool]:
        if not self._ts:
            return (0.0, None, -math.inf, None), False
        first = self._span(0)[0]
        last = self._span(len(self._ts) - 1)[1]
        best: _Bucket = (-1.0, None, -math.inf, None)
        found = False
        for j in range(self._bucket_of(first - self.window_ms), self._bucket_of(last) + 1):
            b = self._bucket(j)
            if b[1] is not None and b[0] > best[0]:
                best = (b[0], b[1], best[2], best[3])
            if b[3] is not None and b[2] > best[2]:
                best = (best[0], best[1], b[2], b[3])
                found = True
        return best, found

    def _window_result(self, limit: LimitArg, kind: str) -> WindowResult:
        (total, at, _, _), found = self._scan()
        value = max(total, 0.0) / self.window_ms
        cov = self.coverage()
        used = limit_used(limit, self.unit, kind)
        exceeds = used is not None and value > used.value
        return WindowResult(value, self.unit, self.window_ms / 1000.0, at if found else None, cov, used,
                            value / used.value if used else None, exceeds, verdict_of(exceeds, used, cov))

    def _max_value(self) -> tuple[float | None, int | None]:
        (_, _, top, top_at), found = self._scan()
        return (top, top_at) if found else (None, None)


class ChemicalEvaluator(SeriesEvaluator):
    """Streaming TWA, STEL (highest 15-min TWA) and ceiling for one gas or dust series."""

    def __init__(self, *, start_ms: int, end_ms: int, unit: str, max_gap_s: float = DEFAULT_MAX_GAP_S,
                 mw: float | None = None, molar_volume: float | None = None, window_s: float = STEL_WINDOW_S) -> None:
        super().__init__(start_ms=start_ms, end_ms=end_ms, unit=unit, max_gap_s=max_gap_s, mw=mw,
                         molar_volume=molar_volume, window_s=window_s, sums=1)

    def _contrib(self, value: float, dt_ms: int) -> Iterable[float]:
        return (value * dt_ms / 1000.0,)

    def twa(self, *, limit: LimitArg = None, reference_h: float = 8.0, adjustment: Adjustment = "none") -> TwaResult:
        _, (total,) = self._totals()
        return twa_result(total, self.coverage(), self.unit, limit=limit, reference_h=reference_h,
                          adjustment=adjustment)

    def stel(self, *, limit: LimitArg = None) -> WindowResult:
        return self._window_result(limit, "stel")

    def ceiling(self, *, limit: LimitArg = None) -> CeilingResult:
        """The highest valid value; a ceiling with an averaging period is computed on demand (batch, O(n))."""
        if isinstance(limit, AppliedLimit) and limit.limit.averaging_min is not None:
            return batch_ceiling(self.series(), limit=limit)
        value, at = self._max_value()
        cov = self.coverage()
        used = limit_used(limit, self.unit, "ceiling")
        exceeds = used is not None and value is not None and value > used.value
        ratio = value / used.value if used is not None and value is not None else None
        return CeilingResult(value, at, self.unit, cov, used, ratio, exceeds, verdict_of(exceeds, used, cov))


class NoiseEvaluator(SeriesEvaluator):
    """Streaming noise dose (OSHA PEL, OSHA HC, NIOSH) and LEX,8h (ISO, GBZ) from LAeq readings."""

    _CRITERIA: tuple[DoseCriterion, ...] = tuple(dose_criterion(n) for n in ("osha-pel", "osha-hc", "niosh"))

    def __init__(self, *, start_ms: int, end_ms: int, max_gap_s: float = DEFAULT_MAX_GAP_S) -> None:
        super().__init__(start_ms=start_ms, end_ms=end_ms, unit="dB(A)", max_gap_s=max_gap_s,
                         sums=len(self._CRITERIA) + 1)

    def _contrib(self, value: float, dt_ms: int) -> Iterable[float]:
        s = dt_ms / 1000.0
        return (*(dose_contribution(value, s, c) for c in self._CRITERIA), s / 3600.0 * 10.0 ** (0.1 * value))

    def dose(self, *, criterion: str = "osha-pel", shift_h: float = 8.0) -> NoiseDoseResult:
        c = dose_criterion(criterion)
        _, sums = self._totals()
        return dose_result(self.coverage(), sums[self._CRITERIA.index(c)], c, shift_h=shift_h)

    def lex_8h(self, *, criterion: str = "iso", shift_h: float = 8.0) -> LexResult:
        if criterion not in LEX_CRITERIA:
            raise InvalidInput("criterion", f"unknown LEX criterion {criterion!r}")
        _, sums = self._totals()
        return lex_result(self.coverage(), sums[-1], LEX_CRITERIA[criterion], shift_h=shift_h)


class PeakLevelEvaluator(SeriesEvaluator):
    """Streaming highest LCpeak against the profile's peak limits."""

    def __init__(self, *, start_ms: int, end_ms: int, max_gap_s: float = DEFAULT_MAX_GAP_S) -> None:
        super().__init__(start_ms=start_ms, end_ms=end_ms, unit="dB(C)", max_gap_s=max_gap_s)

    def peak_level(self, *, profile: str = "eu", impulses_per_day: int | None = None) -> PeakLevelResult:
        value, at = self._max_value()
        cov = self.coverage()
        seg = (Segment(at, at + 1, value),) if value is not None and at is not None else ()
        r = peak_level(Series(self.unit, seg, cov), profile=profile, impulses_per_day=impulses_per_day)
        return PeakLevelResult(value, at, cov, r.limits, r.exceeded)
