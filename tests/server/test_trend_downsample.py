"""Server-side downsampling of trends: buckets of whole minutes, reading-weighted (energetic for dB) means,
gaps kept as gaps, and at most `max_points` points."""

from __future__ import annotations

import math

import pytest

from server.series.downsample import MINUTE_MS, Point, bucket_ms_for, downsample
from tests.server.api_kit import batch, reading


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
    shifted = [Point(p.minute_ms + 7 * MINUTE_MS, p.mean, p.min, p.max, p.n) for p in pts]  # any alignment
    assert len(downsample(shifted, bucket_ms=17 * MINUTE_MS, origin=7 * MINUTE_MS)) <= 600
    assert sum(p.n for p in out) == 60 * len(pts)


def test_the_trend_endpoint_thins_a_week_to_max_points(client, agent_headers, admin_headers):
    """GET /api/v1/trend?max_points=100 over 7 days answers at most 100 buckets of whole minutes (`bucket_ms`),
    each the reading-weighted mean of its minutes; without max_points it keeps one-minute points."""
    t0 = 1_764_000_000_000 - 1_764_000_000_000 % (7 * 24 * 3_600_000)
    readings = [reading(value=float(k % 4), ts=t0 + k * 600_000 + 1) for k in range(7 * 24 * 6)]  # every 10 min
    r = client.post("/api/v1/ingest", content=batch(1, readings), headers=agent_headers)
    assert r.status_code == 200, r.text
    week = {"sensor": "tank-3-gas", "quantity": "h2s", "since": t0, "until": t0 + 7 * 24 * 3_600_000}
    full = client.get("/api/v1/trend", params=week, headers=admin_headers).json()
    assert full["bucket_ms"] == MINUTE_MS and len(full["points"]) == len(readings)
    thin = client.get("/api/v1/trend", params={**week, "max_points": 100}, headers=admin_headers).json()
    assert thin["bucket_ms"] == 101 * MINUTE_MS and len(thin["points"]) <= 100
    assert sum(p["n"] for p in thin["points"]) == len(readings)
    first = [float(k % 4) for k in range(len(readings)) if k * 600_000 + 1 < 101 * MINUTE_MS]
    assert thin["points"][0]["mean"] == pytest.approx(sum(first) / len(first))
