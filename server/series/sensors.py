"""A sensor is named on a site, and it belongs to the agent that first reported it.

- `find_sensor(session, name, site)`: the one lookup of a sensor by name for every route: scoped by site (two
  sites may use the same names), a 404 when there is none and a 409 asking for `?site=` when the name is on
  several sites.
- `foreign_sensors(...)`: the names, of those an agent is about to write, that belong to another agent of its
  site. Ingest and edge alarms refuse the whole message with `SensorNotOwned` (403, counted) before storing
  anything; an admin moves a sensor to another agent with `PUT /api/v1/sensors/{sensor}/agent` (audited).
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.series.models import Sensor


class SensorNotOwned(Exception):
    """An agent named sensors that belong to another agent of its site."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        shown = ", ".join(repr(n) for n in names[:5]) + (" ..." if len(names) > 5 else "")
        super().__init__(f"sensor {shown} belongs to another agent of this site (an admin can reassign it: "
                         f"PUT /api/v1/sensors/{{sensor}}/agent)")


def find_sensor(session: Session, name: str, site: str | None) -> Sensor:
    q = select(Sensor).where(Sensor.name == name)
    if site:
        q = q.where(Sensor.site == site)
    found = session.execute(q).scalars().all()
    if not found:
        raise HTTPException(404, f"no sensor {name!r}" + (f" on site {site!r}" if site else ""))
    if len(found) > 1:
        raise HTTPException(409, f"sensor {name!r} is on {len(found)} sites: name the site (?site=...)")
    return found[0]


def foreign_sensors(session: Session, *, site: str, agent_id: int, names: Iterable[str]) -> list[str]:
    wanted = sorted(set(names))
    if not wanted:
        return []
    return sorted(session.execute(select(Sensor.name).where(
        Sensor.site == site, Sensor.name.in_(wanted), Sensor.agent_id != agent_id)).scalars())


def refuse_foreign_sensors(session: Session, *, site: str, agent_id: int, names: Iterable[str]) -> None:
    foreign = foreign_sensors(session, site=site, agent_id=agent_id, names=names)
    if foreign:
        raise SensorNotOwned(foreign)
