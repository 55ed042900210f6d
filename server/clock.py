"""The server's wall clock in epoch milliseconds; `create_app` takes another clock in tests."""

from __future__ import annotations

import time


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000
