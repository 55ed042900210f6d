"""The background task that computes exposure records when shifts end and recomputes stale ones.

Its work is `compute_due_records(session, now_ms, config)`, callable directly (tests never sleep). The task runs it
every `HealthConfig.scheduler_s` seconds with the app's clock; it starts and stops with the app's lifespan
(server/composition.py), and 0 disables it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from server.errors import safe_traceback
from server.health.exposure_records import compute_shift
from server.health.shift_runs import due_shifts, record_failure
from server.health.surveillance import schedule_follow_ups
from server.settings import HealthConfig

log = logging.getLogger("hazmon.health")


@dataclass(frozen=True)
class RunReport:
    shifts: int
    records: int
    follow_ups: int
    failed: int = 0


def compute_due_records(session: Session, now_ms: int, config: HealthConfig, *, limit: int = 500) -> RunReport:
    """Compute every ended, uncomputed or stale worker-shift (up to `limit`), schedule follow-up exams, commit.

    One shift at a time, each in its own transaction: a shift that fails (bad data, a bug) is rolled back and
    recorded with its reason (`record_failure`; shown by `GET /api/v1/exposure-records/failures` and as a
    standing warning), and the others are computed all the same."""
    shifts = records = follow = failed = 0
    for key in due_shifts(session, now_ms=now_ms, settle_ms=config.settle_s * 1000)[:limit]:
        try:
            new = compute_shift(session, key, config, now_ms=now_ms)
            follow += schedule_follow_ups(session, new, config, now_ms=now_ms)
            session.commit()
        except Exception as exc:  # recorded and shown; never stops the other shifts
            session.rollback()
            reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")
            if record_failure(session, key, reason, now_ms=now_ms):
                log.error("health: worker %d, shift starting %d not computed: %s", key.worker_id, key.start_ms,
                          reason)
            session.commit()
            failed += 1
            continue
        shifts += 1
        records += len(new)
    return RunReport(shifts, records, follow, failed)


async def run_scheduler(sessions: sessionmaker[Session], config: HealthConfig, clock: Callable[[], int]) -> None:
    """Every `config.scheduler_s` seconds: compute what is due at `clock()`. A failing run is logged and the next
    one goes on. Started and stopped by the app's lifespan (server/composition.py)."""
    while True:
        await asyncio.sleep(config.scheduler_s)
        try:
            with sessions() as session:
                report = await asyncio.to_thread(compute_due_records, session, int(clock()), config)
            if report.shifts or report.failed:
                log.info("health: computed %d shift(s), %d record(s); %d failed", report.shifts, report.records,
                         report.failed)
        except Exception as exc:  # one failing run never stops the next
            log.error("health: scheduled computation failed: %s", safe_traceback(exc))
