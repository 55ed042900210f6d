"""The demo's site as a facilities team would declare it: three zones, the sensor that measures each, and the
hazards present, so the dashboard, the zone pages and the notice boards show the demo's data from the start."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.org.models import Hazard, Zone, ZoneSensor
from server.series.models import Agent, Sensor

#: (code, name, sensor, ((substance, quantity, variant, the PPE the site requires), ...))
ZONES: tuple[tuple[str, str, str, tuple[tuple[str, str, str | None, str], ...]], ...] = (
    ("press-shop", "Press shop", "press-2-noise",
     (("noise", "laeq", None, "Ear muffs (SNR 30 dB or more) at all times inside the yellow line."),)),
    ("grinding", "Grinding bay", "grinding-dust",
     (("silica_crystalline", "pm4", "sio2-10-50pct",
       "FFP3 disposable respirator, face-fit tested; safety glasses; wet cutting only."),)),
    ("tank-farm", "Tank farm", "tank-3-gas",
     (("h2s", "h2s", None, "Personal H2S monitor clipped at the collar; escape set on the belt; work in pairs."),
      ("co", "co", None, "Personal CO monitor; SCBA for tank entry under a permit."))),
)


def declare_zones(s: Session, *, site: str, agent: str, now_ms: int) -> None:
    """Declare the demo's zones once (a second run of the demo on the same data finds them)."""
    agent_id = s.execute(select(Agent.id).where(Agent.site == site, Agent.name == agent)).scalar_one()
    for code, name, sensor_name, hazards in ZONES:
        if s.execute(select(Zone.id).where(Zone.code == code)).first() is not None:
            continue
        sensor = s.execute(select(Sensor).where(Sensor.site == site, Sensor.name == sensor_name)).scalar_one_or_none()
        if sensor is None:
            sensor = Sensor(site=site, name=sensor_name, agent_id=agent_id, first_seen_ms=now_ms)
            s.add(sensor)
        zone = Zone(code=code, name=name, site=site)
        s.add(zone)
        s.flush()
        s.add(ZoneSensor(zone_id=zone.id, sensor_id=sensor.id, start_ms=0))
        s.add_all(Hazard(zone_id=zone.id, substance=sub, quantity=q, variant=v, ppe=ppe)
                  for sub, q, v, ppe in hazards)
