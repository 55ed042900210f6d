"""The append-only audit log. Entries name actor, action and record; never personal health data."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.accounts.models import AuditEntry


def audit(session: Session, *, ts_ms: int, actor: str, action: str, target: str, detail: str = "") -> None:
    session.add(AuditEntry(ts_ms=ts_ms, actor=actor, action=action, target=target, detail=detail))
