"""Fewer points for a chart: one-minute trend points merged into buckets of whole minutes, so that a 7-day series
draws from a few hundred points. A bucket's mean is the reading-weighted mean of its minutes (the energetic mean
for sound levels, as the rollups keep it), its min and max the extremes, its n the readings it holds. Empty
minutes stay empty: a bucket exists only where readings do, so a gap stays a gap."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

MINUTE_MS = 60_000


@dataclass(frozen=True)
class Point:
    """One trend point: the bucket's start (ms), mean, min, max and number of readings."""

    minute_ms: int
    mean: float
    min: float
    max: float
    n: int


def bucket_ms_for(since: int, until: int, max_points: int) -> int:
    """The smallest whole number of minutes per bucket that covers [since, until) in at most `max_points`."""
    if max_points < 1:
        raise ValueError("max_points must be at least 1")
    minutes = math.ceil((until - since) / MINUTE_MS)
    return max(1, math.ceil(minutes / max_points)) * MINUTE_MS


def downsample(points: Iterable[Point], *, bucket_ms: int, origin: int = 0, energetic: bool = False) -> list[Point]:
    """Merge points (oldest first) into buckets of `bucket_ms` starting at `origin` (the range's first minute: so
    a range of `max_points` buckets holds no more, whatever its alignment)."""
    out: list[Point] = []
    start: int | None = None
    total = 0.0
    lo = hi = 0.0
    n = 0

    def close() -> None:
        if start is not None and n:
            mean = 10 * math.log10(total / n) if energetic else total / n
            out.append(Point(minute_ms=start, mean=mean, min=lo, max=hi, n=n))

    for p in points:
        if p.n <= 0:
            continue
        b = p.minute_ms - (p.minute_ms - origin) % bucket_ms
        if b != start:
            close()
            start, total, lo, hi, n = b, 0.0, p.min, p.max, 0
        total += (10 ** (p.mean / 10) if energetic else p.mean) * p.n
        lo, hi, n = min(lo, p.min), max(hi, p.max), n + p.n
    close()
    return out
