"""The rest of the accounts API for admins (server/accounts/admin.py has list, disable, enable and the password):
create an account with a role and a first password, and change an account's role. Both audited; the role takes
effect at the account's next request (every request reads it), so a browser signed in keeps working with the
new role's rights."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.admin import UserOut, refused
from server.accounts.audit import audit
from server.accounts.auth import AdminDep
from server.accounts.credentials import ROLES
from server.accounts.models import User
from server.accounts.service import AccountError, UserInfo, add_user
from server.services import ServicesDep, SessionDep

router = APIRouter(tags=["accounts"])
UserName = Annotated[str, Path(min_length=1, max_length=64)]


def _known_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role {role!r}: one of {', '.join(ROLES)}")
    return role


class RoleIn(BaseModel):
    role: str = Field(max_length=32, description="one of " + ", ".join(ROLES))

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        return _known_role(v)


class UserIn(RoleIn):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=1024)


def set_role(session: Session, name: str, role: str, *, now_ms: int, actor: str) -> UserInfo:
    """Give an account another role (audited with the old and new role). The last enabled admin keeps theirs:
    nobody could administer the server any more."""
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise AccountError(f"no user {name!r}")
    if user.role == "admin" and role != "admin" and not user.disabled:
        admins = session.execute(select(func.count()).select_from(User)
                                 .where(User.role == "admin", User.disabled.is_(False))).scalar_one()
        if admins <= 1:
            raise AccountError("the last enabled admin keeps the admin role")
    old, user.role = user.role, role
    audit(session, ts_ms=now_ms, actor=actor, action="user_role_set", target=f"user:{name}",
          detail=f"role={old}->{role}")
    session.flush()
    return UserInfo(user.id, user.name, user.role, user.disabled, user.created_ms)


@router.post("/users", status_code=201, summary="Create an account with a role and a first password (admin)")
def create_user(services: ServicesDep, session: SessionDep, admin: AdminDep, body: UserIn) -> UserOut:
    try:
        u = add_user(session, name=body.name, role=body.role, password=body.password, now_ms=services.now_ms(),
                     actor=f"user:{admin.name}")
    except AccountError as exc:
        raise HTTPException(409 if str(exc).endswith("exists") else 422, str(exc)) from None
    out = UserOut(id=u.id, name=u.name, role=u.role, disabled=u.disabled, created_ms=u.created_ms)
    session.commit()
    return out


@router.put("/users/{name}/role", summary="Change an account's role, effective at its next request (admin)")
def change_role(services: ServicesDep, session: SessionDep, admin: AdminDep, name: UserName,
                body: RoleIn) -> UserOut:
    try:
        u = set_role(session, name, body.role, now_ms=services.now_ms(), actor=f"user:{admin.name}")
    except AccountError as exc:
        raise refused(exc) from None
    session.commit()
    return UserOut(id=u.id, name=u.name, role=u.role, disabled=u.disabled, created_ms=u.created_ms)
