"""Alarm outputs: what a local alarm drives (a log line, a relay, a beacon). Declared by plugins through the
`hazmon_agent_alarm_outputs` hook; each instance runs alone, so a broken relay never stops the log."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel

from exposure.wire import Severity


@dataclass(frozen=True)
class AlarmSignal:
    """What an output is told: the rule, the sensor, whether the alarm is on, its severity and value."""

    rule: str
    sensor: str
    active: bool
    severity: Severity | None
    value: float
    unit: str
    ts: int
    message: str = ""


class AlarmOutput(ABC):
    """What an alarm-output plugin declares: its `type_name`, its pydantic `config_model`, and `set`."""

    type_name: ClassVar[str] = ""
    config_model: ClassVar[type[BaseModel]]

    def __init__(self, config: Any) -> None:
        self.config = config

    @abstractmethod
    def set(self, signal: AlarmSignal) -> None:
        """Drive the output (blocking is fine: the agent calls it in a worker thread). Raise on failure."""

    def close(self) -> None:  # noqa: B027 - optional, nothing to release by default
        """Release the output (close a Modbus connection) when the agent stops."""
