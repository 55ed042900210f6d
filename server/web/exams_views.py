"""What the surveillance pages show: the exams-due list (server/health/surveillance.py: due_list) filtered by
site (the sites of the zones a worker is or was assigned to), exam type and due window, with each worker's
name, and the same list as CSV (ISO dates and times in the site's time zone, never epoch ms)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.health.surveillance import DueExam, due_list
from server.org.models import Assignment, Worker, Zone
from server.settings import HealthConfig
from server.web.local_time import iso

Window = Literal["overdue", "30", "90", "365", "all"]
WINDOWS: dict[str, str] = {"overdue": "overdue only", "30": "due within 30 days", "90": "due within 90 days",
                           "365": "due within a year", "all": "every exam due or overdue (10 years)"}


@dataclass(frozen=True)
class DueFilter:
    site: str = ""
    exam_type: str = ""
    window: Window = "90"

    @property
    def horizon_days(self) -> int:
        return {"overdue": 0, "30": 30, "90": 90, "365": 365, "all": 3650}[self.window]

    def query(self) -> str:
        return urlencode({"site": self.site, "exam_type": self.exam_type, "window": self.window})


@dataclass(frozen=True)
class DueLine:
    exam: DueExam
    name: str
    sites: tuple[str, ...]


def worker_sites(session: Session) -> dict[int, tuple[str, ...]]:
    rows = session.execute(select(Assignment.worker_id, Zone.site).join(Zone, Zone.id == Assignment.zone_id)
                           .distinct()).all()
    out: dict[int, set[str]] = {}
    for wid, site in rows:
        out.setdefault(wid, set()).add(site)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def due_lines(session: Session, config: HealthConfig, f: DueFilter, *, today: dt.date) -> tuple[DueLine, ...]:
    rows = due_list(session, config, today=today, horizon_days=f.horizon_days)
    names = dict(session.execute(select(Worker.id, Worker.name)).all())
    sites = worker_sites(session)
    out = []
    for r in rows:
        if f.window == "overdue" and r.status != "overdue":
            continue
        if f.exam_type and r.exam_type != f.exam_type:
            continue
        if f.site and f.site not in sites.get(r.worker_id, ()):
            continue
        out.append(DueLine(r, names.get(r.worker_id, ""), sites.get(r.worker_id, ())))
    return tuple(out)


CSV_HEADER = ("employee_no", "name", "sites", "exam_type", "hazard", "due_date", "status", "basis", "exam_id",
              "listed_at")


def due_csv(lines: tuple[DueLine, ...], *, now_ms: int, config: HealthConfig) -> str:
    """The list as CSV: dates YYYY-MM-DD, the listing time ISO 8601 with the site's UTC offset."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    at = iso(now_ms, config.tz)
    for ln in lines:
        e = ln.exam
        w.writerow((e.employee_no, ln.name, " ".join(ln.sites), e.exam_type, e.hazard or "", e.due_date.isoformat(),
                    e.status, e.basis, e.exam_id or "", at))
    return buf.getvalue()
