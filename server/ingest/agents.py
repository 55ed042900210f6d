"""Agents: their tokens (`hazmon server agent-token create|list|revoke`, the same for admins in the API, and
enrolment in server/ingest/enrolment.py) and the request dependency that authenticates one. An agent token is
scoped to its site and agent name; every route an agent calls depends on `AgentDep`. An agent may hold several
tokens: a new one leaves the others valid until they are revoked, so a running agent is never cut off by a
colleague issuing a token; a token may expire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.accounts.audit import audit
from server.accounts.auth import audit_denied, bearer_token, unauthorized
from server.accounts.credentials import new_token, token_hash
from server.accounts.service import NAME, AccountError
from server.series.models import Agent, AgentToken
from server.services import ServicesDep


@dataclass(frozen=True)
class AgentPrincipal:
    agent_id: int
    site: str
    name: str


@dataclass(frozen=True)
class AgentTokenInfo:
    """A token as listed: never the token itself (only its hash is stored)."""

    id: int
    site: str
    agent: str
    label: str
    created_ms: int
    expires_ms: int | None


def agent_of_token(session: Session, token: str, *, now_ms: int) -> AgentPrincipal | None:
    row = session.execute(
        select(Agent.id, Agent.site, Agent.name)
        .join(AgentToken, AgentToken.agent_id == Agent.id)
        .where(AgentToken.token_hash == token_hash(token), AgentToken.revoked_ms.is_(None),
               or_(AgentToken.expires_ms.is_(None), AgentToken.expires_ms > now_ms))
    ).first()
    return None if row is None else AgentPrincipal(row.id, row.site, row.name)


def current_agent(request: Request, services: ServicesDep) -> AgentPrincipal:
    token = bearer_token(request)
    if token is None:
        audit_denied(services, request, actor="anonymous", why="no agent token")
        raise unauthorized("agent token required")
    with services.sessions() as session:
        agent = agent_of_token(session, token, now_ms=services.now_ms())
    if agent is None:
        audit_denied(services, request, actor="unknown token" if token.startswith("hzm_a_") else "not an agent token",
                     why="not a valid agent token (unknown, revoked, expired, or a person's)")
        raise unauthorized("unknown, revoked or expired agent token")
    return agent


AgentDep = Annotated[AgentPrincipal, Depends(current_agent)]


def check_agent_name(what: str, value: str) -> None:
    """A site or agent name: 1-64 letters, digits, '.', '_' or '-' (AccountError otherwise)."""
    if not NAME.match(value) or "@" in value:
        raise AccountError(f"{what} {value!r}: 1-64 letters, digits, '.', '_' or '-'")


def create_agent_token(session: Session, *, site: str, agent: str, now_ms: int, actor: str = "cli",
                       label: str = "", expires_ms: int | None = None) -> str:
    """Register the agent if new and give it a fresh token; its other tokens stay valid until revoked."""
    check_agent_name("site", site)
    check_agent_name("agent", agent)
    if expires_ms is not None and expires_ms <= now_ms:
        raise AccountError("a token's expiry is in the future")
    token = new_token("a")
    row = session.execute(select(Agent).where(Agent.site == site, Agent.name == agent)).scalar_one_or_none()
    if row is None:
        row = Agent(site=site, name=agent, token_hash=token_hash(token), created_ms=now_ms, acked_seq=0)
        session.add(row)
        session.flush()
    session.add(AgentToken(agent_id=row.id, token_hash=token_hash(token), label=label[:128], created_ms=now_ms,
                           expires_ms=expires_ms))
    session.flush()
    audit(session, ts_ms=now_ms, actor=actor, action="agent_token_create", target=f"agent:{site}/{agent}",
          detail=label[:200])
    return token


def list_agent_tokens(session: Session, *, site: str | None = None) -> list[AgentTokenInfo]:
    q = select(AgentToken, Agent.site, Agent.name).join(Agent, Agent.id == AgentToken.agent_id).where(
        AgentToken.revoked_ms.is_(None))
    if site:
        q = q.where(Agent.site == site)
    return [AgentTokenInfo(t.id, s, a, t.label, t.created_ms, t.expires_ms)
            for t, s, a in session.execute(q.order_by(Agent.site, Agent.name, AgentToken.id)).all()]


def revoke_agent_token(session: Session, token_id: int, *, now_ms: int, actor: str = "cli") -> AgentTokenInfo:
    """Revoke the token (at once: the next request with it gets 401; the row stays, marked) and audit it."""
    found = [t for t in list_agent_tokens(session) if t.id == token_id]
    if not found:
        raise AccountError(f"no agent token {token_id} (or it is revoked already)")
    session.execute(AgentToken.__table__.update().where(AgentToken.id == token_id).values(revoked_ms=now_ms))
    audit(session, ts_ms=now_ms, actor=actor, action="agent_token_revoke",
          target=f"agent:{found[0].site}/{found[0].agent}", detail=f"token={token_id}")
    return found[0]
