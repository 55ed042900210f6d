"""What the uplinks log, so an operator reading the journal sees what changed and not one line per request:
connected, disconnected (with the URL and the reason, once per reason), and the backlog every minute while one
exists. Logging only: delivery, retries and backoff are the uplinks' own."""

from __future__ import annotations

import asyncio
import logging
import time

from agent.outbox import Outbox

log = logging.getLogger("agent.uplink")

BACKLOG_INTERVAL_S = 60.0


def quiet_http_client_logs() -> None:
    """httpx logs every request at INFO ("HTTP Request: POST ..."): once a second is noise in the journal."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


class LinkLog:
    """Logs the transitions of one uplink's link to `url`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._up: bool | None = None
        self._reason: str | None = None

    def up(self) -> None:
        if self._up is not True:
            log.info("uplink: connected to %s", self.url)
        self._up, self._reason = True, None

    def down(self, reason: str, retry_s: float) -> None:
        """The first failure (and each new reason) at WARNING; the same reason again at INFO. Either way one line
        per attempt, and attempts are spaced by the uplink's backoff (at most retry_max_s apart)."""
        if self._up is not False or reason != self._reason:
            what = "disconnected from" if self._up else "cannot reach"
            log.warning("uplink: %s %s: %s; reconnecting in %.1f s (sooner if the server was down)",
                        what, self.url, reason, retry_s)
        else:
            log.info("uplink: %s still unreachable (%s); reconnecting in %.1f s", self.url, reason, retry_s)
        self._up, self._reason = False, reason


async def log_backlog(outbox: Outbox, *, url: str, interval_s: float = BACKLOG_INTERVAL_S) -> None:
    """Every `interval_s` (wall-clock) while the outbox holds batches: how many, and how old the oldest is."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            stats = await asyncio.to_thread(outbox.stats)
        except Exception as exc:  # a logging task never stops delivery
            log.debug("uplink: backlog unknown: %s", exc)
            continue
        if stats.batches:
            age = "" if stats.oldest_created_ms is None else \
                f", oldest {max(0.0, time.time() - stats.oldest_created_ms / 1000):.0f} s old"
            log.info("uplink: backlog of %d batches (%d readings) for %s%s", stats.batches, stats.readings, url, age)
