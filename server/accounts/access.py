"""Who may do what with a health file, and the audit trail of every access.

The role matrix (DESIGN §4.4 roles) is the one table `RULES`. A `worker` holds an action only on their own file
(the worker row whose `user_id` is theirs), and only the actions in `OWN_FILE`. Every allowed read or write of a
health file is recorded with `HealthAccess.record`; every refusal to a signed-in user is recorded too. Audit
entries name the actor, the action and record ids only: never names, exam results or other health data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, NoReturn

from fastapi import Depends, HTTPException, status
from sqlalchemy.orm import Session

from server.accounts.audit import audit
from server.accounts.auth import Principal, current_user
from server.services import Services, ServicesDep, SessionDep
from server.settings import HealthConfig

Action = Literal[
    "workers.list", "worker.read", "worker.write", "exposure.read", "exposure.write", "exams.read", "exams.write",
    "events.read", "surveillance.read", "file.delete", "org.read", "org.write", "roster.read", "roster.write",
    "zone_report.read", "samples.write", "segs.read", "segs.write",
]

_RK = frozenset({"admin", "record_keeper"})
_READERS = _RK | {"safety_manager", "auditor"}

RULES: dict[Action, frozenset[str]] = {
    "workers.list": _READERS,
    "worker.read": _READERS | {"worker"},
    "worker.write": _RK,
    "exposure.read": _READERS | {"worker"},
    "exposure.write": _RK,
    "exams.read": _RK | {"auditor", "worker"},  # medical: never safety_manager or facilities
    "exams.write": _RK,
    "events.read": _READERS | {"worker"},
    "surveillance.read": _RK | {"auditor"},
    "file.delete": _RK,
    "org.read": _READERS | {"facilities"},
    "org.write": _RK | {"safety_manager"},
    "roster.read": _READERS,
    "roster.write": _RK | {"safety_manager"},
    "zone_report.read": _READERS,
    "samples.write": _RK,  # laboratory results: the record-keeper enters or imports them
    "segs.read": _READERS,  # a group's statistics name several workers: never a worker's own view
    "segs.write": _RK,
}
#: the actions a `worker` holds on their own file, and only there
OWN_FILE: frozenset[Action] = frozenset({"worker.read", "exposure.read", "exams.read", "events.read"})


def allowed(role: str, action: Action, *, own: bool = False) -> bool:
    if role not in RULES[action]:
        return False
    return role != "worker" or (own and action in OWN_FILE)


@dataclass(frozen=True)
class HealthAccess:
    """The request's principal, session and clock, with the role check and the audit writer."""

    services: Services
    session: Session
    user: Principal

    @property
    def actor(self) -> str:
        return f"user:{self.user.name}"

    @property
    def now_ms(self) -> int:
        return self.services.now_ms()

    @property
    def config(self) -> HealthConfig:
        return self.services.health

    def may(self, action: Action, *, owner_user_id: int | None = None) -> bool:
        return allowed(self.user.role, action, own=owner_user_id is not None and owner_user_id == self.user.user_id)

    def require(self, action: Action, target: str, *, owner_user_id: int | None = None) -> None:
        """Raise 403 (and record the refusal) unless the principal may do `action` on `target`."""
        if self.may(action, owner_user_id=owner_user_id):
            return
        self.refuse(action, target, f"role {self.user.role!r} may not do {action} on {target}")

    def refuse(self, action: str, target: str, why: str, *, detail: str = "") -> NoReturn:
        """Record the refusal (in its own transaction: it is kept) and raise 403 with `why`."""
        with self.services.sessions() as s:
            audit(s, ts_ms=self.now_ms, actor=self.actor, action=f"health.{action}.denied", target=target,
                  detail=detail)
            s.commit()
        raise HTTPException(status.HTTP_403_FORBIDDEN, why)

    def refuse_missing(self, action: Action, target: str) -> None:
        """Record (in its own transaction) a request for a record that does not exist; the caller answers 404."""
        with self.services.sessions() as s:
            audit(s, ts_ms=self.now_ms, actor=self.actor, action=f"health.{action}.not_found", target=target)
            s.commit()

    def record(self, action: Action | str, target: str, detail: str = "") -> None:
        """Add the audit entry of an access to the route's transaction (the route commits)."""
        audit(self.session, ts_ms=self.now_ms, actor=self.actor, action=f"health.{action}", target=target,
              detail=detail)


def _access(services: ServicesDep, session: SessionDep,
            user: Annotated[Principal, Depends(current_user)]) -> HealthAccess:
    return HealthAccess(services, session, user)


AccessDep = Annotated[HealthAccess, Depends(_access)]
