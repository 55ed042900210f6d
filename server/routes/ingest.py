"""POST /api/v1/ingest: a batch from an agent, acknowledged only after a durable commit."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from exposure import InvalidInput, decode_batch
from server.deps import AgentDep, SessionDep
from server.ingest import SeqConflict, ingest_batch

router = APIRouter(tags=["ingest"])

MAX_BODY = 16 * 1024 * 1024


@router.post("/ingest", summary="Store a batch of readings; answers the agent's ack watermark")
async def ingest(request: Request, agent: AgentDep, session: SessionDep) -> dict[str, int]:
    body = await request.body()
    state = request.app.state
    if len(body) > MAX_BODY:
        state.counters.add("ingest_rejected_too_large")
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"a batch is at most {MAX_BODY} bytes")
    now = state.clock()
    try:
        batch = decode_batch(body, now_ms=now, max_future_ms=state.settings.max_future_s * 1000)
    except InvalidInput as exc:
        state.counters.add("ingest_rejected_invalid")
        raise HTTPException(422, {"path": exc.path, "reason": exc.reason}) from None
    if (batch.site, batch.agent) != (agent.site, agent.name):
        state.counters.add("ingest_rejected_scope")
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"this token is for {agent.site}/{agent.name}, not {batch.site}/{batch.agent}")
    try:
        result = await run_in_threadpool(ingest_batch, session, agent_id=agent.agent_id, batch=batch,
                                 rules=state.rules, now_ms=now)
    except SeqConflict as exc:
        state.counters.add("ingest_rejected_seq_conflict")
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if result.duplicate:
        state.counters.add("ingest_duplicate_batches")
    else:
        state.counters.add("ingest_batches")
        state.counters.add("ingest_readings", result.readings_stored)
        state.counters.add("alerts_opened", result.alerts_opened)
    return {"acked_seq": result.acked_seq}

