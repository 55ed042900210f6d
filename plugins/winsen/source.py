"""The Winsen source: ZE-series gas modules and MH-Z19 CO2 sensors on a serial port."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from agent.framing import FrameError, Skipped, WarmingUp
from agent.serial_port import SerialSource, SerialSourceConfig
from agent.sources import SourceConfig
from exposure import Reading
from plugins.winsen import frames

#: the gas a single-gas module measures when the answer frame does not say it
MODEL_GAS: dict[str, str] = {"ze07": "co", "ze15": "co", "ze08": "hcho", "mhz19": "co2"}

Gas = Literal["nh3", "h2s", "co", "o2", "hcho", "so2", "no2", "cl2", "co2"]


class WinsenConfig(SerialSourceConfig):
    type: Literal["winsen"] = "winsen"
    model: frames.Model = Field(description="ze03, ze07 (CO), ze08 (CH2O), ze15 (CO) or mhz19 (CO2)")
    mode: Literal["initiative", "qa"] = Field(
        default="qa", description="qa: asked every interval_s; initiative: the module uploads every second"
    )
    gas: Gas | None = Field(
        default=None, description="qa mode: the module's gas (ZE03 answers do not carry it); implied for others"
    )
    decimals: int | None = Field(
        default=None, ge=0, le=3, description="qa mode, ze03/ze07: resolution; default per gas (ZE03 table)"
    )

    @model_validator(mode="after")
    def _gas_known(self) -> WinsenConfig:
        if self.model == "mhz19" and self.mode != "qa":
            raise ValueError("mhz19 has no initiative upload: use mode = 'qa'")
        if self.mode == "qa" and self.gas is None and self.model not in MODEL_GAS:
            raise ValueError(f"{self.model} in qa mode needs gas = ... (the answer does not name it)")
        return self


class WinsenSource(SerialSource):
    type_name: ClassVar[str] = "winsen"
    config_model: ClassVar[type[SourceConfig]] = WinsenConfig
    config: WinsenConfig

    def __init__(self, config: SourceConfig, **kwargs: object) -> None:
        super().__init__(config, **kwargs)  # type: ignore[arg-type]
        assert isinstance(config, WinsenConfig)
        self.scanner = frames.FrameScanner()
        self.gas = config.gas or MODEL_GAS.get(config.model, "")

    def open_commands(self) -> list[bytes]:
        modes = frames.MODE_COMMANDS.get(self.config.model)
        return [modes[self.config.mode]] if modes else []

    def query_command(self) -> bytes | None:
        return frames.CMD_READ if self.config.mode == "qa" else None

    def _interpret(self, frame: frames.Frame) -> frames.GasValue:
        if frame.is_answer:
            if self.config.mode != "qa":
                raise FrameError("unexpected_frame", "an answer frame in initiative mode")
            return frames.decode_answer(frame, model=self.config.model, gas=self.gas, decimals=self.config.decimals)
        if self.config.model == "mhz19":
            raise FrameError("unexpected_frame", f"command byte {frame.raw[1]:#04x} from an MH-Z19")
        return frames.decode_initiative(frame)

    def feed(self, data: bytes) -> list[Reading]:
        out: list[Reading] = []
        for event in self.scanner.feed(data):
            if isinstance(event, Skipped):
                self.counters.bad(event.reason)
                continue
            try:
                value = self._interpret(event)
            except WarmingUp:
                self.counters.warmup += 1
                continue
            except FrameError as exc:
                self.counters.bad(exc.reason)
                continue
            self.counters.frames_ok += 1
            out.append(Reading(self.name, value.quantity, value.value, value.unit, self.clock.now_ms()))
        return out
