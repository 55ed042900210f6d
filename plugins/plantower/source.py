"""The Plantower source: PMS frames from a serial port, in active (streaming) or passive (query) mode."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from agent.framing import Skipped, WarmingUp
from agent.serial_port import SerialSource, SerialSourceConfig
from agent.sources import SourceConfig
from exposure import Reading
from plugins.plantower.frames import (
    CMD_ACTIVE_MODE,
    CMD_PASSIVE_MODE,
    CMD_READ,
    FrameScanner,
    Model,
    PmsFrame,
)

PM_UNIT = "ug/m3"
COUNT_UNIT = "count/0.1L"


class PlantowerConfig(SerialSourceConfig):
    type: Literal["plantower"] = "plantower"
    model: Model = Field(
        default="pms5003",
        description="pms1003, pms5003, pms7003, pmsa003, or pms5003t (temperature, humidity)",
    )
    mode: Literal["active", "passive"] = Field(
        default="active", description="active: the sensor pushes frames; passive: asked every interval_s"
    )
    pm_values: Literal["cf1", "atmospheric"] = Field(
        default="cf1", description="cf1 (datasheet: for factory environments) or atmospheric"
    )
    particle_counts: Literal["emit", "omit"] = "emit"


class PlantowerSource(SerialSource):
    type_name: ClassVar[str] = "plantower"
    config_model: ClassVar[type[SourceConfig]] = PlantowerConfig
    config: PlantowerConfig

    def __init__(self, config: SourceConfig, **kwargs: object) -> None:
        super().__init__(config, **kwargs)  # type: ignore[arg-type]
        assert isinstance(config, PlantowerConfig)
        self.scanner = FrameScanner(model=config.model)

    def open_commands(self) -> list[bytes]:
        return [CMD_PASSIVE_MODE if self.config.mode == "passive" else CMD_ACTIVE_MODE]

    def query_command(self) -> bytes | None:
        return CMD_READ if self.config.mode == "passive" else None

    def feed(self, data: bytes) -> list[Reading]:
        out: list[Reading] = []
        for event in self.scanner.feed(data):
            if isinstance(event, PmsFrame):
                self.counters.frames_ok += 1
                out.extend(self.to_readings(event))
            elif isinstance(event, WarmingUp):
                self.counters.warmup += 1
            elif isinstance(event, Skipped):
                self.counters.bad(event.reason)
        return out

    def to_readings(self, frame: PmsFrame) -> list[Reading]:
        ts = self.clock.now_ms()
        if self.config.pm_values == "cf1":
            pm = (("pm1", frame.pm1_cf1), ("pm2_5", frame.pm2_5_cf1), ("pm10", frame.pm10_cf1))
        else:
            pm = (("pm1", frame.pm1_atm), ("pm2_5", frame.pm2_5_atm), ("pm10", frame.pm10_atm))
        out = [Reading(self.name, q, float(v), PM_UNIT, ts) for q, v in pm]
        if self.config.particle_counts == "emit":
            counts = (
                ("pc_0_3", frame.pc_0_3),
                ("pc_0_5", frame.pc_0_5),
                ("pc_1_0", frame.pc_1_0),
                ("pc_2_5", frame.pc_2_5),
                ("pc_5_0", frame.pc_5_0),
                ("pc_10", frame.pc_10),
            )
            out.extend(Reading(self.name, q, float(v), COUNT_UNIT, ts) for q, v in counts if v is not None)
        if frame.temperature_c is not None:
            out.append(Reading(self.name, "temperature", frame.temperature_c, "degC", ts))
        if frame.humidity_rh is not None:
            out.append(Reading(self.name, "humidity", frame.humidity_rh, "%RH", ts))
        return out
