"""The standing warnings every reader of the server's state shows until they are fixed (GET /api/v1/status, the
admin settings page): nobody would be notified (the notifier's own check), and exposure records that could not be
computed (a count only: which workers is for the roles that may read the files). Here, below `overview` and `web`,
so that both read the one list."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.health.models import ShiftRun
from server.services import Services


def standing_warnings(services: Services, session: Session) -> list[str]:
    out = []
    unreachable = services.notifier.config.unreachable()
    if unreachable:
        out.append(unreachable)
    failed = int(session.execute(select(func.count()).select_from(ShiftRun).where(ShiftRun.error.is_not(None)))
                 .scalar_one())
    if failed:
        out.append(f"{failed} worker-shift(s) have no exposure records: their computation failed "
                   "(see GET /api/v1/exposure-records/failures)")
    return out
