"""Alarm output `log`: every local alarm raised or cleared is written to the agent's log."""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agent.alarms.outputs import AlarmOutput, AlarmSignal
from agent.hookspecs import hookimpl

log = logging.getLogger("hazmon.alarm")


class LogOutputConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["log"] = "log"
    level: Literal["warning", "error", "critical"] = "warning"


class LogOutput(AlarmOutput):
    type_name = "log"
    config_model = LogOutputConfig

    def set(self, signal: AlarmSignal) -> None:
        if signal.active:
            log.log(logging.getLevelName(self.config.level.upper()), "ALARM %s %s on %s: %g %s",
                    (signal.severity or "").upper(), signal.rule, signal.sensor, signal.value, signal.unit)
        else:
            log.info("alarm cleared: %s on %s (%g %s)", signal.rule, signal.sensor, signal.value, signal.unit)


@hookimpl
def hazmon_agent_alarm_outputs() -> list[type[AlarmOutput]]:
    return [LogOutput]
