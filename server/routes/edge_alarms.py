"""POST /api/v1/edge-alarms: alarm events raised at an agent, delivered over HTTP (see server/edge_alarms.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from server.deps import AgentDep, SessionDep
from server.edge_alarms import EdgeAlarmsIn, record_edge_alarms

router = APIRouter(tags=["edge alarms"])


@router.post("/edge-alarms", summary="Alarm events raised at the edge; answers the ids stored")
def post_edge_alarms(body: EdgeAlarmsIn, request: Request, agent: AgentDep,
                     session: SessionDep) -> dict[str, list[str]]:
    state = request.app.state
    acked = record_edge_alarms(session, agent_id=agent.agent_id, site=agent.site, agent=agent.name,
                               events=body.events, rules=state.rules, now_ms=state.clock(),
                               late_after_ms=state.settings.late_after_s * 1000)
    # `acked_alarms` is the wire key (exposure.wire.ACKED_ALARMS, as on MQTT); `acked` keeps older agents working
    return {"acked_alarms": acked, "acked": acked}
