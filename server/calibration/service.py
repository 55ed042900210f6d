"""Reading and writing the calibration register (the caller commits).

Two writers: a person in the API (`set_from_api`), and each agent's status report, from its config
(`apply_agent_report`). An agent re-sends its whole config with every report (every 15 s), so its values are
applied only when they differ from the last values it sent (`Calibration.agent_values`): an edit in the API
stands until the site changes the sensor's config, and then the config wins. Either change is audited
(`calibration_set`). An entry for a sensor the server does not know yet (no reading so far) waits for a report
after its first readings; a sensor the agent stops reporting keeps its entry.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.audit import audit
from server.calibration.due import Register, with_dues
from server.calibration.models import Calibration
from server.series.models import Agent, Sensor

_FIELDS = tuple(f.name for f in dataclasses.fields(Register))


def register_of(row: Calibration) -> Register:
    return Register(**{name: getattr(row, name) for name in _FIELDS})


def registers(session: Session) -> dict[int, Register]:
    """Every entry, by sensor id."""
    return {row.sensor_id: register_of(row) for row in session.execute(select(Calibration)).scalars()}


def entry(session: Session, sensor_id: int) -> Calibration | None:
    return session.execute(select(Calibration).where(Calibration.sensor_id == sensor_id)).scalar_one_or_none()


def _store(session: Session, sensor_id: int, row: Calibration | None, reg: Register, *, source: str, actor: str,
           now_ms: int) -> Calibration:
    reg = with_dues(reg)
    if row is None:
        row = Calibration(sensor_id=sensor_id)
        session.add(row)
    for name in _FIELDS:
        setattr(row, name, getattr(reg, name))
    row.source, row.updated_at_ms, row.updated_by = source, now_ms, actor[:128]
    return row


def _audit(session: Session, sensor: str, reg: Register, *, actor: str, source: str, now_ms: int) -> None:
    reg = with_dues(reg)
    detail = (f"source={source}; calibration_due={reg.calibration_due}; bump_test_due={reg.bump_test_due}; "
              f"certificate={reg.certificate}")
    audit(session, ts_ms=now_ms, actor=actor[:128], action="calibration_set", target=f"sensor:{sensor}",
          detail=detail)


def set_from_api(session: Session, sensor: Sensor, reg: Register, *, actor: str, now_ms: int) -> Calibration:
    """Replace the sensor's entry with `reg` (due dates not given are computed), audited."""
    row = _store(session, sensor.id, entry(session, sensor.id), reg, source="api", actor=actor, now_ms=now_ms)
    _audit(session, f"{sensor.site}/{sensor.name}", reg, actor=actor, source="api", now_ms=now_ms)
    return row


def _sent(reg: Register) -> str:
    return json.dumps({k: (v.isoformat() if isinstance(v, date) else v) for k, v in dataclasses.asdict(reg).items()},
                      sort_keys=True)


def apply_agent_report(session: Session, agent_id: int, entries: Mapping[str, Register], *, now_ms: int) -> int:
    """Apply what an agent's config says of its sensors (by name, on its site) where it changed since the agent
    last said it. Returns how many entries changed."""
    agent = session.get(Agent, agent_id)
    if agent is None or not entries:
        return 0
    ids = {name: sid for name, sid in session.execute(
        select(Sensor.name, Sensor.id).where(Sensor.site == agent.site, Sensor.name.in_(list(entries))))}
    rows = {row.sensor_id: row for row in session.execute(
        select(Calibration).where(Calibration.sensor_id.in_(list(ids.values())))).scalars()}
    actor = f"agent:{agent.site}/{agent.name}"
    changed = 0
    for name, reg in sorted(entries.items()):
        sensor_id = ids.get(name)
        if sensor_id is None:
            continue  # not known yet: a later report applies it
        sent = _sent(reg)
        row = rows.get(sensor_id)
        if row is not None and row.agent_values == sent:
            continue  # the config did not change: an edit in the API since stands
        row = _store(session, sensor_id, row, reg, source="agent", actor=actor, now_ms=now_ms)
        row.agent_values = sent
        _audit(session, f"{agent.site}/{name}", reg, actor=actor, source="agent", now_ms=now_ms)
        changed += 1
    return changed
