"""The folded shift sums (server/web/shift_totals.py) equal the sums over the whole shift read again, refresh after
refresh, through gaps, flagged and duplicate readings, averaged readings, a unit change and a backfill."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest

from exposure.chemical import integral
from exposure.noise import dose_criterion, dose_fraction_of
from exposure.readings import Reading
from exposure.segments import Segment
from server.events import ReadingsBackfilled
from server.web.shift_totals import LOOK_MS, SETTLE_MS, STEP_MS, ShiftTotals, window_sums

SINCE = 1_700_000_000_000
OSHA = dose_criterion("osha-pel")


def dose(segs: Sequence[Segment]) -> float:
    return dose_fraction_of(segs, OSHA)


def stream(seed: int, *, hours: float, interval_s: float | None) -> list[Reading]:
    """1 Hz-ish readings with jitter, silences, flagged and duplicate readings."""
    rnd = random.Random(seed)
    out: list[Reading] = []
    t = SINCE - 30_000
    end = SINCE + round(hours * 3_600_000)
    while t < end:
        if rnd.random() < 0.002:
            t += rnd.randint(30_000, 400_000)  # a silence, some longer than the hold
        flags = ("sensor_fault",) if rnd.random() < 0.01 else ()
        out.append(Reading("s", "laeq", 80 + 15 * rnd.random(), "dB(A)", t, interval_s, flags))
        if rnd.random() < 0.01:
            out.append(Reading("s", "laeq", 80 + 15 * rnd.random(), "dB(A)", t, interval_s, ()))
        t += 1000 + rnd.randint(-200, 200)
    return out


class Table:
    """The stored readings as the database would return them (a `shift_totals.Source`): those that arrived by
    `now_ms`, oldest first."""

    def __init__(self, readings: list[Reading]) -> None:
        self.readings = readings
        self.hidden: set[int] = set()
        self.fetched = 0
        self.now_ms = 0

    def fetch(self, _session: object, from_ms: int, to_ms: int, *, now_ms: int) -> list[Reading]:
        rows = [r for i, r in enumerate(self.readings)
                if i not in self.hidden and from_ms <= r.ts <= to_ms and r.ts <= now_ms]
        self.fetched += len(rows)
        return sorted(rows, key=lambda r: r.ts)

    def readings_(self, session: object, from_ms: int, to_ms: int) -> list[Reading]:
        return self.fetch(session, from_ms, to_ms, now_ms=self.now_ms)

    def count(self, session: object, from_ms: int, to_ms: int) -> int:
        return len([r for i, r in enumerate(self.readings)
                    if i not in self.hidden and from_ms <= r.ts <= to_ms and r.ts <= self.now_ms])


class Source:
    def __init__(self, table: Table) -> None:
        self.table = table

    def readings(self, session: object, from_ms: int, to_ms: int) -> list[Reading]:
        return self.table.readings_(session, from_ms, to_ms)

    def count(self, session: object, from_ms: int, to_ms: int) -> int:
        return self.table.count(session, from_ms, to_ms)


def full(table: Table, now_ms: int, per_segments=dose, since: int = SINCE) -> tuple[float, int]:
    rows = table.fetch(None, since - LOOK_MS, now_ms, now_ms=now_ms)
    return window_sums(rows, since, now_ms, rows[-1].unit, per_segments)


def check(totals: ShiftTotals, table: Table, now_ms: int, per_segments=dose, key: str = "k",
          since: int = SINCE) -> int:
    """Compare the folded sums with the whole shift's; returns how many readings the folded refresh read."""
    table.fetched = 0
    table.now_ms = now_ms
    got = totals.totals(None, key, sensor_id=1, since_ms=since, now_ms=now_ms,  # type: ignore[arg-type]
                        source=Source(table), per_segments=per_segments)
    read = table.fetched
    want_total, want_covered = full(table, now_ms, per_segments, since)
    assert got is not None
    assert got.covered_ms == want_covered
    assert math.isclose(got.total, want_total, rel_tol=1e-9, abs_tol=1e-12)
    return read


@pytest.mark.parametrize("interval_s", [None, 1.0, 60.0])
def test_refreshes_equal_the_whole_shift_read_again(interval_s: float | None) -> None:
    table = Table(stream(7, hours=2, interval_s=interval_s))
    now = [SINCE + 5_000]
    totals = ShiftTotals(lambda: now[0])
    while now[0] < SINCE + 2 * 3_600_000:
        check(totals, table, now[0])
        check(totals, table, now[0], per_segments=integral, key="twa")
        now[0] += random.Random(now[0]).randint(1_000, 120_000)


def test_a_sliding_shift_takes_off_what_slid_out() -> None:
    """Nobody rostered: the shift is the last hours, and its start moves with every refresh."""
    table = Table(stream(5, hours=3, interval_s=None))
    now = [SINCE + 3_600_000]
    totals = ShiftTotals(lambda: now[0])
    while now[0] < SINCE + 3 * 3_600_000:
        check(totals, table, now[0], since=now[0] - 3_600_000)
        check(totals, table, now[0], per_segments=integral, key="twa", since=now[0] - 3_600_000)
        now[0] += random.Random(now[0]).randint(1_000, 200_000)


def test_a_refresh_reads_only_the_unsettled_part() -> None:
    table = Table(stream(3, hours=3, interval_s=1.0))
    now = [SINCE + 3 * 3_600_000 - 10_000]
    totals = ShiftTotals(lambda: now[0])
    first = check(totals, table, now[0])
    now[0] += 5_000
    again = check(totals, table, now[0])
    # the first read the whole shift; a refresh reads from the fold's end minus the look-around
    assert first > 5_000
    assert again <= (SETTLE_MS + STEP_MS + LOOK_MS + 5_000) // 1000 * 1.25


def test_a_backfill_is_folded_in() -> None:
    readings = stream(11, hours=2, interval_s=1.0)
    table = Table(readings)
    # an outage: readings of 20 minutes in the middle arrive late
    table.hidden = {i for i, r in enumerate(readings) if SINCE + 1_800_000 <= r.ts < SINCE + 3_000_000}
    now = [SINCE + 3_600_000]
    totals = ShiftTotals(lambda: now[0])
    check(totals, table, now[0])
    table.hidden = set()
    totals.on_backfill(None, ReadingsBackfilled(sensor_ids=(1,), since_ms=SINCE + 1_800_000,  # type: ignore[arg-type]
                                                until_ms=SINCE + 3_000_000, now_ms=now[0]))
    for _ in range(40):  # through the grace time and after it
        now[0] += 2_000
        check(totals, table, now[0])


def test_a_unit_change_starts_again_in_the_new_unit() -> None:
    readings = [Reading("s", "h2s", 2.0, "ppm", SINCE + i * 1000) for i in range(1800)]
    readings += [Reading("s", "h2s", 3.0, "mg/m3", SINCE + i * 1000) for i in range(1800, 2400)]
    table = Table(readings)
    now = [SINCE + 1_900_000]
    totals = ShiftTotals(lambda: now[0])
    now[0] = SINCE + 1_700_000
    check(totals, table, now[0], per_segments=integral)
    now[0] = SINCE + 2_400_000
    check(totals, table, now[0], per_segments=integral)
    got = totals.totals(None, "k2", sensor_id=1, since_ms=SINCE, now_ms=now[0],  # type: ignore[arg-type]
                        source=Source(table), per_segments=integral)
    assert got is not None and got.unit == "mg/m3"
