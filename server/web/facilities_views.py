"""What the facilities pages show: every agent (online state by the one rule in server.ingest.liveness, version,
outbox, gaps), every sensor (its agent, zone, last values, silent or not, its calibration state by
server.calibration.due), the calibration register's due and overdue checks, and one sensor's recent raw readings
with their flags. Frozen records for the templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.calibration.due import Register, overdue, utc_date, with_dues
from server.calibration.service import registers
from server.ingest.ledger import edge_gaps, gaps
from server.ingest.liveness import agent_state, last_heard
from server.org.models import Zone, ZoneSensor
from server.series.models import Agent, AgentStatus, Latest, ReadingRow, Sensor
from server.series.rows import flags_of
from server.web.views import STALE_MS


@dataclass(frozen=True)
class AgentLine:
    site: str
    name: str
    state: str
    last_heard_ms: int | None
    version: str
    outbox_batches: int | None
    outbox_readings: int | None
    oldest_unsent_ms: int | None
    outbox_full: bool
    disk_full: bool
    dropped_readings: int | None
    gaps: tuple[str, ...]
    sensors: int


def agents(session: Session, *, now_ms: int) -> tuple[AgentLine, ...]:
    """Every agent, offline first, then by site and name."""
    missing: dict[int, list[str]] = {}
    for g in gaps(session):
        span = f"batch {g.first_seq}" if g.first_seq == g.last_seq else f"batches {g.first_seq}-{g.last_seq}"
        missing.setdefault(g.agent_id, []).append(f"{span} missing")
    for e in edge_gaps(session):
        missing.setdefault(e.agent_id, []).append(f"{e.dropped} readings of {e.sensor} dropped ({e.reason})")
    counts: dict[int, int] = {}
    for agent_id in session.execute(select(Sensor.agent_id)).scalars():
        counts[agent_id] = counts.get(agent_id, 0) + 1
    out = []
    for a, st in session.execute(select(Agent, AgentStatus).outerjoin(AgentStatus, AgentStatus.agent_id == Agent.id)
                                 .order_by(Agent.site, Agent.name)).all():
        reported = st.reported_ms if st else None
        heard = last_heard(a.last_seen_ms, reported)
        out.append(AgentLine(
            site=a.site, name=a.name,
            state=agent_state(st.state if st else None, last_seen_ms=a.last_seen_ms, reported_ms=reported,
                              now_ms=now_ms),
            last_heard_ms=heard or None, version=st.version if st else "",
            outbox_batches=st.outbox_batches if st else None, outbox_readings=st.outbox_readings if st else None,
            oldest_unsent_ms=st.oldest_unsent_ms if st else None, outbox_full=bool(st and st.outbox_full),
            disk_full=bool(st and st.disk_full), dropped_readings=st.dropped_readings if st else None,
            gaps=tuple(missing.get(a.id, ())), sensors=counts.get(a.id, 0)))
    return tuple(sorted(out, key=lambda x: x.state != "offline"))


@dataclass(frozen=True)
class Value:
    quantity: str
    value: float
    unit: str
    ts: int
    flags: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    """One check of the calibration register: state `overdue`, `due` (within `soon_days`), `ok` or `none`."""

    check: str
    due: date | None
    state: str
    reason: str


@dataclass(frozen=True)
class SensorLine:
    site: str
    name: str
    agent: str
    zones: tuple[str, ...]
    values: tuple[Value, ...]
    last_ms: int | None
    silent: bool
    checks: tuple[Check, ...]
    certificate: str | None

    @property
    def calibration_state(self) -> str:
        states = [c.state for c in self.checks]
        for s in ("overdue", "due", "ok"):
            if s in states:
                return s
        return "none"


def checks(reg: Register | None, today: date, *, soon_days: int = 14) -> tuple[Check, ...]:
    """The calibration and bump test of an entry, each overdue (server.calibration.due decides), due soon, ok or
    not set."""
    if reg is None:
        return ()
    late = {o.check: o for o in overdue(reg, today)}
    full = with_dues(reg)
    out = []
    for name, due, interval in (("calibration", full.calibration_due, full.calibration_interval_days),
                                ("bump test", full.bump_test_due, full.bump_test_interval_days)):
        if name in late:
            out.append(Check(name, due, "overdue", late[name].describe()))
        elif due is None and interval is None:
            continue
        elif due is not None and (due - today).days <= soon_days:
            out.append(Check(name, due, "due", f"{name} due {due}"))
        else:
            out.append(Check(name, due, "ok", f"{name} due {due}"))
    return tuple(out)


def sensors(session: Session, *, now_ms: int) -> tuple[SensorLine, ...]:
    """Every sensor, by site and name, with its zone(s) now, its last values and its calibration checks."""
    agent_names = dict(session.execute(select(Agent.id, Agent.name)).all())
    zones: dict[int, list[str]] = {}
    for sid, code in session.execute(
            select(ZoneSensor.sensor_id, Zone.code).join(Zone, Zone.id == ZoneSensor.zone_id)
            .where(ZoneSensor.start_ms <= now_ms, or_(ZoneSensor.end_ms.is_(None), ZoneSensor.end_ms > now_ms))
            .order_by(Zone.code)).all():
        zones.setdefault(sid, []).append(code)
    latest: dict[int, list[Value]] = {}
    for r in session.execute(select(Latest).order_by(Latest.quantity)).scalars():
        latest.setdefault(r.sensor_id, []).append(Value(r.quantity, r.value, r.unit, r.ts, flags_of(r.flags)))
    regs = registers(session)
    today = utc_date(now_ms)
    out = []
    for s in session.execute(select(Sensor).order_by(Sensor.site, Sensor.name)).scalars():
        values = tuple(latest.get(s.id, ()))
        last = max((v.ts for v in values), default=None)
        reg = regs.get(s.id)
        out.append(SensorLine(site=s.site, name=s.name, agent=agent_names.get(s.agent_id, ""),
                              zones=tuple(zones.get(s.id, ())), values=values, last_ms=last,
                              silent=last is None or now_ms - last > STALE_MS, checks=checks(reg, today),
                              certificate=reg.certificate if reg else None))
    return tuple(out)


@dataclass(frozen=True)
class DueLine:
    site: str
    sensor: str
    check: Check


def register_due(lines: tuple[SensorLine, ...]) -> tuple[DueLine, ...]:
    """The checks overdue or due soon, overdue first, then by due date."""
    out = [DueLine(s.site, s.name, c) for s in lines for c in s.checks if c.state in ("overdue", "due")]
    return tuple(sorted(out, key=lambda d: (d.check.state != "overdue", d.check.due or date.min)))


@dataclass(frozen=True)
class RawReading:
    ts: int
    quantity: str
    value: float
    unit: str
    interval_s: float | None
    flags: tuple[str, ...]
    seq: int


@dataclass(frozen=True)
class SensorPage:
    line: SensorLine
    readings: tuple[RawReading, ...]


def sensor_page(session: Session, site: str, name: str, *, now_ms: int, limit: int = 100) -> SensorPage | None:
    found = session.execute(select(Sensor).where(Sensor.site == site, Sensor.name == name)).scalar_one_or_none()
    if found is None:
        return None
    line = next(s for s in sensors(session, now_ms=now_ms) if s.site == site and s.name == name)
    rows = session.execute(select(ReadingRow).where(ReadingRow.sensor_id == found.id)
                           .order_by(ReadingRow.ts.desc(), ReadingRow.id.desc()).limit(limit)).scalars()
    return SensorPage(line=line, readings=tuple(
        RawReading(r.ts, r.quantity, r.value, r.unit, r.interval_s, flags_of(r.flags), r.seq) for r in rows))
