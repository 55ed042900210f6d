"""One supervised task per source: a failing source is counted and restarted with backoff, and never stops
another source from emitting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from agent.sources import Source, SourceConfig
from agent.supervisor import Supervisor
from exposure import Reading
from tests.kit.clock import Clock

T0 = 1_764_410_401_000


def sim_clock() -> Clock:
    """Time that moves only when slept; sleeping yields to the loop once and records the delay."""
    return Clock(T0, advance_on_sleep=True)


class AlwaysFailing(Source):
    type_name = "always-failing"

    def __init__(self, config: SourceConfig, *, clock: Clock) -> None:
        super().__init__(config, clock=clock)
        self.closed = 0

    async def readings(self) -> AsyncIterator[Reading]:
        raise OSError("port /dev/ttyUSB9 vanished")
        yield  # pragma: no cover - makes this an async generator

    async def aclose(self) -> None:
        self.closed += 1


class Counting(Source):
    """Yields `n` readings, giving the loop a turn between each (as a device read would)."""

    type_name = "counting"

    def __init__(self, config: SourceConfig, *, clock: Clock, n: int) -> None:
        super().__init__(config, clock=clock)
        self.n = n

    async def readings(self) -> AsyncIterator[Reading]:
        for k in range(self.n):
            await asyncio.sleep(0)
            yield Reading(self.name, "co", float(k), "ppm", T0 + k, None, ())


class FailsAfterTwo(Source):
    """Yields two readings per run, then fails: a flaky device that works between faults."""

    type_name = "flaky"

    def __init__(self, config: SourceConfig, *, clock: Clock) -> None:
        super().__init__(config, clock=clock)
        self.runs = 0

    async def readings(self) -> AsyncIterator[Reading]:
        self.runs += 1
        for k in range(2):
            await asyncio.sleep(0)
            yield Reading(self.name, "h2s", float(k), "ppm", T0 + self.runs * 10 + k, None, ())
        raise TimeoutError("no answer from the sensor")


def _cfg(name: str) -> SourceConfig:
    return SourceConfig(type="test", name=name)


async def _run_until(supervisor: Supervisor, condition: Callable[[], bool], *, timeout: float = 5.0) -> None:
    task = asyncio.create_task(supervisor.run())
    deadline = time.monotonic() + timeout
    try:
        while not condition():
            if task.done():
                task.result()
                pytest.fail("the supervisor stopped before the condition held")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s; health: {supervisor.health}")
            await asyncio.sleep(0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_failing_source_never_stops_another_from_emitting():
    """A source that raises every time does not keep a healthy one from delivering every reading."""
    clock = sim_clock()
    bad = AlwaysFailing(_cfg("bad-1"), clock=clock)
    good = Counting(_cfg("good-1"), clock=clock, n=50)
    emitted: list[Reading] = []

    async def emit(reading: Reading) -> None:
        emitted.append(reading)

    supervisor = Supervisor([bad, good], emit=emit, clock=clock)
    await _run_until(supervisor, lambda: supervisor.health["good-1"].state == "finished"
                     and supervisor.health["bad-1"].failures >= 5)

    assert [r.value for r in emitted] == [float(k) for k in range(50)]
    assert {r.sensor for r in emitted} == {"good-1"}
    assert supervisor.health["good-1"].readings == 50
    assert supervisor.health["good-1"].failures == 0


async def test_failing_source_is_restarted_with_backoff_and_its_failures_counted():
    """Each failure is counted with its error; restarts wait 1 s, 2 s, 4 s ... (jittered to [cap/2, cap]),
    capped at the maximum; the device is closed after every failed run."""
    clock = sim_clock()
    bad = AlwaysFailing(_cfg("bad-1"), clock=clock)
    supervisor = Supervisor([bad], emit=lambda r: asyncio.sleep(0), clock=clock, max_backoff_s=8.0)
    await _run_until(supervisor, lambda: supervisor.health["bad-1"].failures >= 7)

    health = supervisor.health["bad-1"]
    assert health.last_error == "OSError: port /dev/ttyUSB9 vanished"
    assert health.readings == 0
    assert bad.closed >= health.failures - 1
    caps = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert len(clock.slept) >= len(caps)
    for delay, cap in zip(clock.slept, caps, strict=False):
        assert cap / 2 <= delay <= cap


async def test_backoff_starts_over_after_a_source_delivers_again():
    """A source that recovers and delivers readings restarts its backoff from the initial delay."""
    clock = sim_clock()
    flaky = FailsAfterTwo(_cfg("flaky-1"), clock=clock)
    emitted: list[Reading] = []

    async def emit(reading: Reading) -> None:
        emitted.append(reading)

    supervisor = Supervisor([flaky], emit=emit, clock=clock)
    await _run_until(supervisor, lambda: supervisor.health["flaky-1"].failures >= 4)

    assert supervisor.health["flaky-1"].readings == len(emitted) >= 8
    assert all(0.5 <= d <= 1.0 for d in clock.slept)


async def test_source_that_finishes_is_not_restarted():
    """A source whose readings() returns is finished, not failed."""
    clock = sim_clock()
    done = Counting(_cfg("finite-1"), clock=clock, n=3)
    supervisor = Supervisor([done], emit=lambda r: asyncio.sleep(0), clock=clock)
    await asyncio.wait_for(supervisor.run(), 5)
    assert supervisor.health["finite-1"].state == "finished"
    assert supervisor.health["finite-1"].failures == 0
    assert clock.slept == []
