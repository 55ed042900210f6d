"""`[[alarms]]` tables of the agent config: instantaneous and STEL alarm rules evaluated on the agent, and the
outputs each one drives (validated against the output plugin's config model when the agent starts)."""

from __future__ import annotations

import fnmatch
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exposure.wire import Severity, severity_rank


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlarmLevel(_Strict):
    severity: Severity
    above: float | None = None
    below: float | None = None
    clear_at: float | None = Field(default=None, description="hysteresis: clears on the safe side of this")

    @model_validator(mode="after")
    def _one(self) -> AlarmLevel:
        if (self.above is None) == (self.below is None):
            raise ValueError("a level has exactly one of `above` or `below`")
        return self

    @property
    def threshold(self) -> float:
        return self.above if self.above is not None else self.below  # type: ignore[return-value]

    @property
    def clear(self) -> float:
        return self.clear_at if self.clear_at is not None else self.threshold


class AlarmRule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,58}$")
    quantity: str
    unit: str
    metric: Literal["value", "stel"] = "value"
    sensors: str = Field(default="*", description="a glob over sensor names")
    levels: list[AlarmLevel] = Field(min_length=1)
    message: str = ""
    outputs: list[dict[str, Any]] = Field(default_factory=list,
                                          description="[{type = 'log'}, {type = 'modbus_coil', ...}]")

    @model_validator(mode="after")
    def _order(self) -> AlarmRule:
        ways = {"above" if lv.above is not None else "below" for lv in self.levels}
        if len(ways) != 1:
            raise ValueError("all levels of an alarm go the same way")
        return self

    @property
    def above(self) -> bool:
        return self.levels[0].above is not None

    def applies_to(self, sensor: str, quantity: str, unit: str) -> bool:
        return quantity == self.quantity and unit == self.unit and fnmatch.fnmatchcase(sensor, self.sensors)

    def sorted_levels(self) -> list[AlarmLevel]:
        return sorted(self.levels, key=lambda lv: severity_rank(lv.severity))
