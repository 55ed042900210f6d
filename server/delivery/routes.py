"""Agents, their status and the gap ledger; agents report their status here when they use HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from server.db.models import Agent, Sensor
from server.delivery.ledger import gaps
from server.delivery.models import AgentStatus, Rollup1m
from server.delivery.rollups import energy_to_level
from server.delivery.status import StatusReport, store_status
from server.deps import AgentDep, SessionDep, StaffDep

router = APIRouter(tags=["agents"])

#: an agent that has said nothing and sent nothing for this long is shown offline
SILENT_MS = 2 * 60 * 1000


class GapOut(BaseModel):
    first_seq: int
    last_seq: int
    after_ts: int | None
    before_ts: int | None
    detected_ms: int


class AgentOut(BaseModel):
    site: str
    name: str
    state: str
    last_seen_ms: int | None
    acked_seq: int
    max_seq: int
    version: str
    outbox_batches: int | None
    outbox_readings: int | None
    oldest_unsent_ms: int | None
    outbox_full: bool
    gaps: list[GapOut]


@router.post("/agent-status", summary="An agent reports its status (agent token)")
def report_status(report: StatusReport, request: Request, agent: AgentDep, session: SessionDep) -> dict[str, bool]:
    store_status(session, agent.agent_id, report, now_ms=request.app.state.clock())
    session.commit()
    return {"ok": True}


@router.get("/agents", summary="Every agent: online or offline, last seen, outbox depth, missing batches")
def list_agents(request: Request, session: SessionDep, _: StaffDep) -> list[AgentOut]:
    now = request.app.state.clock()
    rows = session.execute(
        select(Agent, AgentStatus)
        .outerjoin(AgentStatus, AgentStatus.agent_id == Agent.id)
        .order_by(Agent.site, Agent.name)
    ).all()
    by_agent: dict[int, list[GapOut]] = {}
    for g in gaps(session):
        by_agent.setdefault(g.agent_id, []).append(
            GapOut(
                first_seq=g.first_seq,
                last_seq=g.last_seq,
                after_ts=g.after_ts,
                before_ts=g.before_ts,
                detected_ms=g.detected_ms,
            )
        )
    out = []
    for agent, status in rows:
        last = max(x for x in (agent.last_seen_ms, status.reported_ms if status else None, 0) if x is not None)
        if status is not None and status.state in ("online", "offline"):
            state = status.state
        else:  # an HTTP agent that never reported: judge by its last batch
            state = "online" if last and now - last <= SILENT_MS else "offline"
        if state == "online" and now - last > SILENT_MS:
            state = "offline"
        out.append(
            AgentOut(
                site=agent.site,
                name=agent.name,
                state=state,
                last_seen_ms=agent.last_seen_ms,
                acked_seq=agent.acked_seq,
                max_seq=status.max_seq if status else 0,
                version=status.version if status else "",
                outbox_batches=status.outbox_batches if status else None,
                outbox_readings=status.outbox_readings if status else None,
                oldest_unsent_ms=status.oldest_unsent_ms if status else None,
                outbox_full=status.outbox_full if status else False,
                gaps=by_agent.get(agent.id, []),
            )
        )
    return out


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
    points: list[TrendPoint]


@router.get("/trend", summary="One-minute mean/min/max of a sensor's quantity (InfluxDB when set, else SQL)")
def trend(
    request: Request,
    session: SessionDep,
    _: StaffDep,
    sensor: Annotated[str, Query(max_length=128)],
    quantity: Annotated[str, Query(max_length=32)],
    since: Annotated[int, Query(description="ms since the epoch, inclusive")],
    until: Annotated[int, Query(description="ms since the epoch, exclusive")],
) -> TrendOut:
    if until <= since or until - since > 31 * 24 * 3_600_000:
        raise HTTPException(422, "until must be after since, at most 31 days later")
    influx = getattr(request.app.state, "influx", None)
    if influx is not None:
        try:
            points = influx.trend(sensor=sensor, quantity=quantity, since=since, until=until)
        except Exception as exc:  # InfluxDB down: say so, never answer with an empty series
            raise HTTPException(503, f"InfluxDB is not reachable: {exc}") from None
        return TrendOut(sensor=sensor, quantity=quantity, source="influxdb", points=[TrendPoint(**p) for p in points])
    rows = session.execute(
        select(Rollup1m)
        .join(Sensor, Sensor.id == Rollup1m.sensor_id)
        .where(
            Sensor.name == sensor,
            Rollup1m.quantity == quantity,
            Rollup1m.minute_ms >= since - since % 60_000,
            Rollup1m.minute_ms < until,
        )
        .order_by(Rollup1m.minute_ms)
    ).scalars()
    points = [
        TrendPoint(
            minute_ms=r.minute_ms,
            min=r.value_min,
            max=r.value_max,
            n=r.n,
            mean=energy_to_level(r.energy_sum / r.n) if r.energy_sum is not None else r.value_sum / r.n,
        )
        for r in rows
    ]
    return TrendOut(sensor=sensor, quantity=quantity, source="sql", points=points)
