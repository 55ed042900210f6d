"""The SDS011 source: data frames from a serial port, in active (streaming) or query mode."""

from __future__ import annotations

import logging
from typing import ClassVar, Literal

from pydantic import Field

from agent.framing import WarmingUp
from agent.serial_port import SerialSource, SerialSourceConfig
from agent.sources import SourceConfig
from exposure import Reading
from plugins.sds011 import frames

log = logging.getLogger(__name__)


class Sds011Config(SerialSourceConfig):
    type: Literal["sds011"] = "sds011"
    mode: Literal["active", "query"] = Field(
        default="query",
        description="query: asked every interval_s (advised); active: the sensor pushes frames",
    )
    device_id: str = Field(
        default="FFFF", pattern=r"^[0-9A-Fa-f]{4}$", description="the sensor's 2-byte id in hex; FFFF = any"
    )
    working_period_min: int | None = Field(
        default=None, ge=0, le=30, description="active mode: 0 continuous, 1-30 min; unset = leave as is"
    )
    duty: Literal["always_on", "sleep_between_polls"] = Field(
        default="always_on", description="query mode: sleep the laser between polls (about 8000 h lifetime)"
    )
    wake_warmup_s: float = Field(default=30.0, ge=0, le=300, description="after a wake, wait before reading")


class Sds011Source(SerialSource):
    type_name: ClassVar[str] = "sds011"
    config_model: ClassVar[type[SourceConfig]] = Sds011Config
    config: Sds011Config

    def __init__(self, config: SourceConfig, **kwargs: object) -> None:
        super().__init__(config, **kwargs)  # type: ignore[arg-type]
        assert isinstance(config, Sds011Config)
        self.scanner = frames.FrameScanner()
        self.device_id = int(config.device_id, 16)
        self.replies: list[frames.SdsReply] = []

    def open_commands(self) -> list[bytes]:
        commands = [frames.set_reporting_mode(self.config.mode, device_id=self.device_id)]
        if self.config.mode == "active" and self.config.working_period_min is not None:
            commands.append(frames.set_working_period(self.config.working_period_min, device_id=self.device_id))
        return commands

    def query_command(self) -> bytes | None:
        return frames.query_data(device_id=self.device_id) if self.config.mode == "query" else None

    async def poll_once(self) -> list[Reading]:
        if self.config.duty == "always_on":
            return await super().poll_once()
        assert self.port is not None
        try:
            await self.port.write(frames.set_work(device_id=self.device_id))
        except OSError as exc:
            self.counters.error(str(exc))
            return []
        await self.clock.sleep(self.config.wake_warmup_s)
        got = await super().poll_once()
        try:
            await self.port.write(frames.set_sleep(device_id=self.device_id))
        except OSError as exc:
            self.counters.error(str(exc))
        return got

    def feed(self, data: bytes) -> list[Reading]:
        out: list[Reading] = []
        for event in self.scanner.feed(data):
            if isinstance(event, frames.SdsData):
                if self.device_id != frames.BROADCAST and event.device_id != self.device_id:
                    self.counters.bad("other_device")
                    continue
                self.counters.frames_ok += 1
                ts = self.clock.now_ms()
                out.append(Reading(self.name, "pm2_5", event.pm2_5, "ug/m3", ts))
                out.append(Reading(self.name, "pm10", event.pm10, "ug/m3", ts))
            elif isinstance(event, frames.SdsReply):
                self.replies.append(event)  # an answer to a command: not a measurement
                del self.replies[:-10]
                log.debug("sds011 %s: reply to command %#04x: %s", self.name, event.command, event.data.hex())
            elif isinstance(event, WarmingUp):
                self.counters.warmup += 1
            else:
                self.counters.bad(event.reason)
        return out
