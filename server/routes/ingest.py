"""POST /api/v1/ingest: a batch from an agent, acknowledged only after a durable commit."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from server.deps import AgentDep, SessionDep
from server.ingest import IngestRefused, accept_batch

router = APIRouter(tags=["ingest"])


@router.post("/ingest", summary="Store a batch of readings; answers the agent's ack watermark")
async def ingest(request: Request, agent: AgentDep, session: SessionDep) -> dict[str, int]:
    body = await request.body()
    state = request.app.state
    try:
        result = await run_in_threadpool(
            accept_batch, session, agent_id=agent.agent_id, site=agent.site, agent=agent.name, body=body,
            rules=state.rules, now_ms=state.clock(), max_future_ms=state.settings.max_future_s * 1000,
            late_after_ms=state.settings.late_after_s * 1000, counters=state.counters,
        )
    except IngestRefused as exc:
        raise HTTPException(exc.status, exc.detail) from None
    return {"acked_seq": result.acked_seq}
