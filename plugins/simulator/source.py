"""The simulator source: a polled device whose values come from a scenario."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from pydantic import Field

from agent.sources import PolledSource, PolledSourceConfig, SourceConfig, SourceFinished
from exposure import Reading
from plugins.simulator.scenarios import Kind, LeakShape, Scenario, SignalModel


class SimulatorConfig(PolledSourceConfig):
    type: Literal["simulator"] = "simulator"
    kind: Kind = Field(description="noise (laeq), dust (pm4, pm10) or gas (co, h2s, o2)")
    scenario: Scenario = "normal_shift"
    seed: int = 1
    leak_start_s: float = Field(default=5.0, ge=0, description="gas_leak: seconds before the release starts")
    samples: int | None = Field(default=None, gt=0, description="stop after this many samples (tests)")


class SimulatorSource(PolledSource):
    type_name: ClassVar[str] = "simulator"
    config_model: ClassVar[type[SourceConfig]] = SimulatorConfig

    def __init__(self, config: SourceConfig, **kwargs: object) -> None:
        super().__init__(config, **kwargs)  # type: ignore[arg-type]
        assert isinstance(config, SimulatorConfig)
        self.cfg = config
        self.model = SignalModel(
            name=config.name,
            kind=config.kind,
            scenario=config.scenario,
            seed=config.seed,
            leak=LeakShape(start_s=config.leak_start_s),
        )
        self.k = 0

    async def poll(self) -> Sequence[Reading]:
        if self.cfg.samples is not None and self.k >= self.cfg.samples:
            raise SourceFinished
        ts = self.clock.now_ms()
        interval = self.cfg.interval_s if self.cfg.kind == "noise" else None
        values = self.model.sample(self.k, self.k * self.cfg.interval_s)
        self.k += 1
        return [
            Reading(self.name, q, v, unit, ts, interval, ("simulated",)) for q, unit, v in values
        ]
