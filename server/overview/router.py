"""Reads across features, for the live page and integrations: every sensor with its latest values, state
(ok, alert, stale) and calibration, the server's status counts, and the public liveness check."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from server.accounts.auth import StaffDep
from server.alerts.models import Alert
from server.calibration.due import utc_date
from server.calibration.schemas import CalibrationState, calibration_state
from server.calibration.service import registers
from server.health.standing import standing_warnings
from server.series.models import Agent, IngestedBatch, Latest, Sensor
from server.series.rows import flags_of
from server.services import ServicesDep, SessionDep

router = APIRouter(tags=["monitoring"])

STALE_MS = 5 * 60 * 1000


class LatestValue(BaseModel):
    quantity: str
    value: float
    unit: str
    ts: int
    flags: list[str]


class SensorOut(BaseModel):
    name: str
    site: str
    agent: str
    state: Literal["ok", "alert", "stale"]
    latest: list[LatestValue]
    calibration: CalibrationState | None = Field(default=None, description="its calibration register entry, if any")


class StatusOut(BaseModel):
    readings_total: int
    batches_total: int
    sensors: int
    agents: int
    alerts_open: int
    alerts_total: int
    counters: dict[str, int]
    warnings: list[str] = Field(default_factory=list,
                                description="standing warnings: the system is not fully watching or warning")


@router.get("/sensors", summary="Every sensor with its latest values and state")
def list_sensors(services: ServicesDep, session: SessionDep, _: StaffDep) -> list[SensorOut]:
    now = services.now_ms()
    sensors = session.execute(
        select(Sensor.id, Sensor.name, Sensor.site, Agent.name.label("agent"))
        .join(Agent, Agent.id == Sensor.agent_id)
        .order_by(Sensor.site, Sensor.name)
    ).all()
    latest: dict[int, list[LatestValue]] = {}
    for row in session.execute(select(Latest).order_by(Latest.quantity)).scalars():
        latest.setdefault(row.sensor_id, []).append(
            LatestValue(quantity=row.quantity, value=row.value, unit=row.unit, ts=row.ts,
                        flags=list(flags_of(row.flags)))
        )
    alerting = set(session.execute(select(Alert.sensor_id).where(Alert.state != "resolved")).scalars())
    calibrations, today = registers(session), utc_date(now)
    out = []
    for s in sensors:
        values = latest.get(s.id, [])
        newest = max((v.ts for v in values), default=0)
        state = "alert" if s.id in alerting else ("stale" if now - newest > STALE_MS else "ok")
        cal = calibrations.get(s.id)
        out.append(SensorOut(name=s.name, site=s.site, agent=s.agent, state=state, latest=values,
                             calibration=calibration_state(cal, today=today) if cal is not None else None))
    return out


@router.get("/status", summary="Counts of what is stored, and what was refused")
def server_status(services: ServicesDep, session: SessionDep, _: StaffDep) -> StatusOut:
    def count(q) -> int:  # type: ignore[no-untyped-def]
        return int(session.execute(q).scalar_one())

    return StatusOut(
        readings_total=count(select(func.coalesce(func.sum(IngestedBatch.n_readings), 0))),
        batches_total=count(select(func.count()).select_from(IngestedBatch)),
        sensors=count(select(func.count()).select_from(Sensor)),
        agents=count(select(func.count()).select_from(Agent)),
        alerts_open=count(select(func.count()).select_from(Alert).where(Alert.state != "resolved")),
        alerts_total=count(select(func.count()).select_from(Alert)),
        counters=services.counters.snapshot(),
        warnings=standing_warnings(services, session),
    )


@router.get("/health", tags=["health"], summary="Liveness and the state of the optional links (public)")
def health(services: ServicesDep) -> dict[str, str]:
    mqtt, influx = services.mqtt, services.influx
    return {
        "status": "ok",
        "mqtt": "off" if mqtt is None else ("connected" if mqtt.connected.is_set() else "disconnected"),
        "influxdb": "off" if influx is None else ("ok" if influx.healthy else "failing"),
    }
