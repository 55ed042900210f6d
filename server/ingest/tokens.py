"""Agent tokens in the API for admins (list, create, revoke), as `hazmon server agent-token ...`. A new token
leaves the agent's other tokens valid until they are revoked; a token is shown once, when it is made."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from server.accounts.admin import NewToken, refused
from server.accounts.auth import AdminDep
from server.accounts.service import AccountError
from server.ingest.agents import AgentTokenInfo, create_agent_token, list_agent_tokens, revoke_agent_token
from server.services import ServicesDep, SessionDep

router = APIRouter(tags=["agents"])


class AgentTokenOut(BaseModel):
    id: int
    site: str
    agent: str
    label: str
    created_ms: int
    expires_ms: int | None


class AgentTokenIn(BaseModel):
    site: str = Field(min_length=1, max_length=64)
    agent: str = Field(min_length=1, max_length=64)
    label: str = Field(default="", max_length=128)
    expires_ms: int | None = Field(default=None, ge=0, le=2**63 - 1, description="ms since the epoch; none: never")


def _out(t: AgentTokenInfo) -> AgentTokenOut:
    return AgentTokenOut(id=t.id, site=t.site, agent=t.agent, label=t.label, created_ms=t.created_ms,
                         expires_ms=t.expires_ms)


@router.get("/agent-tokens", summary="Agents' tokens, never the tokens themselves (admin)")
def agent_tokens(session: SessionDep, _: AdminDep,
                 site: Annotated[str | None, Query(max_length=64)] = None) -> list[AgentTokenOut]:
    return [_out(t) for t in list_agent_tokens(session, site=site)]


@router.post("/agent-tokens", status_code=201,
             summary="Register an agent or give it another token, shown once; its other tokens stay valid (admin)")
def new_agent_token(services: ServicesDep, session: SessionDep, admin: AdminDep, body: AgentTokenIn) -> NewToken:
    try:
        token = create_agent_token(session, site=body.site, agent=body.agent, label=body.label,
                                   expires_ms=body.expires_ms, now_ms=services.now_ms(), actor=f"user:{admin.name}")
    except AccountError as exc:
        raise refused(exc) from None
    session.commit()
    return NewToken(token=token)


@router.delete("/agent-tokens/{token_id}", summary="Revoke an agent token: the next request with it gets 401 (admin)")
def revoke(services: ServicesDep, session: SessionDep, admin: AdminDep,
           token_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> AgentTokenOut:
    try:
        info = revoke_agent_token(session, token_id, now_ms=services.now_ms(), actor=f"user:{admin.name}")
    except AccountError as exc:
        raise refused(exc) from None
    session.commit()
    return _out(info)
