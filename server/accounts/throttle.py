"""Login throttling: after `per_account` failed logins for one user name, or `per_address` from one client
address, within `window_s`, further attempts are refused (429, with how long to wait) until the oldest failure
leaves the window. In memory, per server process (each replica throttles on its own); a successful login clears
the account's failures."""

from __future__ import annotations

import threading
from collections import deque

_MAX_KEYS = 100_000


class LoginThrottle:
    def __init__(self, *, per_account: int, per_address: int, window_s: float) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self.window_ms = int(window_s * 1000)
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[int]] = {}

    def _recent(self, key: tuple[str, str], now_ms: int) -> deque[int]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now_ms - self.window_ms:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after_s(self, *, account: str, address: str, now_ms: int) -> int | None:
        """Seconds to wait before another attempt, or None when one is allowed now."""
        with self._lock:
            waits = []
            for key, limit in ((("account", account), self.per_account), (("address", address), self.per_address)):
                times = self._recent(key, now_ms)
                if len(times) >= limit:
                    waits.append(times[len(times) - limit] + self.window_ms - now_ms)
            return max(1, -(-max(waits) // 1000)) if waits else None

    def failed(self, *, account: str, address: str, now_ms: int) -> None:
        with self._lock:
            if len(self._failures) > _MAX_KEYS:  # forget the oldest keys rather than grow without bound
                for key in list(self._failures)[: _MAX_KEYS // 10]:
                    del self._failures[key]
            for key in (("account", account), ("address", address)):
                self._failures.setdefault(key, deque()).append(now_ms)

    def succeeded(self, *, account: str) -> None:
        with self._lock:
            self._failures.pop(("account", account), None)
