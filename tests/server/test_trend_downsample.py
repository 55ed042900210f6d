"""Server-side downsampling of trends: buckets of whole minutes, reading-weighted (energetic for dB) means,
gaps kept as gaps, and at most `max_points` points."""

from __future__ import annotations

import math

import pytest

from server.series.downsample import MINUTE_MS, Point, bucket_ms_for, downsample


def test_bucket_is_the_smallest_whole_number_of_minutes_within_max_points():
    """7 days of minutes in at most 600 points: 17-minute buckets; a short range keeps one-minute points."""
    week = 7 * 24 * 3_600_000
    assert bucket_ms_for(0, week, 600) == 17 * MINUTE_MS
    assert math.ceil(week / bucket_ms_for(0, week, 600)) <= 600
    assert bucket_ms_for(0, 3_600_000, 600) == MINUTE_MS
    with pytest.raises(ValueError):
        bucket_ms_for(0, week, 0)


def test_bucket_mean_is_weighted_by_readings_and_keeps_extremes():
    """Two minutes (60 readings at 1.0, 30 at 4.0) make one bucket: mean 2.0, min and max of both, n 90."""
    pts = [Point(0, 1.0, 0.5, 1.5, 60), Point(MINUTE_MS, 4.0, 3.0, 9.0, 30)]
    (b,) = downsample(pts, bucket_ms=2 * MINUTE_MS)
    assert b == Point(0, 2.0, 0.5, 9.0, 90)


def test_sound_levels_merge_on_energy():
    """80 dB and 90 dB minutes of equal weight merge to 87.4 dB (energetic mean), not 85."""
    (b,) = downsample([Point(0, 80.0, 80.0, 80.0, 60), Point(MINUTE_MS, 90.0, 90.0, 90.0, 60)],
                      bucket_ms=2 * MINUTE_MS, energetic=True)
    assert b.mean == pytest.approx(10 * math.log10((10**8 + 10**9) / 2))


def test_a_gap_stays_a_gap():
    """Minutes without readings make no bucket: no zeros, no carried values."""
    pts = [Point(0, 1.0, 1.0, 1.0, 1), Point(10 * MINUTE_MS, 2.0, 2.0, 2.0, 1)]
    out = downsample(pts, bucket_ms=5 * MINUTE_MS)
    assert [p.minute_ms for p in out] == [0, 10 * MINUTE_MS]


def test_a_week_of_minutes_draws_from_under_five_thousand_points():
    """10,080 one-minute points thinned for 600 points give at most 600, covering every reading."""
    pts = [Point(m * MINUTE_MS, float(m % 7), 0.0, 6.0, 60) for m in range(7 * 24 * 60)]
    out = downsample(pts, bucket_ms=bucket_ms_for(0, 7 * 24 * 3_600_000, 600))
    assert len(out) <= 600
    assert sum(p.n for p in out) == 60 * len(pts)
