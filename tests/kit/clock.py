"""One controllable clock for every test."""

from __future__ import annotations

import asyncio

T0 = 1_764_410_400_000  # 2025-11-29 10:00:00 UTC


class Clock:
    """Time the test controls, in UTC milliseconds.

    Callable (what the server's `create_app(clock=...)` takes) and the agent's Clock protocol (`now_ms()`,
    `async sleep()`). `sleep()` records the delay and yields to the loop for `yield_s`; with `advance_on_sleep`
    it also moves time forward by the delay, so backoff loops run instantly in simulated time.
    """

    def __init__(self, now_ms: int = T0, *, advance_on_sleep: bool = False, yield_s: float = 0.0) -> None:
        self.now = now_ms
        self.advance_on_sleep = advance_on_sleep
        self.yield_s = yield_s
        self.slept: list[float] = []

    def __call__(self) -> int:
        return self.now

    def now_ms(self) -> int:
        return self.now

    def advance(self, ms: int) -> int:
        self.now += ms
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.advance_on_sleep:
            self.now += int(seconds * 1000)
        await asyncio.sleep(self.yield_s)
