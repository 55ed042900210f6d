"""Reconnect waits: full-jitter backoff, cut short as soon as a peer that was down accepts connections again."""

from __future__ import annotations

import asyncio
import random
import socket
import time

from agent.backoff import Backoff, reachable, wait_to_retry
from tests.kit.ports import free_port


def test_backoff_doubles_to_its_cap_with_jitter_and_resets() -> None:
    b = Backoff(initial_s=0.5, max_s=4.0, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(6)]
    caps = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(cap / 2 <= d <= cap for d, cap in zip(delays, caps, strict=True))
    b.reset()
    assert b.next_delay() <= 0.5


def test_a_peer_that_comes_back_ends_the_wait_within_the_poll() -> None:
    port = free_port()

    async def scenario() -> tuple[float, bool]:
        listener: socket.socket | None = None

        async def come_back() -> None:
            nonlocal listener
            await asyncio.sleep(1.0)
            listener = socket.create_server(("127.0.0.1", port))

        start = time.monotonic()
        task = asyncio.create_task(come_back())
        await wait_to_retry(20.0, host="127.0.0.1", port=port, sleep=asyncio.sleep, poll_s=0.2)
        waited = time.monotonic() - start
        await task
        up = await reachable("127.0.0.1", port)
        assert listener is not None
        listener.close()
        return waited, up

    waited, up = asyncio.run(scenario())
    assert up
    assert 0.9 <= waited < 3.0, waited


def test_a_peer_that_accepts_connections_gets_the_whole_delay() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        start = time.monotonic()
        asyncio.run(wait_to_retry(0.6, host="127.0.0.1", port=port, sleep=asyncio.sleep, poll_s=0.1))
        assert time.monotonic() - start >= 0.6
