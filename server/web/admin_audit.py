"""The audit log for admins: filtered by user (the actor), worker (a health-file target, by employee number),
action and time (in the site's time zone), newest first, a page at a time, and exported as CSV with ISO 8601
times (never epoch ms). `GET /api/v1/audit` and `GET /api/v1/audit.csv` (admin); the page's partial
(server/web/admin_pages.py) reads the same query. An export is itself audited."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.accounts.audit import audit
from server.accounts.auth import AdminDep
from server.accounts.models import AuditEntry
from server.org.models import Worker
from server.services import ServicesDep, SessionDep
from server.web.admin_times import BadTime, iso, parse_local

router = APIRouter(tags=["accounts"])

PAGE_SIZE = 50
MAX_EXPORT = 100_000
#: a spreadsheet runs a cell that starts with one of these as a formula
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilter:
    user: str = ""
    worker: str = ""
    action: str = ""
    since: str = ""
    until: str = ""

    def query_string(self) -> str:
        """The filter as the page's and the API's query (`from`, `to` for the times)."""
        pairs = {"user": self.user, "worker": self.worker, "action": self.action, "from": self.since,
                 "to": self.until}
        return urlencode({k: v for k, v in pairs.items() if v})


@dataclass(frozen=True)
class Entry:
    id: int
    ts_ms: int
    actor: str
    action: str
    target: str
    detail: str


@dataclass(frozen=True)
class AuditPage:
    entries: tuple[Entry, ...]
    total: int
    page: int
    pages: int


def _worker_id(session: Session, text: str) -> int:
    """A worker by employee number, else by the record's number; 422 when neither exists."""
    found = session.execute(select(Worker.id).where(Worker.employee_no == text)).scalar_one_or_none()
    if found is None and text.isdigit():
        found = session.execute(select(Worker.id).where(Worker.id == int(text))).scalar_one_or_none()
    if found is None:
        raise HTTPException(422, f"worker: no worker with employee number {text!r}")
    return found


def _conditions(session: Session, f: AuditFilter, tz: ZoneInfo) -> list:  # type: ignore[type-arg]
    out = []
    if f.user.strip():
        name = f.user.strip()
        out.append(or_(AuditEntry.actor == name, AuditEntry.actor == f"user:{name}"))
    if f.worker.strip():
        out.append(AuditEntry.target == f"worker:{_worker_id(session, f.worker.strip())}")
    if f.action.strip():
        out.append(AuditEntry.action == f.action.strip())
    try:
        since, until = parse_local(f.since, tz, field="from"), parse_local(f.until, tz, field="to")
    except BadTime as exc:
        raise HTTPException(422, str(exc)) from None
    if since is not None and until is not None and until < since:
        raise HTTPException(422, "to: before from")
    if since is not None:
        out.append(AuditEntry.ts_ms >= since)
    if until is not None:
        # `to` takes in the whole of its last unit: a day given as a date, a minute given to the minute
        step = {10: 86_400_000, 16: 60_000}.get(len(f.until.strip()), 1)
        out.append(AuditEntry.ts_ms < until + step)
    return out


def _entry(e: AuditEntry) -> Entry:
    return Entry(e.id, e.ts_ms, e.actor, e.action, e.target, e.detail)


def audit_page(session: Session, f: AuditFilter, tz: ZoneInfo, *, page: int = 1) -> AuditPage:
    where = _conditions(session, f, tz)
    total = int(session.execute(select(func.count()).select_from(AuditEntry).where(*where)).scalar_one())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = session.execute(select(AuditEntry).where(*where).order_by(AuditEntry.ts_ms.desc(), AuditEntry.id.desc())
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).scalars()
    return AuditPage(tuple(_entry(e) for e in rows), total, page, pages)


def actions(session: Session) -> list[str]:
    """Every action the log holds, for the filter's list."""
    return list(session.execute(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).scalars())


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA) else text


def audit_csv(session: Session, f: AuditFilter, tz: ZoneInfo) -> str:
    where = _conditions(session, f, tz)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["time", "actor", "action", "target", "detail"])
    for e in session.execute(select(AuditEntry).where(*where).order_by(AuditEntry.ts_ms, AuditEntry.id)
                             .limit(MAX_EXPORT)).scalars():
        w.writerow([iso(e.ts_ms, tz), _cell(e.actor), _cell(e.action), _cell(e.target), _cell(e.detail)])
    return out.getvalue()


# -- the API --------------------------------------------------------------------------------------------------

Text = Annotated[str, Query(max_length=64)]
When = Annotated[str, Query(max_length=32, alias="from", description="local time in the site's zone, "
                                                                      "e.g. 2026-12-04T08:30")]
Until = Annotated[str, Query(max_length=32, alias="to", description="local time in the site's zone (inclusive)")]


class EntryOut(BaseModel):
    id: int
    time: str
    actor: str
    action: str
    target: str
    detail: str


class AuditOut(BaseModel):
    entries: list[EntryOut]
    total: int
    page: int
    pages: int


def site_zone(services: ServicesDep) -> ZoneInfo:
    return services.settings.health.tz


@router.get("/audit", summary="The audit log, newest first, filtered and paged (admin)")
def audit_log(services: ServicesDep, session: SessionDep, _: AdminDep, user: Text = "", worker: Text = "",
              action: Text = "", since: When = "", until: Until = "",
              page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> AuditOut:
    tz = site_zone(services)
    p = audit_page(session, AuditFilter(user, worker, action, since, until), tz, page=page)
    return AuditOut(entries=[EntryOut(id=e.id, time=iso(e.ts_ms, tz), actor=e.actor, action=e.action,
                                      target=e.target, detail=e.detail) for e in p.entries],
                    total=p.total, page=p.page, pages=p.pages)


@router.get("/audit.csv", summary="The filtered audit log as CSV, oldest first, ISO 8601 times (admin, audited)")
def audit_export(services: ServicesDep, session: SessionDep, admin: AdminDep, user: Text = "", worker: Text = "",
                 action: Text = "", since: When = "", until: Until = "") -> Response:
    f = AuditFilter(user, worker, action, since, until)
    body = audit_csv(session, f, site_zone(services))
    audit(session, ts_ms=services.now_ms(), actor=f"user:{admin.name}", action="audit.export", target="audit_log",
          detail=f.query_string()[:500])
    session.commit()
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="audit.csv"'})
