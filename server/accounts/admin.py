"""The accounts API for admins: users (list, disable, enable, set a password) and people's tokens (list, create,
revoke), the same operations as `hazmon server user|api-token` (server/accounts/service.py). A token is shown once,
when it is made; lists never show one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from server.accounts.auth import AdminDep
from server.accounts.service import (
    AccountError,
    ApiTokenInfo,
    UserInfo,
    create_api_token,
    list_api_tokens,
    list_users,
    revoke_api_token,
    set_disabled,
    set_password,
)
from server.services import ServicesDep, SessionDep

router = APIRouter(tags=["accounts"])
UserName = Annotated[str, Path(min_length=1, max_length=64)]
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class UserOut(BaseModel):
    id: int
    name: str
    role: str
    disabled: bool
    created_ms: int


class PasswordIn(BaseModel):
    password: str = Field(min_length=8, max_length=1024)


class TokenOut(BaseModel):
    id: int
    user: str
    kind: str
    label: str
    created_ms: int
    expires_ms: int | None


class TokenIn(BaseModel):
    user: str = Field(min_length=1, max_length=64)
    label: str = Field(default="", max_length=128)
    expires_ms: int | None = Field(default=None, ge=0, le=2**63 - 1, description="ms since the epoch; none: never")


class NewToken(BaseModel):
    token: str


def refused(exc: AccountError) -> HTTPException:
    return HTTPException(404 if str(exc).startswith("no ") else 422, str(exc))


def _user_out(u: UserInfo) -> UserOut:
    return UserOut(id=u.id, name=u.name, role=u.role, disabled=u.disabled, created_ms=u.created_ms)


def _token_out(t: ApiTokenInfo) -> TokenOut:
    return TokenOut(id=t.id, user=t.user, kind=t.kind, label=t.label, created_ms=t.created_ms,
                    expires_ms=t.expires_ms)


@router.get("/users", summary="Every account (admin)")
def users(session: SessionDep, _: AdminDep) -> list[UserOut]:
    return [_user_out(u) for u in list_users(session)]


def _set_disabled(services: ServicesDep, session: SessionDep, admin: str, name: str, disabled: bool) -> UserOut:
    try:
        u = set_disabled(session, name, disabled=disabled, now_ms=services.now_ms(), actor=f"user:{admin}")
    except AccountError as exc:
        raise refused(exc) from None
    session.commit()
    return _user_out(u)


@router.post("/users/{name}/disable", summary="Disable an account: its tokens get 401 at once (admin)")
def disable(services: ServicesDep, session: SessionDep, admin: AdminDep, name: UserName) -> UserOut:
    if name == admin.name:
        raise HTTPException(422, "an admin cannot disable their own account")
    return _set_disabled(services, session, admin.name, name, True)


@router.post("/users/{name}/enable", summary="Enable an account again (admin)")
def enable(services: ServicesDep, session: SessionDep, admin: AdminDep, name: UserName) -> UserOut:
    return _set_disabled(services, session, admin.name, name, False)


@router.put("/users/{name}/password", summary="Set a user's password; their browser sessions end (admin)")
def password(services: ServicesDep, session: SessionDep, admin: AdminDep, name: UserName,
             body: PasswordIn) -> dict[str, bool]:
    try:
        set_password(session, name, body.password, now_ms=services.now_ms(), actor=f"user:{admin.name}")
    except AccountError as exc:
        raise refused(exc) from None
    session.commit()
    return {"ok": True}


@router.get("/api-tokens", summary="People's tokens (API tokens and sessions), never the tokens themselves (admin)")
def api_tokens(session: SessionDep, _: AdminDep,
               user: Annotated[str | None, Query(max_length=64)] = None) -> list[TokenOut]:
    return [_token_out(t) for t in list_api_tokens(session, user=user)]


@router.post("/api-tokens", status_code=201, summary="A new API token for a user, shown once (admin)")
def new_api_token(services: ServicesDep, session: SessionDep, admin: AdminDep, body: TokenIn) -> NewToken:
    try:
        token = create_api_token(session, user_name=body.user, label=body.label, now_ms=services.now_ms(),
                                 expires_ms=body.expires_ms, actor=f"user:{admin.name}")
    except AccountError as exc:
        raise refused(exc) from None
    session.commit()
    return NewToken(token=token)


@router.delete("/api-tokens/{token_id}", summary="Revoke a token: the next request with it gets 401 (admin)")
def revoke(services: ServicesDep, session: SessionDep, admin: AdminDep, token_id: TokenId) -> TokenOut:
    try:
        info = revoke_api_token(session, token_id, now_ms=services.now_ms(), actor=f"user:{admin.name}")
    except AccountError as exc:
        raise refused(exc) from None
    session.commit()
    return _token_out(info)
