"""Request dependencies: the database session, the authenticated principal and role checks.

Every route depends on one of `require_user(...)` or `AgentDep` (server/ingest/agents.py) unless it is
deliberately public (`/`, `/api/v1/health`, `/api/v1/auth/login`, `/api/v1/agents/enroll`, which takes a one-time
enrolment code instead of a token).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import select

from server.accounts.audit import audit
from server.accounts.credentials import token_hash
from server.accounts.models import ApiToken, User
from server.errors import route_template
from server.services import Services, ServicesDep

SESSION_COOKIE = "hazmon_session"


@dataclass(frozen=True)
class Principal:
    user_id: int
    name: str
    role: str


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def audit_denied(services: Services, request: Request, *, actor: str, why: str) -> None:
    """Record a refused request in a transaction of its own: who, what (method and route template, never the
    path's values or the query) and why; never a token or anything typed."""
    with services.sessions() as session:
        audit(session, ts_ms=services.now_ms(), actor=actor[:128], action="request_denied",
              target=f"{request.method} {route_template(request.scope)}"[:256], detail=why)
        session.commit()


def _token_kind(token: str) -> str:
    return "agent token" if token.startswith("hzm_a_") else "unknown token"


def current_user(request: Request, services: ServicesDep) -> Principal:
    token = bearer_token(request)
    if token is None:
        audit_denied(services, request, actor="anonymous", why="no token")
        raise unauthorized("authentication required")
    now = services.now_ms()
    with services.sessions() as session:  # a short read of its own: the route's stays clean
        row = session.execute(
            select(User.id, User.name, User.role, User.disabled, ApiToken.expires_ms)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == token_hash(token))
        ).first()
    if row is None or row.disabled or (row.expires_ms is not None and row.expires_ms < now):
        if row is None:
            actor, why = _token_kind(token), "not a person's token (unknown, revoked, or an agent's)"
        else:
            actor, why = f"user:{row.name}", "account disabled" if row.disabled else "token expired"
        audit_denied(services, request, actor=actor, why=why)
        raise unauthorized("unknown or expired token")
    return Principal(row.id, row.name, row.role)


def require_user(*roles: str) -> Callable[..., Principal]:
    """A dependency that admits users holding one of `roles` (admin always)."""
    allowed = frozenset((*roles, "admin"))

    def check(request: Request, services: ServicesDep,
              user: Annotated[Principal, Depends(current_user)]) -> Principal:
        if user.role not in allowed:
            audit_denied(services, request, actor=f"user:{user.name}", why=f"role {user.role}")
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role!r} may not do this")
        return user

    return check


#: who may see live data: every staff role; a worker sees only their own health file
STAFF = ("safety_manager", "facilities", "record_keeper", "auditor")
StaffDep = Annotated[Principal, Depends(require_user(*STAFF))]
AdminDep = Annotated[Principal, Depends(require_user())]
