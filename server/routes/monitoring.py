"""Sensors, readings, alerts and the status summary: what the live page and integrations read."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, or_, select

from server.db.models import Agent, Alert, IngestedBatch, Latest, ReadingRow, Sensor
from server.delivery.models import DeliveryGap
from server.deps import SessionDep, StaffDep

router = APIRouter(tags=["monitoring"])


class LatestValue(BaseModel):
    quantity: str
    value: float
    unit: str
    ts: int
    flags: list[str]


class SensorOut(BaseModel):
    name: str
    site: str
    agent: str
    state: Literal["ok", "alert", "stale"]
    latest: list[LatestValue]


class ReadingOut(BaseModel):
    sensor: str
    quantity: str
    value: float
    unit: str
    ts: int
    interval_s: float | None
    flags: list[str]


class GapOut(BaseModel):
    agent: str
    first_seq: int
    last_seq: int
    after_ts: int | None
    before_ts: int | None


class Coverage(BaseModel):
    """Whether the server holds everything the sensor's agent sent for the period: batches known to be missing
    (the gap ledger) whose time range overlaps the period are listed."""

    complete: bool
    gaps: list[GapOut]


class ReadingsOut(BaseModel):
    sensor: str
    readings: list[ReadingOut]
    coverage: Coverage


class StatusOut(BaseModel):
    readings_total: int
    batches_total: int
    sensors: int
    agents: int
    alerts_open: int
    alerts_total: int
    counters: dict[str, int]


STALE_MS = 5 * 60 * 1000


def _flags(s: str) -> list[str]:
    return [f for f in s.split(",") if f]


@router.get("/sensors", summary="Every sensor with its latest values and state")
def list_sensors(request: Request, session: SessionDep, _: StaffDep) -> list[SensorOut]:
    now = request.app.state.clock()
    sensors = session.execute(
        select(Sensor.id, Sensor.name, Sensor.site, Agent.name.label("agent"))
        .join(Agent, Agent.id == Sensor.agent_id)
        .order_by(Sensor.site, Sensor.name)
    ).all()
    latest: dict[int, list[LatestValue]] = {}
    for row in session.execute(select(Latest).order_by(Latest.quantity)).scalars():
        latest.setdefault(row.sensor_id, []).append(
            LatestValue(quantity=row.quantity, value=row.value, unit=row.unit, ts=row.ts, flags=_flags(row.flags))
        )
    alerting = set(session.execute(select(Alert.sensor_id).where(Alert.state != "resolved")).scalars())
    out = []
    for s in sensors:
        values = latest.get(s.id, [])
        newest = max((v.ts for v in values), default=0)
        state = "alert" if s.id in alerting else ("stale" if now - newest > STALE_MS else "ok")
        out.append(SensorOut(name=s.name, site=s.site, agent=s.agent, state=state, latest=values))
    return out


@router.get("/readings", summary="Readings of one sensor, oldest first")
def list_readings(
    session: SessionDep,
    _: StaffDep,
    sensor: Annotated[str, Query(max_length=128)],
    quantity: Annotated[str | None, Query(max_length=32)] = None,
    since: Annotated[int | None, Query(description="ms since the epoch, inclusive")] = None,
    until: Annotated[int | None, Query(description="ms since the epoch, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> ReadingsOut:
    found = session.execute(select(Sensor.id, Sensor.agent_id).where(Sensor.name == sensor)).all()
    if not found:
        raise HTTPException(404, f"no sensor {sensor!r}")
    sensor_ids = [row.id for row in found]
    q = select(ReadingRow).where(ReadingRow.sensor_id.in_(sensor_ids))
    if quantity:
        q = q.where(ReadingRow.quantity == quantity)
    if since is not None:
        q = q.where(ReadingRow.ts >= since)
    if until is not None:
        q = q.where(ReadingRow.ts < until)
    rows = session.execute(q.order_by(ReadingRow.ts, ReadingRow.id).limit(limit)).scalars()
    readings = [
        ReadingOut(
            sensor=sensor,
            quantity=r.quantity,
            value=r.value,
            unit=r.unit,
            ts=r.ts,
            interval_s=r.interval_s,
            flags=_flags(r.flags),
        )
        for r in rows
    ]
    return ReadingsOut(
        sensor=sensor, readings=readings, coverage=_coverage(session, {r.agent_id for r in found}, since, until)
    )


def _coverage(session: SessionDep, agent_ids: set[int], since: int | None, until: int | None) -> Coverage:
    q = (
        select(DeliveryGap, Agent.name)
        .join(Agent, Agent.id == DeliveryGap.agent_id)
        .where(DeliveryGap.agent_id.in_(agent_ids))
    )
    if since is not None:  # a gap overlaps [since, until) unless it ends before or starts after it
        q = q.where(or_(DeliveryGap.before_ts.is_(None), DeliveryGap.before_ts >= since))
    if until is not None:
        q = q.where(or_(DeliveryGap.after_ts.is_(None), DeliveryGap.after_ts < until))
    gaps = [
        GapOut(agent=name, first_seq=g.first_seq, last_seq=g.last_seq, after_ts=g.after_ts, before_ts=g.before_ts)
        for g, name in session.execute(q.order_by(DeliveryGap.first_seq)).all()
    ]
    return Coverage(complete=not gaps, gaps=gaps)


@router.get("/status", summary="Counts of what is stored, and what was refused")
def server_status(request: Request, session: SessionDep, _: StaffDep) -> StatusOut:
    def count(q) -> int:  # type: ignore[no-untyped-def]
        return int(session.execute(q).scalar_one())

    return StatusOut(
        readings_total=count(select(func.coalesce(func.sum(IngestedBatch.n_readings), 0))),
        batches_total=count(select(func.count()).select_from(IngestedBatch)),
        sensors=count(select(func.count()).select_from(Sensor)),
        agents=count(select(func.count()).select_from(Agent)),
        alerts_open=count(select(func.count()).select_from(Alert).where(Alert.state != "resolved")),
        alerts_total=count(select(func.count()).select_from(Alert)),
        counters=request.app.state.counters.snapshot(),
    )
