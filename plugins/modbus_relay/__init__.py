"""Alarm output `modbus_coil`: switches a Modbus TCP coil (a relay driving a beacon or a siren) on while a local
alarm is active, off when it clears. pymodbus >= 3.10; the write is retried on the next signal if it fails."""

from __future__ import annotations

import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.alarms.outputs import AlarmOutput, AlarmSignal
from agent.hookspecs import hookimpl
from exposure.wire import Severity, severity_rank


class ModbusCoilConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["modbus_coil"] = "modbus_coil"
    host: str
    port: int = Field(default=502, ge=1, le=65535)
    device_id: int = Field(default=1, ge=0, le=247, description="Modbus unit / slave id")
    coil: int = Field(ge=0, le=65535)
    min_severity: Severity = "warning"
    timeout_s: float = Field(default=3.0, gt=0)


class ModbusCoilOutput(AlarmOutput):
    type_name = "modbus_coil"
    config_model = ModbusCoilConfig

    def __init__(self, config: ModbusCoilConfig) -> None:
        super().__init__(config)
        self._lock = threading.Lock()
        self._client = None

    def set(self, signal: AlarmSignal) -> None:
        from pymodbus.client import ModbusTcpClient

        on = signal.active and severity_rank(signal.severity or "info") >= severity_rank(self.config.min_severity)
        with self._lock:
            if self._client is None:
                self._client = ModbusTcpClient(self.config.host, port=self.config.port, timeout=self.config.timeout_s)
            client = self._client
            if not client.connect():
                raise ConnectionError(f"modbus {self.config.host}:{self.config.port} not reachable")
            result = client.write_coil(self.config.coil, on, device_id=self.config.device_id)
            if result.isError():
                raise OSError(f"modbus write_coil {self.config.coil} failed: {result}")

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


@hookimpl
def hazmon_agent_alarm_outputs() -> list[type[AlarmOutput]]:
    return [ModbusCoilOutput]
