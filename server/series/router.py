"""Reads of the series: one sensor's readings with the coverage of the period (batches known to be missing),
and one-minute trends (InfluxDB when configured, else the SQL rollups)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from server.accounts.audit import audit
from server.accounts.auth import AdminDep, StaffDep
from server.series.downsample import Point, bucket_ms_for, downsample
from server.series.models import LEVELS, Agent, DeliveryGap, EdgeGapRow, ReadingRow, Rollup1m, energy_to_level
from server.series.rows import flags_of, select_readings
from server.series.sensors import find_sensor
from server.services import ServicesDep, SessionDep

router = APIRouter(tags=["monitoring"])
SiteQuery = Annotated[str | None, Query(max_length=64, description="the sensor's site, when two sites share names")]


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


class DroppedOut(BaseModel):
    """Readings of the sensor its agent could not keep (`reason`: disk_full), between from_ts and to_ts."""

    agent: str
    from_ts: int
    to_ts: int
    dropped: int
    reason: str


class Coverage(BaseModel):
    """Whether the server holds everything the sensor's agent measured for the period: batches known to be
    missing (the gap ledger) and readings the agent reported it dropped, overlapping the period, are listed."""

    complete: bool
    gaps: list[GapOut]
    dropped: list[DroppedOut] = []


class ReadingsOut(BaseModel):
    sensor: str
    readings: list[ReadingOut]
    coverage: Coverage


@router.get("/readings", summary="Readings of one sensor, oldest first")
def list_readings(
    session: SessionDep,
    _: StaffDep,
    sensor: Annotated[str, Query(max_length=128)],
    quantity: Annotated[str | None, Query(max_length=32)] = None,
    since: Annotated[int | None, Query(description="ms since the epoch, inclusive")] = None,
    until: Annotated[int | None, Query(description="ms since the epoch, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    site: SiteQuery = None,
) -> ReadingsOut:
    found = find_sensor(session, sensor, site)
    q = select_readings().where(ReadingRow.sensor_id == found.id)
    if quantity:
        q = q.where(ReadingRow.quantity == quantity)
    if since is not None:
        q = q.where(ReadingRow.ts >= since)
    if until is not None:
        q = q.where(ReadingRow.ts < until)
    rows = session.execute(q.order_by(ReadingRow.ts, ReadingRow.id).limit(limit))
    readings = [
        ReadingOut(
            sensor=sensor,
            quantity=r.quantity,
            value=r.value,
            unit=r.unit,
            ts=r.ts,
            interval_s=r.interval_s,
            flags=list(flags_of(r.flags)),
        )
        for r in rows
    ]
    return ReadingsOut(
        sensor=sensor, readings=readings,
        coverage=_coverage(session, sensor, {found.agent_id}, since, until)
    )


def _coverage(
    session: SessionDep, sensor: str, agent_ids: set[int], since: int | None, until: int | None
) -> Coverage:
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
    d = (
        select(EdgeGapRow, Agent.name)
        .join(Agent, Agent.id == EdgeGapRow.agent_id)
        .where(EdgeGapRow.agent_id.in_(agent_ids), EdgeGapRow.sensor == sensor)
    )
    if since is not None:
        d = d.where(EdgeGapRow.to_ts >= since)
    if until is not None:
        d = d.where(EdgeGapRow.from_ts < until)
    dropped = [
        DroppedOut(agent=name, from_ts=e.from_ts, to_ts=e.to_ts, dropped=e.dropped, reason=e.reason)
        for e, name in session.execute(d.order_by(EdgeGapRow.from_ts)).all()
    ]
    return Coverage(complete=not gaps and not dropped, gaps=gaps, dropped=dropped)


class TrendPoint(BaseModel):
    minute_ms: int
    mean: float
    min: float
    max: float
    n: int


class TrendOut(BaseModel):
    sensor: str
    quantity: str
    source: str
    bucket_ms: int = 60_000
    points: list[TrendPoint]


def _trend_out(sensor: str, quantity: str, source: str, points: Iterable[Point], since: int, until: int,
               max_points: int | None) -> TrendOut:
    """The trend in buckets of whole minutes, at most `max_points` of them (server/series/downsample.py)."""
    bucket = 60_000 if max_points is None else bucket_ms_for(since, until, max_points)
    if bucket != 60_000:
        points = downsample(points, bucket_ms=bucket, origin=since - since % 60_000, energetic=quantity in LEVELS)
    return TrendOut(sensor=sensor, quantity=quantity, source=source, bucket_ms=bucket, points=[
        TrendPoint(minute_ms=p.minute_ms, mean=p.mean, min=p.min, max=p.max, n=p.n) for p in points])


@router.get("/trend", summary="One-minute mean/min/max of a sensor's quantity (InfluxDB when set, else SQL)")
def trend(
    services: ServicesDep,
    session: SessionDep,
    _: StaffDep,
    sensor: Annotated[str, Query(max_length=128)],
    quantity: Annotated[str, Query(max_length=32)],
    since: Annotated[int, Query(description="ms since the epoch, inclusive")],
    until: Annotated[int, Query(description="ms since the epoch, exclusive")],
    site: SiteQuery = None,
    max_points: Annotated[int | None, Query(ge=10, le=10_000, description=(
        "at most this many points: minutes merged into buckets of whole minutes (`bucket_ms`), reading-weighted "
        "means (energetic for sound levels)"))] = None,
) -> TrendOut:
    if until <= since or until - since > 31 * 24 * 3_600_000:
        raise HTTPException(422, "until must be after since, at most 31 days later")
    found = find_sensor(session, sensor, site)
    influx = services.influx
    if influx is not None:
        try:
            points = influx.trend(sensor=sensor, quantity=quantity, since=since, until=until)
        except Exception as exc:  # InfluxDB down: say so, never answer with an empty series
            raise HTTPException(503, f"InfluxDB is not reachable: {exc}") from None
        return _trend_out(sensor, quantity, "influxdb", (Point(**p) for p in points), since, until, max_points)
    rows = session.execute(
        select(Rollup1m.minute_ms, Rollup1m.value_sum, Rollup1m.value_min, Rollup1m.value_max, Rollup1m.n,
               Rollup1m.energy_sum)
        .where(
            Rollup1m.sensor_id == found.id,
            Rollup1m.quantity == quantity,
            Rollup1m.minute_ms >= since - since % 60_000,
            Rollup1m.minute_ms < until,
        )
        .order_by(Rollup1m.minute_ms)
    )
    points = (Point(minute, energy_to_level(energy / n) if energy is not None else total / n, lo, hi, n)
              for minute, total, lo, hi, n, energy in rows)
    return _trend_out(sensor, quantity, "sql", points, since, until, max_points)


class SensorAgentIn(BaseModel):
    agent: str = Field(min_length=1, max_length=64, description="the agent of the sensor's site that reports it now")


class SensorAgentOut(BaseModel):
    site: str
    sensor: str
    agent: str
    previous_agent: str


@router.put("/sensors/{sensor}/agent", summary="Move a sensor to another agent of its site (admin, audited)")
def reassign_sensor(services: ServicesDep, session: SessionDep, user: AdminDep, sensor: str,
                    body: SensorAgentIn, site: SiteQuery = None) -> SensorAgentOut:
    found = find_sensor(session, sensor, site)
    new = session.execute(select(Agent).where(Agent.site == found.site, Agent.name == body.agent)).scalar_one_or_none()
    if new is None:
        raise HTTPException(404, f"no agent {body.agent!r} on site {found.site!r}")
    previous = session.get(Agent, found.agent_id)
    previous_name = previous.name if previous is not None else ""
    found.agent_id = new.id
    audit(session, ts_ms=services.now_ms(), actor=f"user:{user.name}", action="sensor_reassign",
          target=f"sensor:{found.site}/{found.name}", detail=f"agent {previous_name} -> {new.name}")
    session.commit()
    return SensorAgentOut(site=found.site, sensor=found.name, agent=new.name, previous_agent=previous_name)
