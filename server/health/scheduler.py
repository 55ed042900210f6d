"""The background task that computes exposure records when shifts end and recomputes stale ones.

Its work is `compute_due_records(session, now_ms, config)`, callable directly (tests never sleep). The task runs it
every `HealthConfig.scheduler_s` seconds with the time from `app.state.clock`; it starts and stops with the app
through the health router's lifespan (server/health/routes.py), and 0 disables it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.orm import Session

from server.health.config import HealthConfig
from server.health.exposure_records import compute_shift, due_shifts
from server.health.surveillance import schedule_follow_ups

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


async def _loop(app: FastAPI, config: HealthConfig) -> None:
    while True:
        await asyncio.sleep(config.scheduler_s)
        try:
            now = int(app.state.clock())
            with app.state.sessionmaker() as session:
                report = await asyncio.to_thread(compute_due_records, session, now, config)
            if report.shifts:
                log.info("health: computed %d shift(s), %d record(s)", report.shifts, report.records)
        except Exception:  # one failing run never stops the next
            log.exception("health: scheduled computation failed")


@asynccontextmanager
async def scheduler_lifespan(app: FastAPI) -> AsyncIterator[None]:
    config = getattr(app.state, "health_config", None) or HealthConfig()
    app.state.health_config = config
    maker = getattr(app.state, "sessionmaker", None)
    if maker is not None:  # the link hooks (server/health/links.py) find the app's health config through sessions
        from server.health.links import APP_STATE_KEY

        maker.configure(info={**(maker.kw.get("info") or {}), APP_STATE_KEY: app.state})
    task = asyncio.create_task(_loop(app, config)) if config.scheduler_s > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
