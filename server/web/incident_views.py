"""What the incident pages show, read from the emergency incident report: the list of incidents and one incident
(its checklist, muster list and timeline), as frozen records for the templates. A role that may not see names
(facilities) gets the report without them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.emergency.incidents import muster_count, report, urgency, without_names
from server.emergency.models import Incident

#: who acts on steps and the muster list (server/emergency/router.py ResponderDep), and who closes (ManagerDep)
RESPONDERS = frozenset({"safety_manager", "facilities", "record_keeper", "admin"})
CLOSERS = frozenset({"safety_manager", "admin"})


@dataclass(frozen=True)
class IncidentLine:
    id: int
    title: str
    drill: bool
    where: str
    state: str
    urgent: bool
    opened_ms: int
    safe: int
    expected: int


@dataclass(frozen=True)
class Step:
    idx: int
    title: str
    owner: str
    done_ms: int | None
    done_by: str | None
    note: str


@dataclass(frozen=True)
class Person:
    id: str
    name: str | None
    safe_ms: int | None
    via: str
    marked_by: str
    contact: bool

    @property
    def needs_help(self) -> bool:
        return self.safe_ms is None and self.via == "help"

    @property
    def how(self) -> str:
        """Who marked the person safe, as a person reads it."""
        if self.via == "link":
            return "by their own link"
        return f"by {self.marked_by}" if self.marked_by else ""


@dataclass(frozen=True)
class Event:
    ts_ms: int
    actor: str
    kind: str
    text: str


@dataclass(frozen=True)
class IncidentPage:
    id: int
    title: str
    drill: bool
    where: str
    state: str
    urgent: bool
    trigger: str
    opened_ms: int
    opened_by: str
    closed_ms: int | None
    closed_by: str | None
    close_note: str
    safe: int
    expected: int
    missing: int
    steps: tuple[Step, ...]
    people: tuple[Person, ...]
    timeline: tuple[Event, ...]

    @property
    def open_steps(self) -> tuple[int, ...]:
        return tuple(s.idx for s in self.steps if s.done_ms is None)


def _where(site: str, zone: str) -> str:
    return f"{site or '-'}/{zone or '-'}"


def incidents(session: Session) -> tuple[IncidentLine, ...]:
    rows = session.execute(select(Incident).order_by(Incident.id.desc()).limit(200)).scalars().all()
    out = []
    for i in rows:
        count = muster_count(session, i.id)
        out.append(IncidentLine(id=i.id, title=i.title, drill=i.drill, where=_where(i.site, i.zone), state=i.state,
                                urgent=i.state == "open" and urgency(session, i.id) == "help", opened_ms=i.opened_ms,
                                safe=count["safe"], expected=count["expected"]))
    return tuple(out)


def incident_page(session: Session, incident_id: int, *, names: bool) -> IncidentPage | None:
    try:
        r: dict[str, Any] = report(session, incident_id)
    except LookupError:
        return None
    if not names:
        r = without_names(r)
    mc = r["muster_count"]
    return IncidentPage(
        id=r["id"], title=r["title"], drill=r["drill"], where=_where(r["site"], r["zone"]), state=r["state"],
        urgent=r["state"] == "open" and r["urgency"] == "help", trigger=r["trigger"], opened_ms=r["opened_ms"],
        opened_by=r["opened_by"], closed_ms=r["closed_ms"], closed_by=r["closed_by"], close_note=r["close_note"],
        safe=mc["safe"], expected=mc["expected"], missing=mc["missing"],
        steps=tuple(Step(s["idx"], s["title"], s["owner"], s["done_ms"], s["done_by"], s["note"]) for s in r["steps"]),
        people=tuple(Person(m["person"], m["name"], m["safe_ms"], m["via"], m["marked_by"], m["contact"])
                     for m in r["muster"]),
        timeline=tuple(Event(e["ts_ms"], e["actor"], e["kind"], e["text"]) for e in reversed(r["timeline"])),
    )
