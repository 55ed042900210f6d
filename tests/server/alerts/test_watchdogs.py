"""Watchdogs: a sensor that goes quiet, an agent that goes offline or reports a full outbox or disk, each opens a
`watchdog.*` alert in the alert lifecycle (listed, notified) and resolves when data returns. The rule itself is
pure and checked with the default limits; the server path runs on a controlled clock."""

from __future__ import annotations

from pathlib import Path

from server.alerts.watchdogs import (
    AGENT_OFFLINE,
    AGENT_OUTBOX,
    SENSOR_SILENT,
    AgentSeen,
    SensorSeen,
    WatchdogConfig,
    conditions,
    silent_limit_s,
)
from tests.kit import server_internals
from tests.server.alerts.alert_kit import T0, running_server
from tests.server.notify.test_notifications import notify_file

DEFAULTS = WatchdogConfig()


def _agent(state: str = "online", heard: int = T0, **kw: bool) -> AgentSeen:
    return AgentSeen(1, "gw-1", "plant-a", heard, state, kw.get("outbox_full", False), kw.get("disk_full", False))


def _sensor(last_ts: int, interval_ms: int | None = 1000) -> SensorSeen:
    return SensorSeen(7, "tank-3-gas", "plant-a", 1, last_ts, interval_ms)


def test_a_sensor_is_silent_after_three_intervals_and_never_before_a_minute():
    """max(3 x interval, 60 s): a 1 s sensor after 60 s, a 60 s sensor after 180 s, an unknown one after 60 s."""
    assert silent_limit_s(1000, DEFAULTS) == 60
    assert silent_limit_s(60_000, DEFAULTS) == 180
    assert silent_limit_s(None, DEFAULTS) == 60
    assert conditions([_sensor(T0)], [_agent(heard=T0 + 60_000)], now_ms=T0 + 60_000, config=DEFAULTS) == []
    (c,) = conditions([_sensor(T0)], [_agent(heard=T0 + 60_001)], now_ms=T0 + 60_001, config=DEFAULTS)
    assert (c.rule_id, c.subject, c.sensor_id, round(c.value_s), c.limit_s) == (SENSOR_SILENT, "tank-3-gas", 7, 60, 60)


def test_an_agent_is_offline_after_a_minute_unheard_or_at_its_last_will_and_its_sensors_are_not_paged_again():
    """Offline: 60 s without batch or status, or the Last Will; its silent sensors raise nothing more."""
    later = T0 + 61_000
    (c,) = conditions([_sensor(T0)], [_agent(heard=T0)], now_ms=later, config=DEFAULTS)
    assert (c.rule_id, c.subject, c.agent_id) == (AGENT_OFFLINE, "agent:gw-1", 1)
    (c,) = conditions([_sensor(T0)], [_agent("offline", heard=T0)], now_ms=T0 + 1000, config=DEFAULTS)
    assert c.rule_id == AGENT_OFFLINE and "Last Will" in c.message


def test_a_full_outbox_or_disk_is_a_watchdog_of_its_own():
    """An online agent reporting its disk full opens watchdog.agent_outbox."""
    (c,) = conditions([], [_agent(disk_full=True)], now_ms=T0, config=DEFAULTS)
    assert c.rule_id == AGENT_OUTBOX and "disk is full" in c.message


def test_silent_sensor_and_offline_agent_open_alerts_that_notify_and_resolve(tmp_path: Path, database_url, smtp,
                                                                              webhook):
    """Through the server: readings every second, then silence while the agent still reports: sensor_silent at
    61 s (not at 59 s), listed with its sensor and notified by webhook; readings again resolve it. The agent
    unheard for 61 s: agent_offline, listed as agent:gw-1; a new batch resolves it."""
    hooks = notify_file(tmp_path, smtp.port, webhook.url, extra="""
[[policies]]
id = "watchdogs"
hazards = ["watchdog.*"]
min_severity = "info"
stages = [{ group = "safety" }]
""")
    with running_server(tmp_path, database_url, notify_file=hooks) as server:
        app = server.app
        last = server.feed("tank-3-gas", "h2s", "ppm", [0.5] * 10)

        def status() -> None:
            r = server.client.post("/api/v1/agent-status", json={"state": "online", "ts": server.clock.now},
                                   headers={"Authorization": f"Bearer {server.agent_token}"})
            assert r.status_code == 200, r.text

        server.clock.now = last + 59_000
        status()
        assert server_internals.check_watchdogs(app, server.clock.now) == (0, 0)
        server.clock.now = last + 61_000
        status()
        assert server_internals.check_watchdogs(app, server.clock.now) == (1, 0)
        (alert,) = server.alerts(rule="watchdog.sensor_silent")
        assert (alert["sensor"], alert["state"], alert["severity"]) == ("tank-3-gas", "open", "warning")
        server.run_due()
        assert [p["alert"]["rule"] for p in webhook.payloads()] == ["watchdog.sensor_silent"]

        server.feed("tank-3-gas", "h2s", "ppm", [0.6])
        assert server_internals.check_watchdogs(app, server.clock.now) == (0, 1)
        assert server.alerts(rule="watchdog.sensor_silent")[0]["state"] == "resolved"

        server.clock.now += 61_000
        assert server_internals.check_watchdogs(app, server.clock.now) == (1, 0)
        (offline,) = server.alerts(rule="watchdog.agent_offline")
        assert offline["sensor"] == "agent:gw-1" and offline["state"] == "open"
        assert server.alerts(rule="watchdog.sensor_silent", state="active") == []  # the agent says why
        server.feed("tank-3-gas", "h2s", "ppm", [0.7])
        assert server_internals.check_watchdogs(app, server.clock.now) == (0, 1)
        assert server.alerts(rule="watchdog.agent_offline")[0]["state"] == "resolved"
        detail = server.get(f"/api/v1/alerts/{offline['id']}")
        assert [e["action"] for e in detail["audit"]] == ["alert_opened", "alert_resolved"]


def test_a_sensor_that_reports_only_faults_is_silent(tmp_path: Path, database_url):
    """Readings keep coming but every one is flagged sensor_fault: no valid reading for 61 s is
    watchdog.sensor_silent all the same ("no valid reading"); one valid reading resolves it."""
    with running_server(tmp_path, database_url) as server:
        app = server.app
        last_valid = server.feed("tank-3-gas", "h2s", "ppm", [0.5] * 5)
        server.feed("tank-3-gas", "h2s", "ppm", [0.0] * 61, flags=("sensor_fault",))
        assert server.clock.now - last_valid > 60_000
        assert server_internals.check_watchdogs(app, server.clock.now) == (1, 0)
        (alert,) = server.alerts(rule="watchdog.sensor_silent")
        assert alert["sensor"] == "tank-3-gas" and alert["state"] == "open"
        detail = server.get(f"/api/v1/alerts/{alert['id']}")
        assert "no valid reading" in str(detail)
        server.feed("tank-3-gas", "h2s", "ppm", [0.6])
        assert server_internals.check_watchdogs(app, server.clock.now) == (0, 1)
