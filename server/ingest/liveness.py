"""Whether an agent is online: the one rule that GET /api/v1/agents, /metrics and the agents page share."""

from __future__ import annotations

from typing import Literal

#: an agent that has said nothing and sent nothing for this long is shown offline
SILENT_MS = 2 * 60 * 1000

State = Literal["online", "offline"]


def last_heard(last_seen_ms: int | None, reported_ms: int | None) -> int:
    """The latest of its last batch and its last status report (0: never heard)."""
    return max(t for t in (last_seen_ms, reported_ms, 0) if t is not None)


def agent_state(reported_state: str | None, *, last_seen_ms: int | None, reported_ms: int | None,
                now_ms: int) -> State:
    """Online: heard (a batch or a status) within SILENT_MS and not reported gone (its Last Will, or a status
    `offline`). An agent that never reported a state is judged by its last batch alone."""
    last = last_heard(last_seen_ms, reported_ms)
    if reported_state == "offline" or last <= 0:
        return "offline"
    return "online" if now_ms - last <= SILENT_MS else "offline"
