"""One supervised task per source: a failing source is counted, logged and restarted with backoff; the
others never notice.

Poison stops here: a value that is not finite or outside the physical range of its unit
(`exposure.quantities.implausible`) is a rejected frame, counted by reason on the source and logged at most once
a minute per source, never a reading. The server applies the same check, so nothing the agent sends is refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from agent.backoff import Backoff
from agent.clock import Clock
from agent.probe import SourceCounters
from agent.sources import Held, Source
from exposure import Reading
from exposure.quantities import canonical_unit, implausible

log = logging.getLogger(__name__)

Emit = Callable[[Reading], Awaitable[None]]
#: readings and the release to call once they are durable
Hold = Callable[[Sequence[Reading], Callable[[], None]], Awaitable[None]]


@dataclass
class SourceHealth:
    name: str
    state: str = "starting"  # starting | running | backoff | finished
    readings: int = 0
    failures: int = 0
    last_error: str | None = None
    last_error_ms: int | None = None  # when the last crash happened (agent clock)
    rejected: Counter[str] = field(default_factory=Counter)
    logged_rejections_ms: int | None = None
    unlogged_rejections: int = 0

#: a source's rejected values are logged at most this often
REJECTION_LOG_INTERVAL_MS = 60_000


class Supervisor:
    def __init__(self, sources: list[Source], *, emit: Emit, clock: Clock, max_backoff_s: float = 60.0,
                 hold: Hold | None = None) -> None:
        self.sources = sources
        self.emit = emit
        self.hold = hold
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
                async for item in source.readings():
                    if isinstance(item, Held):
                        kept = [r for r in item.readings if self._accept(source, health, r)]
                        await self._hold(kept, item.release)
                        health.readings += len(kept)
                    elif self._accept(source, health, item):
                        await self.emit(item)
                        health.readings += 1
                    backoff.reset()
                health.state = "finished"
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                health.failures += 1
                health.last_error = f"{type(exc).__name__}: {exc}"
                health.last_error_ms = self.clock.now_ms()
                health.state = "backoff"
                delay = backoff.next_delay()
                log.warning("source %s failed (%s); restarting in %.1f s", source.name, health.last_error, delay)
            finally:
                try:
                    await source.aclose()
                except Exception as exc:
                    log.warning("source %s: close failed: %s", source.name, exc)
            await self.clock.sleep(delay)

    def _accept(self, source: Source, health: SourceHealth, reading: Reading) -> bool:
        reason = implausible(reading.value, canonical_unit(reading.unit) or reading.unit)
        if reason is None:
            return True
        self._reject(source, health, reading, reason)
        return False

    async def _hold(self, readings: Sequence[Reading], release: Callable[[], None]) -> None:
        if readings and self.hold is not None:
            await self.hold(readings, release)
            return
        for reading in readings:  # no durable hold here (a test, a probe): emitted, then released
            await self.emit(reading)
        release()

    def _reject(self, source: Source, health: SourceHealth, reading: Reading, reason: str) -> None:
        health.rejected[reason] += 1
        counters = getattr(source, "counters", None)
        if isinstance(counters, SourceCounters):
            counters.bad(reason)
            counters.last_error = f"{reading.quantity} = {reading.value!r} {reading.unit}: {reason}"
        now = self.clock.now_ms()
        if health.logged_rejections_ms is not None and now - health.logged_rejections_ms < REJECTION_LOG_INTERVAL_MS:
            health.unlogged_rejections += 1
            return
        more = f" (and {health.unlogged_rejections} more in the last minute)" if health.unlogged_rejections else ""
        log.warning("source %s: rejected %s = %r %s: %s%s", source.name, reading.quantity, reading.value,
                    reading.unit, reason, more)
        health.logged_rejections_ms, health.unlogged_rejections = now, 0
