"""Time series -> constant-value segments with coverage and gaps.

How a reading covers time (docs/exposure.md "Coverage"):

- An averaged reading (``interval_s`` set, e.g. LAeq over 1 s) covers ``[ts - interval_s, ts)``, starting no
  earlier than the previous reading's ``ts`` (overlaps are never counted twice).
- An instantaneous sample (``interval_s`` None) covers ``[ts, next)`` where ``next`` is where the next reading's
  coverage starts, but never more than ``max_gap_s`` after ``ts``: beyond that the time is a gap.
- A flagged reading covers time the same way, but that time is a gap (reason ``flagged``) and the reading is
  counted in ``Coverage.excluded_readings``; its value is never used.
- Two readings with the same ``ts``: the valid one wins over a flagged one, then the higher value
  (order-independent, so late and replayed readings give the same result as in-order ones).
- Time that no reading covers is a gap (reason ``no_data``): never filled with zeros or the last value.

The same span rule (`span`) is used by the batch builder here and by the streaming evaluators.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from exposure.errors import InvalidInput
from exposure.readings import Reading
from exposure.results import Coverage, Gap, GapReason
from exposure.units import CONCENTRATION_UNITS, convert_concentration

#: Default hold of an instantaneous sample: a sample older than this says nothing about now.
DEFAULT_MAX_GAP_S = 60.0


@dataclass(frozen=True, slots=True)
class Segment:
    """A constant value over [start_ms, end_ms)."""

    start_ms: int
    end_ms: int
    value: float

    @property
    def duration_s(self) -> float:
        return (self.end_ms - self.start_ms) / 1000.0


@dataclass(frozen=True, slots=True)
class Series:
    """Valid segments of one quantity in one unit over a period, sorted and non-overlapping, with coverage."""

    unit: str
    segments: tuple[Segment, ...]
    coverage: Coverage

    @property
    def start_ms(self) -> int:
        return self.coverage.start_ms

    @property
    def end_ms(self) -> int:
        return self.coverage.end_ms


def span(ts: Sequence[int], interval_ms: Sequence[int | None], i: int, max_gap_ms: int) -> tuple[int, int]:
    """The time [start, end) that entry i covers, given its neighbours (see the module docstring)."""
    iv = interval_ms[i]
    t = ts[i]
    if iv is not None:
        start = t - iv
        if i > 0 and ts[i - 1] > start:
            start = ts[i - 1]
        return start, t
    end = t + max_gap_ms
    if i + 1 < len(ts):
        nxt_iv = interval_ms[i + 1]
        nxt = ts[i + 1] if nxt_iv is None else max(ts[i + 1] - nxt_iv, t)
        end = min(end, nxt)
    return t, end


def wins(valid: bool, value: float, other_valid: bool, other_value: float) -> bool:
    """Of two readings at the same ts, does (valid, value) win over (other_valid, other_value)?"""
    return (valid, value) > (other_valid, other_value)


def reading_value(reading: Reading, unit: str, *, mw: float | None, molar_volume: float | None) -> float:
    """The reading's value in `unit` (concentrations are converted; other units must match)."""
    if reading.unit == unit:
        return reading.value
    if reading.unit in CONCENTRATION_UNITS and unit in CONCENTRATION_UNITS:
        return convert_concentration(reading.value, reading.unit, unit, mw=mw, molar_volume=molar_volume)
    raise InvalidInput("unit", f"reading in {reading.unit} cannot be evaluated in {unit}")


def _max_gap_ms(max_gap_s: float) -> int:
    if not math.isfinite(max_gap_s) or max_gap_s <= 0:
        raise InvalidInput("max_gap_s", "must be a positive number of seconds")
    return round(max_gap_s * 1000)


def series_from_readings(
    readings: Iterable[Reading],
    *,
    start_ms: int,
    end_ms: int,
    unit: str,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    mw: float | None = None,
    molar_volume: float | None = None,
) -> Series:
    """Build the segments of one series (one sensor, one quantity) over [start_ms, end_ms)."""
    if end_ms <= start_ms:
        raise InvalidInput("end_ms", "the period must end after it starts")
    gap_ms = _max_gap_ms(max_gap_s)
    best: dict[int, tuple[bool, float, int | None]] = {}
    for r in readings:
        value = reading_value(r, unit, mw=mw, molar_volume=molar_volume)
        valid = r.valid_for_compliance
        iv = None if r.interval_s is None else round(r.interval_s * 1000)
        old = best.get(r.ts)
        if old is None or wins(valid, value, old[0], old[1]):
            best[r.ts] = (valid, value, iv)
    ts = sorted(best)
    ivs = [best[t][2] for t in ts]
    segments: list[Segment] = []
    flagged: list[tuple[int, int]] = []
    excluded = 0
    for i, t in enumerate(ts):
        a, b = span(ts, ivs, i, gap_ms)
        a, b = max(a, start_ms), min(b, end_ms)
        valid, value, _ = best[t]
        if not valid and start_ms <= t <= end_ms:
            excluded += 1
        if b <= a:
            continue
        if valid:
            segments.append(Segment(a, b, value))
        else:
            flagged.append((a, b))
    return Series(unit, tuple(segments), coverage_of(segments, flagged, start_ms, end_ms, excluded))


def coverage_of(
    segments: Sequence[Segment], flagged: Sequence[tuple[int, int]], start_ms: int, end_ms: int, excluded: int
) -> Coverage:
    """Coverage of [start_ms, end_ms) by sorted, non-overlapping valid segments; flagged spans name their gaps."""
    spans = sorted([(s.start_ms, s.end_ms, True) for s in segments] + [(a, b, False) for a, b in flagged])
    gaps: list[Gap] = []

    def add(a: int, b: int, reason: GapReason) -> None:
        if b <= a:
            return
        if gaps and gaps[-1].end_ms == a and gaps[-1].reason == reason:
            gaps[-1] = Gap(gaps[-1].start_ms, b, reason)
        else:
            gaps.append(Gap(a, b, reason))

    cursor = start_ms
    covered_ms = 0
    for a, b, valid in spans:
        a, b = max(a, cursor), min(b, end_ms)
        if b <= a:
            continue
        add(cursor, a, "no_data")
        if valid:
            covered_ms += b - a
        else:
            add(a, b, "flagged")
        cursor = b
    add(cursor, end_ms, "no_data")
    return Coverage(start_ms, end_ms, covered_ms / 1000.0, tuple(gaps), excluded)


def series_from_durations(
    items: Sequence[tuple[float, float]], *, unit: str, start_ms: int = 0, period_s: float | None = None
) -> Series:
    """Consecutive (value, duration_s) segments from `start_ms`, as the calculator takes them.

    The period is the sum of the durations unless `period_s` says otherwise (then the rest is a gap).
    """
    segments: list[Segment] = []
    t = start_ms
    for i, (value, duration_s) in enumerate(items):
        if not math.isfinite(value):
            raise InvalidInput(f"segment[{i}]", "value must be finite")
        if not math.isfinite(duration_s) or duration_s <= 0:
            raise InvalidInput(f"segment[{i}]", "duration must be positive")
        end = t + round(duration_s * 1000)
        segments.append(Segment(t, end, value))
        t = end
    end_ms = t if period_s is None else start_ms + round(period_s * 1000)
    if end_ms <= start_ms:
        raise InvalidInput("segments", "at least one segment is needed")
    if end_ms < t:
        raise InvalidInput("period_s", "the segments last longer than the period")
    return Series(unit, tuple(segments), coverage_of(segments, (), start_ms, end_ms, 0))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(h|hr|hrs|hours?|min|mins|minutes?|m|s|sec|secs|seconds?)\s*$")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """'4h', '30min', '90s', '1.5h' -> seconds. Raises InvalidInput for negative, zero or malformed input."""
    m = _DURATION.match(text)
    if m is None:
        raise InvalidInput("duration", f"{text!r} is not a duration like 4h, 30min or 90s")
    seconds = float(m.group(1)) * _UNIT_S[m.group(2)[0]]
    if seconds <= 0:
        raise InvalidInput("duration", f"{text!r} must be longer than zero")
    return seconds


def parse_pair(text: str, *, what: str = "segment") -> tuple[float, str]:
    """'VALUE:REST' -> (value, REST); the value must be a finite number."""
    head, sep, rest = text.partition(":")
    if not sep or not rest:
        raise InvalidInput(what, f"{text!r} is not VALUE:DURATION")
    try:
        value = float(head)
    except ValueError:
        raise InvalidInput(what, f"{head!r} in {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInput(what, f"{head!r} in {text!r} is not a finite number")
    return value, rest


def parse_segment(text: str) -> tuple[float, float]:
    """'LEVEL:DURATION' -> (level, seconds)."""
    value, rest = parse_pair(text)
    try:
        return value, parse_duration(rest)
    except InvalidInput as exc:
        raise InvalidInput("segment", f"{text!r}: {exc.reason}") from None
