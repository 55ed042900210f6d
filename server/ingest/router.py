"""What agents send over HTTP (batches, status reports, edge alarm events), each acknowledged only after a
durable commit, and the agents as staff see them (state, outbox, missing batches)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from exposure.wire import ACKED_ALARMS, ACKED_SEQ, LEGACY_ACKED_ALARMS
from server.accounts.auth import AdminDep, StaffDep
from server.alerts.edge_alarms import EdgeAlarmsIn, record_edge_alarms
from server.ingest.agents import AgentDep
from server.ingest.enrolment import EnrolmentRefused, create_enrolment_code, enrol
from server.ingest.ledger import edge_gaps, gaps
from server.ingest.liveness import agent_state
from server.ingest.service import IngestRefused, accept_batch
from server.ingest.status import StatusReport, store_status
from server.series.models import Agent, AgentSource, AgentStatus
from server.series.sensors import SensorNotOwned
from server.services import ServicesDep, SessionDep

router = APIRouter()


@router.post("/ingest", tags=["ingest"], summary="Store a batch of readings; answers the agent's ack watermark")
async def ingest(request: Request, agent: AgentDep, session: SessionDep, services: ServicesDep) -> dict[str, int]:
    body = await request.body()
    settings = services.settings
    try:
        result = await run_in_threadpool(
            accept_batch, session, agent_id=agent.agent_id, site=agent.site, agent=agent.name, body=body,
            alerting=services.alerting, events=services.events, now_ms=services.now_ms(),
            max_future_ms=settings.max_future_s * 1000, late_after_ms=settings.late_after_s * 1000,
            counters=services.counters,
        )
    except IngestRefused as exc:
        raise HTTPException(exc.status, exc.detail) from None
    return {ACKED_SEQ: result.acked_seq}


@router.post("/edge-alarms", tags=["edge alarms"], summary="Alarm events raised at the edge; answers the ids stored")
def post_edge_alarms(body: EdgeAlarmsIn, services: ServicesDep, agent: AgentDep,
                     session: SessionDep) -> dict[str, list[str]]:
    try:
        acked = record_edge_alarms(session, agent_id=agent.agent_id, site=agent.site, agent=agent.name,
                                   events=body.events, alerting=services.alerting, now_ms=services.now_ms(),
                                   late_after_ms=services.settings.late_after_s * 1000)
    except SensorNotOwned as exc:
        session.rollback()
        services.counters.add("edge_alarms_rejected_not_owner")
        raise HTTPException(403, str(exc)) from None
    # `acked_alarms` as on MQTT (exposure.wire); `acked` for agents older than that key
    return {ACKED_ALARMS: acked, LEGACY_ACKED_ALARMS: acked}


class EnrolmentCodeIn(BaseModel):
    site: str
    agent: str | None = None
    expires_s: int = 3600


class EnrolmentCodeOut(BaseModel):
    code: str
    site: str
    agent: str | None
    expires_ms: int


@router.post("/agents/enroll-codes", tags=["agents"], status_code=201,
             summary="A one-time enrolment code for a site box (admin); shown once")
def post_enrolment_code(body: EnrolmentCodeIn, services: ServicesDep, session: SessionDep,
                        user: AdminDep) -> EnrolmentCodeOut:
    now = services.now_ms()
    try:
        code = create_enrolment_code(session, site=body.site, agent=body.agent, expires_s=body.expires_s,
                                     now_ms=now, actor=user.name)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return EnrolmentCodeOut(code=code, site=body.site, agent=body.agent, expires_ms=now + body.expires_s * 1000)


class EnrolIn(BaseModel):
    code: str
    agent: str | None = None


class EnrolOut(BaseModel):
    site: str
    agent: str
    token: str


@router.post("/agents/enroll", tags=["agents"],
             summary="Exchange a one-time enrolment code for an agent token (public; each code works once)")
def post_enrol(body: EnrolIn, services: ServicesDep, session: SessionDep) -> EnrolOut:
    try:
        done = enrol(session, code=body.code, agent=body.agent, now_ms=services.now_ms())
    except EnrolmentRefused as exc:
        session.rollback()
        raise HTTPException(exc.status, exc.detail) from None
    session.commit()
    return EnrolOut(site=done.site, agent=done.agent, token=done.token)


class AgentMe(BaseModel):
    site: str
    agent: str
    server_ms: int


@router.get("/agents/me", tags=["agents"], summary="Who this agent token is, and the server's clock (agent token)")
def agent_me(agent: AgentDep, services: ServicesDep) -> AgentMe:
    return AgentMe(site=agent.site, agent=agent.name, server_ms=services.now_ms())


class GapOut(BaseModel):
    first_seq: int
    last_seq: int
    after_ts: int | None
    before_ts: int | None
    detected_ms: int


class EdgeGapOut(BaseModel):
    """Readings the agent could not keep: `dropped` readings of `sensor` between `from_ts` and `to_ts`, and why
    (`disk_full`). Reported by the agent with the batch `seq` that followed."""

    sensor: str
    from_ts: int
    to_ts: int
    dropped: int
    reason: str
    seq: int


class SourceOut(BaseModel):
    """One source as the agent last reported it (the status report's optional `sources`)."""

    name: str
    state: str
    frames_ok: int
    frames_bad: int
    last_error: str | None
    last_error_ts: int | None
    reported_ms: int


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
    disk_full: bool
    dropped_readings: int | None
    gaps: list[GapOut]
    edge_gaps: list[EdgeGapOut]
    sources: list[SourceOut] = []


@router.post("/agent-status", tags=["agents"], summary="An agent reports its status (agent token)")
def report_status(report: StatusReport, services: ServicesDep, agent: AgentDep, session: SessionDep) -> dict[str, bool]:
    store_status(session, agent.agent_id, report, now_ms=services.now_ms())
    session.commit()
    return {"ok": True}


@router.get("/agents", tags=["agents"],
            summary="Every agent: online or offline, last seen, outbox depth, missing batches")
def list_agents(services: ServicesDep, session: SessionDep, _: StaffDep) -> list[AgentOut]:
    now = services.now_ms()
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
    dropped: dict[int, list[EdgeGapOut]] = {}
    for e in edge_gaps(session):
        dropped.setdefault(e.agent_id, []).append(EdgeGapOut(sensor=e.sensor, from_ts=e.from_ts, to_ts=e.to_ts,
                                                             dropped=e.dropped, reason=e.reason, seq=e.seq))
    sources: dict[int, list[SourceOut]] = {}
    for src in session.execute(select(AgentSource).order_by(AgentSource.agent_id, AgentSource.source)).scalars():
        sources.setdefault(src.agent_id, []).append(SourceOut(
            name=src.source, state=src.state, frames_ok=src.frames_ok, frames_bad=src.frames_bad,
            last_error=src.last_error, last_error_ts=src.last_error_ms, reported_ms=src.reported_ms))
    out = []
    for agent, status in rows:
        state = agent_state(status.state if status else None, last_seen_ms=agent.last_seen_ms,
                            reported_ms=status.reported_ms if status else None, now_ms=now)
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
                disk_full=status.disk_full if status else False,
                dropped_readings=status.dropped_readings if status else None,
                gaps=by_agent.get(agent.id, []),
                edge_gaps=dropped.get(agent.id, []),
                sources=sources.get(agent.id, []),
            )
        )
    return out


