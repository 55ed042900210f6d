"""Each worker-shift's computation state (`ShiftRun`): which shifts are due, which are stale because late data
arrived, and which failed, with why. The computation itself is `exposure_records.compute_shift`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from server.health.exposure_records import ShiftKey
from server.health.models import ShiftRun
from server.org.models import Assignment, PersonalSensorAssignment, ZoneSensor


def record_failure(session: Session, key: ShiftKey, error: str, *, now_ms: int) -> bool:
    """One worker-shift could not be computed: keep why (one line) and when, and keep it due, so it is retried
    on every run and shown until it succeeds. Returns whether the reason is new (to log it once). The caller
    commits."""
    run = session.execute(select(ShiftRun).where(
        ShiftRun.worker_id == key.worker_id, ShiftRun.shift_start_ms == key.start_ms,
        ShiftRun.shift_end_ms == key.end_ms)).scalar_one_or_none()
    error = error[:300]
    if run is None:
        session.add(ShiftRun(worker_id=key.worker_id, shift_start_ms=key.start_ms, shift_end_ms=key.end_ms,
                             computed_ms=None, stale=True, stale_since_ms=now_ms, failed_ms=now_ms, error=error))
        session.flush()
        return True
    new = run.error != error
    run.stale, run.failed_ms, run.error = True, now_ms, error
    session.flush()
    return new


def failed_shifts(session: Session) -> list[ShiftRun]:
    """Worker-shifts whose last computation failed, oldest shift first."""
    return list(session.execute(select(ShiftRun).where(ShiftRun.error.is_not(None))
                                .order_by(ShiftRun.shift_start_ms, ShiftRun.worker_id)).scalars())


def due_shifts(session: Session, *, now_ms: int, settle_ms: int) -> list[ShiftKey]:
    """Worker-shifts that ended (plus the settle time) and were never computed, or were marked stale."""
    ended = session.execute(
        select(Assignment.worker_id, Assignment.shift_start_ms, Assignment.shift_end_ms)
        .where(Assignment.shift_end_ms + settle_ms <= now_ms).distinct()
    ).all()
    runs = {(r.worker_id, r.shift_start_ms, r.shift_end_ms): r
            for r in session.execute(select(ShiftRun)).scalars()}
    keys = [ShiftKey(w, a, b) for w, a, b in ended if (w, a, b) not in runs or runs[(w, a, b)].stale]

    def failing(k: ShiftKey) -> bool:
        run = runs.get((k.worker_id, k.start_ms, k.end_ms))
        return run is not None and run.error is not None

    return sorted(keys, key=lambda k: (failing(k), k.start_ms, k.worker_id))  # failing ones never crowd out others


def mark_stale(session: Session, sensor_ids: Sequence[int], since_ms: int, until_ms: int, *,
               now_ms: int | None = None, margin_ms: int = 120_000) -> int:
    """Late data arrived for `sensor_ids` (sensors.id) with timestamps in [since_ms, until_ms]: mark every
    computed worker-shift that used (or could use) those sensors then as stale, so that the scheduler computes
    a new version. Returns how many shift runs were marked. The caller commits (the ingest transaction)."""
    if not sensor_ids:
        return 0
    lo, hi = since_ms - margin_ms, until_ms + margin_ms
    zones = set(session.execute(select(ZoneSensor.zone_id).where(
        ZoneSensor.sensor_id.in_(sensor_ids), ZoneSensor.start_ms <= hi,
        or_(ZoneSensor.end_ms.is_(None), ZoneSensor.end_ms > lo))).scalars())
    workers_personal = set(session.execute(select(PersonalSensorAssignment.worker_id).where(
        PersonalSensorAssignment.sensor_id.in_(sensor_ids), PersonalSensorAssignment.start_ms <= hi,
        PersonalSensorAssignment.end_ms > lo)).scalars())
    conds = []
    if zones:
        conds.append(Assignment.zone_id.in_(zones))
    if workers_personal:
        conds.append(Assignment.worker_id.in_(workers_personal))
    if not conds:
        return 0
    keys = set(session.execute(select(Assignment.worker_id, Assignment.shift_start_ms, Assignment.shift_end_ms).where(
        or_(*conds), Assignment.shift_start_ms <= hi, Assignment.shift_end_ms > lo)).all())
    return mark_shifts_stale(session, keys, now_ms=now_ms)


def mark_shifts_stale(session: Session, keys: Iterable[tuple[int, int, int]], *, now_ms: int | None = None) -> int:
    n = 0
    for w, a, b in keys:
        run = session.execute(select(ShiftRun).where(and_(
            ShiftRun.worker_id == w, ShiftRun.shift_start_ms == a, ShiftRun.shift_end_ms == b))).scalar_one_or_none()
        if run is not None and not run.stale:
            run.stale, run.stale_since_ms = True, now_ms
            n += 1
    session.flush()
    return n
