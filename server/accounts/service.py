"""Users and API tokens: the operations behind `hazmon server user|api-token` (agent tokens:
server/ingest/agents.py)."""

from __future__ import annotations

import re

from sqlalchemy import select
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
    token = new_token("u")
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), kind="api", label=label,
                         created_ms=now_ms, expires_ms=expires_ms))
    audit(session, ts_ms=now_ms, actor=actor, action="api_token_create", target=f"user:{user_name}", detail=label)
    return token
