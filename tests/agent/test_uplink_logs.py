"""What the uplinks log: a transition once (connected, disconnected with the URL and the reason), the backlog
while one exists, and no line per HTTP request."""

from __future__ import annotations

import asyncio
import logging
import time

from agent.outbox import Outbox
from agent.uplink.backlog import LinkLog, log_backlog, quiet_http_client_logs
from exposure import Reading


def test_a_link_logs_its_transitions_once(caplog):
    """up, down, down (same reason), down (new reason), up: WARNING once per reason, INFO for repeats, one
    `connected` per reconnection, each naming the URL."""
    caplog.set_level(logging.DEBUG, logger="agent.uplink")
    link = LinkLog("http://hazmon.example:8600")
    link.up()
    link.up()
    link.down("server answered 503", 0.5)
    link.down("server answered 503", 1.0)
    link.down("ConnectError: refused", 2.0)
    link.up()
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        ("INFO", "uplink: connected to http://hazmon.example:8600"),
        ("WARNING", "uplink: disconnected from http://hazmon.example:8600: server answered 503; reconnecting in "
                    "0.5 s (sooner if the server was down)"),
        ("INFO", "uplink: http://hazmon.example:8600 still unreachable (server answered 503); reconnecting in 1.0 s"),
        ("WARNING", "uplink: cannot reach http://hazmon.example:8600: ConnectError: refused; reconnecting in 2.0 s "
                    "(sooner if the server was down)"),
        ("INFO", "uplink: connected to http://hazmon.example:8600"),
    ]


async def test_the_backlog_is_logged_while_one_exists(tmp_path, caplog):
    """With batches in the outbox, each interval logs how many and for which URL; an empty outbox logs nothing."""
    caplog.set_level(logging.INFO, logger="agent.uplink")
    outbox = Outbox(tmp_path / "outbox.db")
    now = int(time.time() * 1000)
    try:
        task = asyncio.create_task(log_backlog(outbox, url="http://hazmon.example:8600", interval_s=0.02))
        await asyncio.sleep(0.1)
        assert not caplog.records
        outbox.append([Reading("s1", "co", 1.0, "ppm", now)], now_ms=now)
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        task.cancel()
    finally:
        outbox.close()
    assert caplog.records[0].getMessage().startswith(
        "uplink: backlog of 1 batches (1 readings) for http://hazmon.example:8600, oldest ")


def test_httpx_request_lines_are_silenced():
    """After quiet_http_client_logs(), httpx's per-request INFO lines are not emitted."""
    quiet_http_client_logs()
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
