"""What the facilities pages show of each agent's sources: the state (ok, failing, unavailable), frame counters
and last error each agent last reported per source (server.series.models.AgentSource, from the status report's
optional `sources`), keyed for the agents page (by agent) and the sensors page (a source is named like the
sensor it reads), and the sources that have not produced a reading yet (no sensor row: a serial port that never
answered)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.series.models import Agent, AgentSource, Sensor


@dataclass(frozen=True)
class SourceLine:
    site: str
    agent: str
    name: str
    state: str
    frames_ok: int
    frames_bad: int
    last_error: str | None
    last_error_ms: int | None
    reported_ms: int


def sources(session: Session) -> tuple[SourceLine, ...]:
    """Every reported source, by site, agent and name."""
    rows = session.execute(select(AgentSource, Agent.site, Agent.name).join(Agent, Agent.id == AgentSource.agent_id)
                           .order_by(Agent.site, Agent.name, AgentSource.source)).all()
    return tuple(SourceLine(site=site, agent=agent, name=s.source, state=s.state, frames_ok=s.frames_ok,
                            frames_bad=s.frames_bad, last_error=s.last_error, last_error_ms=s.last_error_ms,
                            reported_ms=s.reported_ms) for s, site, agent in rows)


def by_agent(lines: Iterable[SourceLine]) -> dict[str, list[SourceLine]]:
    """"site/agent" -> its sources."""
    out: dict[str, list[SourceLine]] = {}
    for s in lines:
        out.setdefault(f"{s.site}/{s.agent}", []).append(s)
    return out


def by_sensor(lines: Iterable[SourceLine]) -> dict[str, SourceLine]:
    """"site/sensor" -> the source of that name."""
    return {f"{s.site}/{s.name}": s for s in lines}


def without_readings(session: Session, lines: Iterable[SourceLine]) -> tuple[SourceLine, ...]:
    """The reported sources no sensor of their site is named after: they have sent no reading yet."""
    known = {(site, name) for site, name in session.execute(select(Sensor.site, Sensor.name)).all()}
    return tuple(s for s in lines if (s.site, s.name) not in known)
