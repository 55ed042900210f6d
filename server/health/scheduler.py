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

from server.health.exposure_records import compute_shift, due_shifts
from server.health.surveillance import schedule_follow_ups
from server.settings import HealthConfig

log = logging.getLogger("hazmon.health")


@dataclass(frozen=True)
class RunReport:
    shifts: int
    records: int
    follow_ups: int


def compute_due_records(session: Session, now_ms: int, config: HealthConfig, *, limit: int = 500) -> RunReport:
    """Compute every ended, uncomputed or stale worker-shift (up to `limit`), schedule follow-up exams, commit."""
    shifts = records = follow = 0
    for key in due_shifts(session, now_ms=now_ms, settle_ms=config.settle_s * 1000)[:limit]:
        new = compute_shift(session, key, config, now_ms=now_ms)
        follow += schedule_follow_ups(session, new, config, now_ms=now_ms)
        session.commit()  # one shift at a time: a failure loses no finished work
        shifts += 1
        records += len(new)
    return RunReport(shifts, records, follow)


async def run_scheduler(sessions: sessionmaker[Session], config: HealthConfig, clock: Callable[[], int]) -> None:
    """Every `config.scheduler_s` seconds: compute what is due at `clock()`. A failing run is logged and the next
    one goes on. Started and stopped by the app's lifespan (server/composition.py)."""
    while True:
        await asyncio.sleep(config.scheduler_s)
        try:
            with sessions() as session:
                report = await asyncio.to_thread(compute_due_records, session, int(clock()), config)
            if report.shifts:
                log.info("health: computed %d shift(s), %d record(s)", report.shifts, report.records)
        except Exception:  # one failing run never stops the next
            log.exception("health: scheduled computation failed")
