"""The settled part of each sensor's shift, folded once: the dashboard and zone pages refresh every few seconds,
and re-reading a whole shift of 1 Hz readings each time costs seconds for 100 sensors (benchmarks/pages.py).

A shift's noise dose (sum Cn/Tn) and a substance's TWA (sum Ci x Ti) are sums over the segments that
`exposure.segments.series_from_readings` builds, and a segment depends only on its reading and that reading's
neighbours. So [since, now) splits exactly at any boundary B: the segments clipped to [since, B) come from the
readings within `LOOK_MS` of that window, and those clipped to [B, now) from the readings from B - `LOOK_MS` on
(exact while no averaged reading covers more than `LOOK_MS`; a series with longer intervals is never folded).

`ShiftTotals` keeps, per (sensor, quantity, criterion or limit), the sums folded up to B = now - `SETTLE_MS`,
rounded down to `STEP_MS`; each refresh reads only the readings from B - `LOOK_MS`. Readings for a folded time
can only arrive as a backfill (older than the ingest's BACKFILL_MS, published as `ReadingsBackfilled`), and a
backfill makes the sensor's folds be built again: for `GRACE_MS` after the event, so a backfill committed just
after a refresh read the table is never missed. The memo is per process: a backfill ingested by another replica
reaches this one's folds only at the next shift (docs/architecture.md, "What the server guarantees").

Folding a shift from scratch (after a restart, a backfill, a new shift) reads all of it: about 18 us a reading,
so 100 sensors' 8 h of 1 Hz take the better part of a minute. A request never waits for that: a series with more
than `INLINE_MAX` readings to fold is handed to one background thread, and the page shows it as being computed
(`Totals.pending`) until the fold is there.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from exposure.readings import Reading
from exposure.segments import DEFAULT_MAX_GAP_S, Segment, series_from_readings
from server.events import ReadingsBackfilled
from server.ingest.service import BACKFILL_MS

#: readings this far either side of a window decide its segments (the hold of a sample, and averaged readings)
LOOK_MS = round(DEFAULT_MAX_GAP_S * 1000)
#: what may still change without a backfill: readings younger than BACKFILL_MS, and what they cover
SETTLE_MS = BACKFILL_MS + LOOK_MS
#: the fold advances in steps, so consecutive refreshes mostly reuse it
STEP_MS = 30_000
#: a backfill's readings are committed within this after its event
GRACE_MS = 30_000
#: a series with more readings than this to fold from scratch is folded by the background worker, not the request
INLINE_MAX = 1_000
#: the worker brings the figures of the series pages asked for up to date this often ...
REFRESH_MS = 5_000
#: ... a request takes a figure this old from it rather than computing one itself ...
FRESH_MS = 3 * REFRESH_MS
#: ... and a series nobody asked for in this long is no longer refreshed
ACTIVE_MS = 10 * 60_000

log = logging.getLogger(__name__)

#: the valid segments of a window -> what is summed over them (a dose fraction, an integral)
PerSegments = Callable[[Sequence[Segment]], float]


class Source(Protocol):
    """One series' stored readings (one sensor, one quantity)."""

    def readings(self, session: Session, from_ms: int, to_ms: int) -> list[Reading]:
        """The readings with from_ms <= ts <= to_ms, oldest first."""
        ...

    def count(self, session: Session, from_ms: int, to_ms: int) -> int:
        """How many readings `readings` would return."""
        ...


@dataclass
class _Fold:
    since_ms: int
    unit: str
    upto_ms: int
    total: float
    covered_ms: int
    built_ms: int


@dataclass(frozen=True)
class Totals:
    """A series' sum over [since_ms, now) in `unit` (readings in other units are left out) and the ms covered;
    `pending`: not known yet, the background worker is folding the shift. `since_ms`, when set, is where the sum
    starts if not where the caller asked: a sliding shift's previous step (at most STEP_MS earlier)."""

    unit: str
    total: float
    covered_ms: int
    pending: bool = False
    since_ms: int | None = None


PENDING = Totals("", 0.0, 0, pending=True)


@dataclass(frozen=True)
class _Job:
    key: Hashable
    sensor_id: int
    since_ms: int
    source: Source
    per_segments: PerSegments


@dataclass(frozen=True)
class _Result:
    totals: Totals | None
    since_ms: int
    at_ms: int


def window_sums(readings: Sequence[Reading], start_ms: int, end_ms: int, unit: str,
                per_segments: PerSegments) -> tuple[float, int]:
    """The sum `per_segments` gives over the valid segments of `readings` (those in `unit`) clipped to
    [start_ms, end_ms), and the ms they cover."""
    if end_ms <= start_ms:
        return 0.0, 0
    same = [r for r in readings if r.unit == unit]
    if not same:
        return 0.0, 0
    series = series_from_readings(same, start_ms=start_ms, end_ms=end_ms, unit=unit)
    return per_segments(series.segments), round(series.coverage.covered_s * 1000)


class ShiftTotals:
    """Folded shift sums per series, shared by every request of this process (thread-safe). With `sessions`,
    large folds from scratch run on a background thread of its own; without, every fold runs in the request."""

    def __init__(self, clock: Callable[[], int], sessions: sessionmaker[Session] | None = None) -> None:
        self._clock = clock
        self._sessions = sessions
        self._folds: dict[Hashable, _Fold] = {}
        self._backfilled: dict[int, int] = {}  # sensor id -> when its last backfill event came
        self._queued: set[Hashable] = set()
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._results: dict[Hashable, _Result] = {}
        self._active: dict[Hashable, tuple[_Job, int]] = {}  # what pages asked for, and when they last did
        self._worker: threading.Thread | None = None
        self._closed = threading.Event()
        self._lock = threading.Lock()

    def on_backfill(self, session: Session, event: ReadingsBackfilled) -> None:
        """Subscriber of `ReadingsBackfilled`: the sensors' folds are built again from now on."""
        now = int(self._clock())
        with self._lock:
            for sid in event.sensor_ids:
                self._backfilled[sid] = now

    def _fold_of(self, key: Hashable, sensor_id: int) -> _Fold | None:
        with self._lock:
            fold = self._folds.get(key)
            if fold is None:
                return None
            marked = self._backfilled.get(sensor_id)
            if marked is not None and fold.built_ms <= marked + GRACE_MS:
                del self._folds[key]
                return None
            return fold

    def _store(self, key: Hashable, fold: _Fold) -> None:
        with self._lock:
            self._folds[key] = fold

    def close(self) -> None:
        """Stop the worker (the app stops); waits for the fold it is doing."""
        self._closed.set()
        with self._lock:
            worker = self._worker
        if worker is not None:
            worker.join(timeout=10)

    def _start_worker(self) -> None:
        """(With the lock held.)"""
        if self._closed.is_set():
            return
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="shift-totals", daemon=True)
            self._worker.start()

    def _defer(self, job: _Job) -> Totals:
        """Hand a large fold from scratch to the worker (once per series) and say it is pending."""
        with self._lock:
            if job.key not in self._queued:
                self._queued.add(job.key)
                self._jobs.put(job)
            self._start_worker()
        return PENDING

    def _run(self, job: _Job) -> None:
        assert self._sessions is not None
        now = int(self._clock())
        try:
            with self._sessions() as session:
                t = self._compute(session, job.key, sensor_id=job.sensor_id, since_ms=job.since_ms, now_ms=now,
                                  source=job.source, per_segments=job.per_segments, inline=True)
        except Exception as exc:  # the next request computes it itself, and says so if that fails too
            log.error("folding a shift failed: %s", type(exc).__name__)
            return
        with self._lock:
            self._results[job.key] = _Result(t, job.since_ms, now)

    def _work(self) -> None:
        """Fold what requests deferred; every REFRESH_MS, bring the series pages asked for up to date."""
        last = 0
        while not self._closed.is_set():
            try:
                job = self._jobs.get(timeout=min(1.0, REFRESH_MS / 1000))
            except queue.Empty:
                job = None
            if self._closed.is_set():
                return
            if job is not None:
                self._run(job)
                with self._lock:
                    self._queued.discard(job.key)
            now = int(self._clock())
            if now - last < REFRESH_MS:
                continue
            last = now
            with self._lock:
                for key in [k for k, (_, asked) in self._active.items() if now - asked > ACTIVE_MS]:
                    del self._active[key]
                    self._results.pop(key, None)
                keys = list(self._active)
            for key in keys:
                if self._closed.wait(0.002):  # and let the requests' threads run between two series
                    return
                with self._lock:  # the latest request's job: its shift start may have moved on since
                    entry = self._active.get(key)
                if entry is not None:
                    self._run(entry[0])

    def _fresh(self, key: Hashable, sensor_id: int, since_ms: int, now_ms: int) -> _Result | None:
        """(With the lock held.) The worker's figure for the series, when it is recent and nothing since made it
        stale."""
        r = self._results.get(key)
        # a sliding shift moves its start by a step every STEP_MS: the previous step's figure will do until the
        # worker has the new one (the caller is told where it starts)
        if r is None or not 0 <= since_ms - r.since_ms <= STEP_MS or not 0 <= now_ms - r.at_ms <= FRESH_MS:
            return None
        marked = self._backfilled.get(sensor_id)
        if marked is not None and r.at_ms <= marked + GRACE_MS:
            return None
        return r

    def totals(self, session: Session, key: Hashable, *, sensor_id: int, since_ms: int, now_ms: int,
               source: Source, per_segments: PerSegments) -> Totals | None:
        """The series' totals over [since_ms, now_ms), or None without readings, or `PENDING` while the
        background worker folds it. `key` names the series and what is summed (sensor, quantity, criterion or
        limit). With a background worker, the figure may be up to FRESH_MS old (the worker keeps it within
        REFRESH_MS); without one, it is computed in this call."""
        if self._sessions is None:
            return self._compute(session, key, sensor_id=sensor_id, since_ms=since_ms, now_ms=now_ms,
                                 source=source, per_segments=per_segments, inline=True)
        job = _Job(key, sensor_id, since_ms, source, per_segments)
        with self._lock:
            self._active[key] = (job, now_ms)
            self._start_worker()
            r = self._fresh(key, sensor_id, since_ms, now_ms)
        if r is not None:
            if r.totals is None or r.since_ms == since_ms:
                return r.totals
            return dataclasses.replace(r.totals, since_ms=r.since_ms)
        t = self._compute(session, key, sensor_id=sensor_id, since_ms=since_ms, now_ms=now_ms, source=source,
                          per_segments=per_segments, inline=False)
        if t is not PENDING:
            with self._lock:
                self._results[key] = _Result(t, since_ms, now_ms)
        return t

    def _compute(self, session: Session, key: Hashable, *, sensor_id: int, since_ms: int, now_ms: int,
                 source: Source, per_segments: PerSegments, inline: bool) -> Totals | None:
        """The totals from the fold and the readings after it; `inline` folds in this call whatever its size,
        else a large fold from scratch is deferred to the worker (`PENDING`)."""
        if now_ms <= since_ms:
            return None
        started = int(self._clock())  # a backfill event after this may not be in what is read below
        target = max(since_ms, (now_ms - SETTLE_MS) // STEP_MS * STEP_MS)
        fold = self._fold_of(key, sensor_id)
        if fold is not None and fold.since_ms != since_ms:
            if fold.since_ms < since_ms <= fold.upto_ms:
                # a sliding shift ("the last 8 h"): take off the part that slid out
                head = source.readings(session, fold.since_ms - LOOK_MS, since_ms + LOOK_MS)
                t, c = window_sums(head, fold.since_ms, since_ms, fold.unit, per_segments)
                fold = _Fold(since_ms, fold.unit, fold.upto_ms, fold.total - t, fold.covered_ms - c, fold.built_ms)
                self._store(key, fold)
            else:
                fold = None
        job = _Job(key, sensor_id, since_ms, source, per_segments)
        if fold is None and not inline and self._sessions is not None \
                and source.count(session, since_ms - LOOK_MS, now_ms) > INLINE_MAX:
            return self._defer(job)
        start = since_ms if fold is None else fold.upto_ms
        readings = source.readings(session, start - LOOK_MS, now_ms)
        if readings:
            unit = readings[-1].unit
        elif fold is not None:
            unit = fold.unit
        else:
            return None
        if fold is not None and fold.unit != unit:  # the sensor reports in another unit now: start again
            with self._lock:
                self._folds.pop(key, None)
            return self._compute(session, key, sensor_id=sensor_id, since_ms=since_ms, now_ms=now_ms,
                                 source=source, per_segments=per_segments, inline=inline)
        longest = max((r.interval_s or 0.0 for r in readings), default=0.0) * 1000
        foldable = longest <= LOOK_MS
        total, covered = (0.0, 0) if fold is None else (fold.total, fold.covered_ms)
        if foldable and target > start:
            # the settled part: [start, target), from the readings that decide it
            settled = [r for r in readings if r.ts <= target + LOOK_MS]
            t, c = window_sums(settled, start, target, unit, per_segments)
            total, covered = total + t, covered + c
            built = fold.built_ms if fold is not None else started
            self._store(key, _Fold(since_ms, unit, target, total, covered, built))
            start = target
            readings = [r for r in readings if r.ts >= start - LOOK_MS]
        t, c = window_sums(readings, start, now_ms, unit, per_segments)
        if covered + c <= 0:
            return Totals(unit, 0.0, 0)
        return Totals(unit, total + t, covered + c)
