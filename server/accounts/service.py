"""Users and API tokens: the operations behind `hazmon server user|api-token` and the admin API (agent tokens:
server/ingest/agents.py). Every change is audited; a token is never stored or listed, only its hash is kept."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.accounts.audit import audit
from server.accounts.credentials import ROLES, hash_password, new_token, token_hash
from server.accounts.models import ApiToken, User

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class AccountError(ValueError):
    pass


def add_user(session: Session, *, name: str, role: str, password: str, now_ms: int, actor: str = "cli",
             replace_password: bool = False) -> User:
    if not NAME.match(name):
        raise AccountError(f"user name {name!r}: 1-64 letters, digits, '.', '_', '@' or '-'")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise AccountError("a password has at least 8 characters")
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is not None and not replace_password:
        raise AccountError(f"user {name!r} exists")
    if user is None:
        user = User(name=name, role=role, password_hash=hash_password(password), created_ms=now_ms)
        session.add(user)
        audit(session, ts_ms=now_ms, actor=actor, action="user_add", target=f"user:{name}", detail=f"role={role}")
    else:
        user.password_hash = hash_password(password)
        user.role = role
        audit(session, ts_ms=now_ms, actor=actor, action="user_password_set", target=f"user:{name}")
    session.flush()
    return user


def create_api_token(session: Session, *, user_name: str, label: str, now_ms: int, expires_ms: int | None = None,
                     actor: str = "cli") -> str:
    user = session.execute(select(User).where(User.name == user_name)).scalar_one_or_none()
    if user is None:
        raise AccountError(f"no user {user_name!r}")
    if expires_ms is not None and expires_ms <= now_ms:
        raise AccountError("a token's expiry is in the future")
    token = new_token("u")
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), kind="api", label=label,
                         created_ms=now_ms, expires_ms=expires_ms))
    audit(session, ts_ms=now_ms, actor=actor, action="api_token_create", target=f"user:{user_name}", detail=label)
    return token


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    role: str
    disabled: bool
    created_ms: int


@dataclass(frozen=True)
class ApiTokenInfo:
    """A person's token as listed (API tokens and browser sessions): never the token itself."""

    id: int
    user: str
    kind: str
    label: str
    created_ms: int
    expires_ms: int | None


def _user(session: Session, name: str) -> User:
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise AccountError(f"no user {name!r}")
    return user


def list_users(session: Session) -> list[UserInfo]:
    return [UserInfo(u.id, u.name, u.role, u.disabled, u.created_ms)
            for u in session.execute(select(User).order_by(User.name)).scalars()]


def set_disabled(session: Session, name: str, *, disabled: bool, now_ms: int, actor: str = "cli") -> UserInfo:
    """Disable (every token of the user gets 401 at once) or enable an account."""
    user = _user(session, name)
    user.disabled = disabled
    audit(session, ts_ms=now_ms, actor=actor, action="user_disable" if disabled else "user_enable",
          target=f"user:{name}")
    session.flush()
    return UserInfo(user.id, user.name, user.role, user.disabled, user.created_ms)


def set_password(session: Session, name: str, password: str, *, now_ms: int, actor: str = "cli") -> None:
    """A new password; the user's browser sessions end (their API tokens stay: revoke those by id)."""
    if len(password) < 8:
        raise AccountError("a password has at least 8 characters")
    user = _user(session, name)
    user.password_hash = hash_password(password)
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.kind == "session"))
    audit(session, ts_ms=now_ms, actor=actor, action="user_password_set", target=f"user:{name}")


def list_api_tokens(session: Session, *, user: str | None = None) -> list[ApiTokenInfo]:
    q = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
    if user:
        q = q.where(User.name == user)
    return [ApiTokenInfo(t.id, n, t.kind, t.label, t.created_ms, t.expires_ms)
            for t, n in session.execute(q.order_by(User.name, ApiToken.id)).all()]


def revoke_api_token(session: Session, token_id: int, *, now_ms: int, actor: str = "cli") -> ApiTokenInfo:
    """Delete the token (the next request with it gets 401) and audit it."""
    row = session.execute(select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
                          .where(ApiToken.id == token_id)).first()
    if row is None:
        raise AccountError(f"no API token {token_id}")
    t, name = row
    info = ApiTokenInfo(t.id, name, t.kind, t.label, t.created_ms, t.expires_ms)
    session.delete(t)
    audit(session, ts_ms=now_ms, actor=actor, action="api_token_revoke", target=f"user:{name}",
          detail=f"token={token_id} kind={t.kind}")
    return info
