"""Login for people: a password gives a session token (an HttpOnly cookie for the web page, or a bearer)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import delete, select

from server.accounts.audit import audit
from server.accounts.auth import SESSION_COOKIE, Principal, bearer_token, current_user
from server.accounts.browser import cookie_secure
from server.accounts.credentials import (
    hash_password,
    needs_rehash,
    new_token,
    token_hash,
    verify_nobody,
    verify_password,
)
from server.accounts.models import ApiToken, User
from server.i18n import COOKIE
from server.services import Services, ServicesDep, SessionDep

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginResponse(BaseModel):
    token: str
    user: str
    role: str
    expires_ms: int
    language: str = Field(description="the language of this user's pages: their own choice, else the site's")


class Me(BaseModel):
    name: str
    role: str
    language: str = Field(description="the language of this user's pages: their own choice, else the site's")
    chosen: bool = Field(description="false when the language is the site's default, not the user's own choice")


class LanguageRequest(BaseModel):
    language: Literal["en", "zh-Hans"] | None = Field(description="en or zh-Hans; null: the site's language")


def _set_language_cookie(request: Request, response: Response, services: Services, language: str) -> None:
    response.set_cookie(COOKIE, language, samesite="strict",
                        secure=cookie_secure(request, services.settings.cookie_secure),
                        max_age=int(services.settings.session_hours * 3600))


@router.post("/login", summary="Exchange a password for a session token (public; throttled: 429 after repeated "
                            "failures)")
def login(request: Request, body: LoginRequest, services: ServicesDep, response: Response,
          session: SessionDep) -> LoginResponse:
    now = services.now_ms()
    throttle = services.login_throttle
    address = request.client.host if request.client else "unknown"
    wait = throttle.retry_after_s(account=body.username, address=address, now_ms=now)
    user = session.execute(select(User).where(User.name == body.username)).scalar_one_or_none()
    # the audit names a user only when one of that name exists: what was typed may be a password
    actor = f"user:{user.name}" if user is not None else "unknown user"
    if wait is not None:
        services.counters.add("login_throttled")
        audit(session, ts_ms=now, actor=actor, action="login_throttled", target="session",
              detail=f"address={address}")
        session.commit()
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"too many failed logins for this user or from this address: try again in {wait} s",
                            headers={"Retry-After": str(wait)})
    if user is None:
        verify_nobody(body.password)  # as long as a real check: no timing oracle for user names
        ok = False
    else:
        ok = verify_password(body.password, user.password_hash) and not user.disabled
    if not ok or user is None:
        services.counters.add("login_failed")
        throttle.failed(account=body.username, address=address, now_ms=now)
        audit(session, ts_ms=now, actor=actor, action="login_failed", target="session", detail=f"address={address}")
        session.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password")
    throttle.succeeded(account=body.username)
    if needs_rehash(user.password_hash):  # an older scheme or weaker parameters: upgrade it now
        user.password_hash = hash_password(body.password)
        audit(session, ts_ms=now, actor=actor, action="password_rehash", target=f"user:{user.name}")
    token = new_token("s")
    expires = now + int(services.settings.session_hours * 3_600_000)
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), kind="session", label="web login",
                         created_ms=now, expires_ms=expires))
    audit(session, ts_ms=now, actor=user.name, action="login", target="session")
    role, name = user.role, user.name
    language = user.language or services.settings.language
    session.commit()
    _set_language_cookie(request, response, services, language)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=cookie_secure(request, services.settings.cookie_secure),
                        max_age=int(services.settings.session_hours * 3600))
    return LoginResponse(token=token, user=name, role=role, expires_ms=expires, language=language)


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


@router.get("/me", summary="Who am I, and the language of my pages")
def me(session: SessionDep, services: ServicesDep, user: Annotated[Principal, Depends(current_user)]) -> Me:
    own = session.execute(select(User.language).where(User.id == user.user_id)).scalar_one_or_none()
    return Me(name=user.name, role=user.role, language=own or services.settings.language, chosen=own is not None)


@router.put("/language", summary="Choose the language of my pages, messages and PDFs (null: the site's)")
def choose_language(body: LanguageRequest, request: Request, response: Response, session: SessionDep,
                    services: ServicesDep, user: Annotated[Principal, Depends(current_user)]) -> Me:
    row = session.get(User, user.user_id)
    assert row is not None  # current_user has just read it
    row.language = body.language
    audit(session, ts_ms=services.now_ms(), actor=f"user:{user.name}", action="language_set",
          target=f"user:{user.name}", detail=body.language or "site default")
    session.commit()
    language = body.language or services.settings.language
    _set_language_cookie(request, response, services, language)
    return Me(name=user.name, role=user.role, language=language, chosen=body.language is not None)
