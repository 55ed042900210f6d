"""Watchdogs end to end: a real agent process reading a serial meter over a pseudo-terminal, a real server. The
meter goes silent (unplugged), then the agent stops: `watchdog.sensor_silent` and `watchdog.agent_offline` open
within their limits + 10 s, are delivered to a webhook, and resolve when data returns.

The limits are the documented rule, max(3 x interval, minimum), with the site's minimum set to 5 s (60 s by
default) so the test takes seconds, not minutes; tests/server/alerts/test_watchdogs.py checks the defaults."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import pytest

from tests.faults.conftest import AgentProc, Proc, Server
from tests.kit.receivers import webhook_server
from tests.kit.waiting import wait_for
from tests.plugins.plugin_testkit import FakeDevice

pytestmark = pytest.mark.slow

LIMIT_S = 5.0


def _meter(device: FakeDevice, stop: threading.Event) -> None:
    """A noise meter printing a line every 0.2 s until stopped (or unplugged)."""
    level = 80.0
    while not stop.is_set():
        with contextlib.suppress(OSError):  # unplugged: the line is silent
            device.send(f"LAeq={level:.1f}\n".encode())
        stop.wait(0.2)


def test_unplugged_meter_and_stopped_agent_raise_watchdogs_and_resolve(tmp_path: Path, procs: list[Proc]) -> None:
    with webhook_server() as hook:
        (tmp_path / "notify.toml").write_text(f"""
[[groups]]
name = "ops"
members = [{{ name = "ops", webhook = "{hook.url}", secret = "watchdog-test-secret-0123" }}]

[[policies]]
id = "watchdogs"
hazards = ["watchdog.*"]
min_severity = "info"
stages = [{{ group = "ops" }}]
""")
        server = Server(tmp_path, extra_env={
            "HAZMON_WATCHDOG_SILENT_MIN_S": str(LIMIT_S), "HAZMON_WATCHDOG_AGENT_OFFLINE_S": str(LIMIT_S),
            "HAZMON_WATCHDOG_INTERVAL_S": "1", "HAZMON_NOTIFY_FILE": str(tmp_path / "notify.toml")})
        procs.append(server)
        server.start()
        device = FakeDevice(tmp_path / "ttyUSB0")
        stop = threading.Event()
        meter = threading.Thread(target=_meter, args=(device, stop), daemon=True)
        meter.start()
        sources = (f'[[sources]]\ntype = "serial_lines"\nname = "press-noise"\nport = "{device.path}"\n'
                   'format = "kv"\nreopen_max_s = 0.5\n[sources.fields.LAeq]\nquantity = "laeq"\nunit = "dB(A)"\n'
                   "interval_s = 0.2\n")
        agent = AgentProc(tmp_path, server, uplink="http", sources_toml=sources, sensors=["press-noise"])
        procs.append(agent)
        agent.start()
        try:
            wait_for(lambda: len(server.stored(["press-noise"])) > 10, timeout=60, what="readings to flow")

            def alert(rule: str) -> dict | None:
                found = server.get("/alerts", rule=rule, state="all")
                return found[0] if found else None

            device.unplug()
            unplugged = time.monotonic()
            opened = wait_for(lambda: alert("watchdog.sensor_silent"), timeout=LIMIT_S + 10,
                              what="watchdog.sensor_silent")
            silent_after = time.monotonic() - unplugged
            assert opened["sensor"] == "press-noise" and opened["state"] == "open"
            wait_for(lambda: any(p["alert"]["rule"] == "watchdog.sensor_silent" for p in hook.payloads()),
                     timeout=15, what="the webhook to get the sensor_silent alert")
            device.replug()
            wait_for(lambda: alert("watchdog.sensor_silent")["state"] == "resolved", timeout=30,
                     what="sensor_silent to resolve")

            agent.stop()
            stopped = time.monotonic()
            wait_for(lambda: alert("watchdog.agent_offline"), timeout=LIMIT_S + 10, what="watchdog.agent_offline")
            offline_after = time.monotonic() - stopped
            assert alert("watchdog.agent_offline")["sensor"] == "agent:gw-1"
            agent.start()
            wait_for(lambda: alert("watchdog.agent_offline")["state"] == "resolved", timeout=30,
                     what="agent_offline to resolve")
            print(f"sensor_silent after {silent_after:.1f} s, agent_offline after {offline_after:.1f} s "
                  f"(limits {LIMIT_S:g} s)")
        finally:
            stop.set()
            meter.join(2)
            device.close()
