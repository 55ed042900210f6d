"""Exponential backoff with full jitter, for reconnects and restarts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable


class Backoff:
    def __init__(self, *, initial_s: float = 0.5, max_s: float = 30.0, rng: random.Random | None = None) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay before the next attempt: uniform in [cap/2, cap], cap doubling per failure."""
        cap = min(self.max_s, self.initial_s * (2**self.attempt))
        self.attempt += 1
        return self._rng.uniform(cap / 2, cap)

    def reset(self) -> None:
        self.attempt = 0


async def reachable(host: str, port: int, *, timeout_s: float = 1.0) -> bool:
    """Whether `host:port` accepts a TCP connection now (closed again at once)."""
    try:
        async with asyncio.timeout(timeout_s):  # not wait_for: it can lose a cancellation (Python 3.11)
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def wait_to_retry(
    delay_s: float, *, host: str, port: int, sleep: Callable[[float], Awaitable[None]], poll_s: float = 1.0
) -> None:
    """Wait `delay_s` before the next attempt, but when the peer does not even accept connections now (it is
    down or restarting), return as soon as it does: a restarted broker or server is used within about `poll_s`,
    not at the end of a backoff that grew during the outage. A peer that accepts connections but failed the
    attempt (refused credentials, a protocol error) gets the whole delay: the backoff still protects it."""
    if await reachable(host, port):
        await sleep(delay_s)
        return
    remaining = delay_s
    while remaining > 0:
        step = min(poll_s, remaining)
        await sleep(step)
        remaining -= step
        if await reachable(host, port):
            return
