"""The Modbus source: one device (unit id) on an RTU (RS-485) or TCP bus, polled every interval_s."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pymodbus import FramerType, ModbusException
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient

from agent.probe import SourceCounters
from agent.sources import PolledSource, PolledSourceConfig, SourceConfig
from exposure import Reading
from exposure.quantities import canonical_unit, implausible, unit_for
from plugins.modbus.bus import REGISTRY, Bus, BusKey
from plugins.modbus.decode import WORDS, DataType, DecodeError, Order, decode_registers
from plugins.modbus.presets import PRESETS

log = logging.getLogger(__name__)


class RegisterMap(BaseModel):
    """One value: where it is, how it is encoded, and which reading it becomes (value * scale + offset)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quantity: str
    unit: str
    address: int = Field(ge=0, le=65535, description="protocol address (0-based), not the 4xxxx number")
    function: Literal[3, 4] = Field(default=3, description="3 holding registers, 4 input registers")
    data_type: DataType = "uint16"
    scale: float = 1.0
    offset: float = 0.0
    byte_order: Order = "big"
    word_order: Order = "big"
    interval_s: float | None = Field(default=None, gt=0, description="integration time (laeq), else unset")

    @model_validator(mode="after")
    def _known(self) -> RegisterMap:
        unit_for(self.quantity, self.unit)
        return self


class ModbusConfig(PolledSourceConfig):
    type: Literal["modbus"] = "modbus"
    transport: Literal["rtu", "tcp"] = "rtu"
    port: str | None = Field(default=None, description="rtu: the RS-485 adapter, e.g. /dev/serial/by-id/...")
    baudrate: int = Field(default=9600, gt=0)
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    host: str | None = Field(default=None, description="tcp: the device or RTU-to-TCP gateway")
    tcp_port: int = Field(default=502, gt=0, le=65535)
    unit_id: int = Field(default=1, ge=0, le=247, description="the device address on the bus")
    timeout_s: float = Field(default=1.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=10)
    preset: Literal["noise_rs485", "noise_rs485_gemho", "dust_rs485", "co_rs485", "h2s_rs485", "o2_rs485"] | None = None
    registers: list[RegisterMap] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset") in PRESETS and not data.get("registers"):
            return {**data, "registers": PRESETS[data["preset"]]}
        return data

    @model_validator(mode="after")
    def _complete(self) -> ModbusConfig:
        if self.transport == "rtu" and not self.port:
            raise ValueError("transport rtu needs port")
        if self.transport == "tcp" and not self.host:
            raise ValueError("transport tcp needs host")
        if not self.registers:
            raise ValueError("registers is empty: give a register map or a preset")
        return self

    def bus_key(self) -> BusKey:
        if self.transport == "tcp":
            return ("tcp", str(self.host), str(self.tcp_port))
        return ("rtu", str(self.port), str(self.baudrate), self.parity, str(self.stopbits))


class ModbusSource(PolledSource):
    type_name: ClassVar[str] = "modbus"
    config_model: ClassVar[type[SourceConfig]] = ModbusConfig
    config: ModbusConfig

    def __init__(self, config: SourceConfig, **kwargs: object) -> None:
        super().__init__(config, **kwargs)  # type: ignore[arg-type]
        assert isinstance(config, ModbusConfig)
        self.counters = SourceCounters()
        self.bus: Bus | None = None
        self._was_down = False

    def _make_client(self) -> AsyncModbusSerialClient | AsyncModbusTcpClient:
        c = self.config
        if c.transport == "tcp":
            assert c.host is not None
            return AsyncModbusTcpClient(
                c.host, port=c.tcp_port, timeout=c.timeout_s, retries=c.retries, reconnect_delay=0
            )
        assert c.port is not None
        return AsyncModbusSerialClient(
            c.port,
            framer=FramerType.RTU,
            baudrate=c.baudrate,
            parity=c.parity,
            stopbits=c.stopbits,
            timeout=c.timeout_s,
            retries=c.retries,
            reconnect_delay=0,
        )

    async def _read(self, bus: Bus, reg: RegisterMap) -> list[int]:
        read = bus.client.read_holding_registers if reg.function == 3 else bus.client.read_input_registers
        rr = await read(reg.address, count=WORDS[reg.data_type], device_id=self.config.unit_id)
        if rr.isError():
            raise DecodeError(f"exception_{getattr(rr, 'exception_code', 0)}", f"register {reg.address}: {rr}")
        return list(rr.registers)

    async def poll(self) -> Sequence[Reading]:
        """Read every mapped register. A failed poll returns [] (a gap) and is counted; it never raises, so
        the polling goes on through any outage, reconnecting on the next poll."""
        if self.bus is None:
            self.bus = REGISTRY.acquire(self.config.bus_key(), self._make_client)
        bus = self.bus
        async with bus.lock:
            try:
                if not await bus.ensure_connected():
                    raise ConnectionError("cannot connect")
                values = [(reg, await self._read(bus, reg)) for reg in self.config.registers]
            except DecodeError as exc:
                self.counters.bad(exc.reason)
                self.counters.last_error = str(exc)
                return []
            except (ModbusException, ConnectionError, OSError, TimeoutError) as exc:
                self.counters.error(f"{type(exc).__name__}: {exc}")
                if not self._was_down:
                    log.warning("modbus %s: %s; retrying every poll", self.name, exc)
                self._was_down = True
                bus.drop_connection()
                return []
        if self._was_down:
            self.counters.reopens += 1
            self._was_down = False
            log.info("modbus %s: reading again", self.name)
        return self.to_readings(values, ts=self.clock.now_ms())

    def to_readings(self, values: Sequence[tuple[RegisterMap, list[int]]], *, ts: int) -> list[Reading]:
        """The readings of one poll's register words; a word that decodes to no measurement is counted. Pure
        apart from the counters."""
        out = []
        for reg, words in values:
            try:
                raw = decode_registers(words, reg.data_type, byte_order=reg.byte_order, word_order=reg.word_order)
            except DecodeError as exc:
                self.counters.bad(exc.reason)
                continue
            unit = canonical_unit(reg.unit) or reg.unit
            value = round(raw * reg.scale + reg.offset, 6)
            reason = implausible(value, unit)
            if reason is not None:
                self.counters.bad(reason)
                self.counters.last_error = f"register {reg.address}: {words} -> {value!r} {unit}"
                continue
            out.append(Reading(self.name, reg.quantity, value, unit, ts, reg.interval_s))
        self.counters.frames_ok += 1
        return out

    async def aclose(self) -> None:
        if self.bus is not None:
            REGISTRY.release(self.bus)
            self.bus = None
