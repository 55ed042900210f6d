"""One supervised task per source: a failing source is counted, logged and restarted with backoff; the
others never notice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agent.backoff import Backoff
from agent.clock import Clock
from agent.sources import Source
from exposure import Reading

log = logging.getLogger(__name__)

Emit = Callable[[Reading], Awaitable[None]]


@dataclass
class SourceHealth:
    name: str
    state: str = "starting"  # starting | running | backoff | finished
    readings: int = 0
    failures: int = 0
    last_error: str | None = None


class Supervisor:
    def __init__(self, sources: list[Source], *, emit: Emit, clock: Clock, max_backoff_s: float = 60.0) -> None:
        self.sources = sources
        self.emit = emit
        self.clock = clock
        self.max_backoff_s = max_backoff_s
        self.health = {s.name: SourceHealth(s.name) for s in sources}

    async def run(self) -> None:
        """Run every source until each finishes (or forever). Cancel to stop."""
        async with asyncio.TaskGroup() as group:
            for source in self.sources:
                group.create_task(self._supervise(source), name=f"source:{source.name}")

    async def _supervise(self, source: Source) -> None:
        health = self.health[source.name]
        backoff = Backoff(initial_s=1.0, max_s=self.max_backoff_s)
        while True:
            health.state = "running"
            try:
                async for reading in source.readings():
                    await self.emit(reading)
                    health.readings += 1
                    backoff.reset()
                health.state = "finished"
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                health.failures += 1
                health.last_error = f"{type(exc).__name__}: {exc}"
                health.state = "backoff"
                delay = backoff.next_delay()
                log.warning("source %s failed (%s); restarting in %.1f s", source.name, health.last_error, delay)
            finally:
                try:
                    await source.aclose()
                except Exception as exc:
                    log.warning("source %s: close failed: %s", source.name, exc)
            await self.clock.sleep(delay)
