"""Login for people: a password gives a session token (an HttpOnly cookie for the web page, or a bearer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import delete, select

from server.accounts.audit import audit
from server.accounts.auth import SESSION_COOKIE, Principal, bearer_token, current_user
from server.accounts.credentials import new_token, token_hash, verify_password
from server.accounts.models import ApiToken, User
from server.services import ServicesDep, SessionDep

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginResponse(BaseModel):
    token: str
    user: str
    role: str
    expires_ms: int


class Me(BaseModel):
    name: str
    role: str


@router.post("/login", summary="Exchange a password for a session token (public)")
def login(body: LoginRequest, services: ServicesDep, response: Response, session: SessionDep) -> LoginResponse:
    now = services.now_ms()
    user = session.execute(select(User).where(User.name == body.username)).scalar_one_or_none()
    if user is None or user.disabled or not verify_password(body.password, user.password_hash):
        services.counters.add("login_failed")
        audit(session, ts_ms=now, actor=body.username[:64], action="login_failed", target="session")
        session.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password")
    token = new_token("s")
    expires = now + int(services.settings.session_hours * 3_600_000)
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), kind="session", label="web login",
                         created_ms=now, expires_ms=expires))
    audit(session, ts_ms=now, actor=user.name, action="login", target="session")
    role = user.role
    session.commit()
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        max_age=int(services.settings.session_hours * 3600))
    return LoginResponse(token=token, user=body.username, role=role, expires_ms=expires)


@router.post("/logout", summary="End this session: the token the request carries (cookie or bearer) is revoked")
def logout(request: Request, response: Response, session: SessionDep, services: ServicesDep,
           user: Annotated[Principal, Depends(current_user)]) -> dict[str, bool]:
    token = bearer_token(request)
    if token:
        session.execute(delete(ApiToken).where(ApiToken.token_hash == token_hash(token)))
        audit(session, ts_ms=services.now_ms(), actor=f"user:{user.name}", action="logout", target="session")
        session.commit()
    response.delete_cookie(SESSION_COOKIE)
    return {"ok": True}


@router.get("/me", summary="Who am I")
def me(user: Annotated[Principal, Depends(current_user)]) -> Me:
    return Me(name=user.name, role=user.role)
