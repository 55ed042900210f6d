"""What a source plugin provides: a config model and a class that yields readings.

A source is one physical device (one sensor id) that may emit several quantities. Sources are declared by
plugins through the `hazmon_agent_source_types` hook; the supervisor runs each configured instance in its own
task, so one failing device never stops another.

Two shapes, as in Telegraf: a *streaming* source implements `readings()` directly (a device that pushes frames);
a *polled* source implements `poll()` and is called every `interval_s`.
A failed read raises (the supervisor counts it and retries) or yields nothing: never a 0.

A source fed by something that keeps messages until they are acknowledged (a broker session) yields `Held`
readings: its `release()` is called once they are durably in the outbox, so a crash before then loses nothing
(the broker delivers the message again; the outbox drops readings it already holds).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from agent.calibration import CalibrationConfig
from agent.clock import Clock
from exposure import Reading


class SourceFinished(Exception):
    """Raised by `poll()` when a finite source (a replay, a scripted simulation) has nothing more to give."""


@dataclass(frozen=True, slots=True)
class Held:
    """Readings that upstream keeps until `release()`: called once they are in the outbox (at once when the
    agent keeps none of them, e.g. every value was rejected)."""

    readings: tuple[Reading, ...]
    release: Callable[[], None]


class SourceConfig(BaseModel):
    """Options every `[[sources]]` table has. A plugin subclasses this with its own fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(description="the source type, as a plugin declares it")
    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", description="the sensor id its readings carry"
    )
    enabled: bool = True
    calibration: CalibrationConfig | None = Field(
        default=None, description="zero/span correction; calibration and bump-test dates (agent.calibration)"
    )


class PolledSourceConfig(SourceConfig):
    interval_s: float = Field(default=1.0, gt=0, le=86_400, description="seconds between polls")


class Source(ABC):
    """A configured device. Built from validated config; connects only in `readings()`."""

    type_name: ClassVar[str]
    config_model: ClassVar[type[SourceConfig]] = SourceConfig

    def __init__(self, config: SourceConfig, *, clock: Clock) -> None:
        self.config = config
        self.clock = clock

    @property
    def name(self) -> str:
        return self.config.name

    @abstractmethod
    def readings(self) -> AsyncIterator[Reading | Held]:
        """Yield readings as they come. Returning ends the source; raising makes the supervisor restart it."""

    def for_probe(self) -> Source:
        """The source as `hazmon agent probe` runs it beside a running agent (e.g. without taking over the
        agent's broker session). The same source by default."""
        return self

    async def aclose(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release the device (close the port, disconnect). Called after `readings()` ends or fails."""


class PolledSource(Source):
    """A device asked for values every `interval_s` seconds."""

    config_model: ClassVar[type[SourceConfig]] = PolledSourceConfig

    @abstractmethod
    async def poll(self) -> Sequence[Reading]:
        """Read the device once. Raise on a failed read; return [] when there is nothing yet."""

    async def readings(self) -> AsyncIterator[Reading]:
        interval = getattr(self.config, "interval_s", 1.0)
        while True:
            try:
                batch = await self.poll()
            except SourceFinished:
                return
            for reading in batch:
                yield reading
            await self.clock.sleep(interval)
