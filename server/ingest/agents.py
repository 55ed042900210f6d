"""Agents: their tokens (`hazmon server agent-token create`, enrolment in server/ingest/enrolment.py) and the
request dependency that authenticates one. An agent token is scoped to its site and agent name; every route an
agent calls depends on `AgentDep`. An agent may hold several tokens (table agent_tokens): a new one leaves the
others valid until they are revoked, so a running agent is never cut off by a colleague issuing a token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.audit import audit
from server.accounts.auth import bearer_token, unauthorized
from server.accounts.credentials import new_token, token_hash
from server.accounts.service import NAME, AccountError
from server.series.models import Agent, AgentToken
from server.services import ServicesDep


@dataclass(frozen=True)
class AgentPrincipal:
    agent_id: int
    site: str
    name: str


def current_agent(request: Request, services: ServicesDep) -> AgentPrincipal:
    token = bearer_token(request)
    if token is None:
        raise unauthorized("agent token required")
    with services.sessions() as session:
        row = session.execute(
            select(Agent.id, Agent.site, Agent.name)
            .join(AgentToken, AgentToken.agent_id == Agent.id)
            .where(AgentToken.token_hash == token_hash(token), AgentToken.revoked_ms.is_(None))
        ).first()
    if row is None:
        raise unauthorized("unknown agent token")
    return AgentPrincipal(row.id, row.site, row.name)


AgentDep = Annotated[AgentPrincipal, Depends(current_agent)]


def check_agent_name(what: str, value: str) -> None:
    """A site or agent name: 1-64 letters, digits, '.', '_' or '-' (AccountError otherwise)."""
    if not NAME.match(value) or "@" in value:
        raise AccountError(f"{what} {value!r}: 1-64 letters, digits, '.', '_' or '-'")


def create_agent_token(session: Session, *, site: str, agent: str, now_ms: int, actor: str = "cli",
                       label: str = "") -> str:
    """Register the agent if new and give it a fresh token. Its other tokens stay valid until revoked."""
    check_agent_name("site", site)
    check_agent_name("agent", agent)
    token = new_token("a")
    row = session.execute(select(Agent).where(Agent.site == site, Agent.name == agent)).scalar_one_or_none()
    if row is None:
        row = Agent(site=site, name=agent, token_hash=token_hash(token), created_ms=now_ms, acked_seq=0)
        session.add(row)
        session.flush()
    session.add(AgentToken(agent_id=row.id, token_hash=token_hash(token), created_ms=now_ms, label=label))
    audit(session, ts_ms=now_ms, actor=actor, action="agent_token_create", target=f"agent:{site}/{agent}")
    return token
