"""The seam between the server's features: what happened, as frozen dataclasses, and the bus that hands it to
every subscriber.

Publishers and what they publish:
- `alerts` (engine, lifecycle, edge alarms): `AlertEvent` for every transition (opened, escalated, acknowledged,
  resolved);
- `emergency`: `IncidentOpened` when a plan starts (its checklist and the people on its muster list);
- `ingest`: `ReadingsBackfilled` when readings arrive for a time whose exposure records may be computed already;
- `org`: `ShiftsChanged` when assignments or personal sensors are added to shifts (roster edits and imports).

Subscribers, registered once in the composition root (server/composition.py) like built-in plugins: `notify`
(alert notifications, incident messages), `emergency` (plans triggered by alerts) and `health` (links of
workers to alerts and incidents, emergency exams, exposure records made stale by backfills and roster edits).
None imports another's internals.

Handlers run synchronously inside the publisher's transaction, each in a savepoint of its own: a failing handler
is logged and counted (`event_handler_failures`) and never loses the publisher's work or stops the others.
`publish` returns what each handler returned (for example how many notifications it queued).

One read seam lives here too: `IncidentRecords`, implemented by `emergency` and read by `health` to show an
incident in a worker's file without importing the emergency feature.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from server.counters import Counters
from server.errors import safe_traceback

log = logging.getLogger(__name__)

# -- events -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertEvent:
    """One transition of an alert."""

    kind: str  # opened | escalated | acknowledged | resolved
    alert_id: int
    rule_id: str
    site: str
    sensor: str
    zone: str | None
    quantity: str
    severity: str
    previous_severity: str | None
    step: int
    value: float
    unit: str
    threshold: float
    ts: int
    late: bool
    message: str
    actor: str = "system"
    note: str = ""
    origin: str = "server"
    worker: str | None = None


@dataclass(frozen=True)
class MusterPerson:
    """Someone an incident must account for: employee number (or plan roster id), name, contact URL or '', and
    the path of their signed "I am safe" page (`/muster/...?sig=...`)."""

    id: str
    name: str
    contact: str
    muster_path: str


@dataclass(frozen=True)
class IncidentOpened:
    """A plan started (by an alert or by hand, or as a drill). `steps` are (title, owner); `people` the muster
    list with each person's signed "I am safe" page."""

    incident_id: int
    plan_id: str
    title: str
    site: str
    zone: str
    drill: bool
    trigger: str
    opened_ms: int
    alert_id: int | None
    team_group: str
    steps: tuple[tuple[str, str], ...]
    people: tuple[MusterPerson, ...]


@dataclass(frozen=True)
class IncidentCall:
    """A message about one person on an incident's muster list: kind "help" (they answered "I need help": the
    team is told) or "resend" (staff send them their "I am safe" link again)."""

    kind: str
    incident_id: int
    title: str
    site: str
    zone: str
    drill: bool
    team_group: str
    person: MusterPerson
    ts_ms: int


@dataclass(frozen=True)
class ReadingsBackfilled:
    """Readings arrived for [since_ms, until_ms] of these sensors, late enough that exposure records over that
    time may already be computed."""

    sensor_ids: tuple[int, ...]
    since_ms: int
    until_ms: int
    now_ms: int


@dataclass(frozen=True)
class ShiftsChanged:
    """Assignments or personal sensors were added to these (worker id, shift start, shift end) shifts: their
    exposure records must be computed again."""

    shifts: tuple[tuple[int, int, int], ...]
    now_ms: int


Event = AlertEvent | IncidentOpened | IncidentCall | ReadingsBackfilled | ShiftsChanged
E = TypeVar("E", AlertEvent, IncidentOpened, IncidentCall, ReadingsBackfilled, ShiftsChanged)
Handler = Callable[[Session, Any], object]


class Events:
    """Subscribe handlers by event class; publish inside a transaction."""

    def __init__(self, counters: Counters | None = None) -> None:
        self._handlers: dict[type, list[tuple[str, Handler]]] = {}
        self._counters = counters

    def subscribe(self, kind: type[E], handler: Callable[[Session, E], object], *, name: str = "") -> None:
        self._handlers.setdefault(kind, []).append((name or getattr(handler, "__qualname__", repr(handler)), handler))

    def subscribers(self, kind: type) -> list[str]:
        return [name for name, _ in self._handlers.get(kind, [])]

    def publish(self, session: Session, event: Event) -> list[object]:
        """Hand the event to every subscriber of its class, each in a savepoint; returns their results (None for
        a handler that failed)."""
        results: list[object] = []
        for name, handler in self._handlers.get(type(event), []):
            try:
                with session.begin_nested():
                    results.append(handler(session, event))
            except Exception as exc:
                log.error("event handler %s failed for %s: %s", name, type(event).__name__, safe_traceback(exc))
                if self._counters is not None:
                    self._counters.add("event_handler_failures")
                results.append(None)
        return results



# -- the incident read seam ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentStepState:
    idx: int
    title: str
    owner: str
    done_ms: int | None
    done_by: str | None


@dataclass(frozen=True)
class IncidentEntry:
    ts_ms: int
    actor: str
    kind: str
    text: str


@dataclass(frozen=True)
class IncidentMusterMark:
    """One person's own muster answer (never anyone else's)."""

    person_id: str
    safe_ms: int | None
    via: str
    marked_by: str


@dataclass(frozen=True)
class IncidentFacts:
    incident_id: int
    plan_id: str
    title: str
    drill: bool
    site: str
    zone: str
    state: str
    trigger: str
    alert_id: int | None
    opened_ms: int
    closed_ms: int | None
    steps: tuple[IncidentStepState, ...]
    timeline: tuple[IncidentEntry, ...]
    muster_count: dict[str, int]
    own_muster: IncidentMusterMark | None


class IncidentRecords(Protocol):
    """Read access to incidents for other features (implemented by server.emergency)."""

    def facts(self, session: Session, incident_id: int, *, person_id: str | None) -> IncidentFacts | None:
        """The incident, its steps, timeline and muster count, and `person_id`'s own muster mark."""
        ...
