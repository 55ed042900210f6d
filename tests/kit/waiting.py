"""Waiting on a condition with a deadline: the only way a test waits for something to happen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_S = 0.02


def wait_for(predicate: Callable[[], T], *, timeout: float = 5.0, what: str, poll_s: float = POLL_S) -> T:
    """Call `predicate` until it returns something truthy and return that; fail naming `what` after `timeout` s.

    Exceptions from `predicate` propagate: a process that died is reported as such, not as a timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll_s)  # the polling interval of a condition with a deadline


async def wait_for_async(predicate: Callable[[], T], *, timeout: float = 5.0, what: str, poll_s: float = POLL_S) -> T:
    """`wait_for` inside an event loop: polls without blocking the loop the code under test runs on."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(poll_s)  # the polling interval of a condition with a deadline
