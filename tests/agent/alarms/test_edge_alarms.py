"""Edge alarms: local evaluation with the exposure code, outputs while the uplink is down, delivery to the server."""

from __future__ import annotations

import tomllib
from pathlib import Path

import httpx
import pytest

from agent.alarms.evaluator import EdgeAlarms
from agent.alarms.outputs import AlarmOutput, AlarmSignal
from agent.alarms.rules import AlarmRule
from agent.alarms.store import AlarmStore
from agent.config import parse_config
from exposure import Reading
from tests.kit.clock import T0, Clock
from tests.server.alerts.alert_kit import running_server

REPO = Path(__file__).resolve().parents[3]


class Recorder(AlarmOutput):
    type_name = "recorder"

    def __init__(self) -> None:
        self.signals: list[AlarmSignal] = []

    def set(self, signal: AlarmSignal) -> None:
        self.signals.append(signal)


class Broken(AlarmOutput):
    type_name = "broken"

    def __init__(self) -> None:
        pass

    def set(self, signal: AlarmSignal) -> None:
        raise OSError("relay unplugged")


H2S = AlarmRule(id="h2s-local", quantity="h2s", unit="ppm", levels=[
    {"severity": "warning", "above": 10.0, "clear_at": 8.0}, {"severity": "critical", "above": 20.0}])


def make(tmp_path: Path, rule: AlarmRule = H2S, *, url: str | None = None, token: str | None = None):  # type: ignore[no-untyped-def]
    rec, broken = Recorder(), Broken()
    alarms = EdgeAlarms([rule], outputs={rule.id: [broken, rec]}, store=AlarmStore(tmp_path / "alarms.db"),
                        clock=Clock(T0), url=url, token=token)
    return alarms, rec


def r(value: float, i: int, quantity: str = "h2s", flags: tuple[str, ...] = (), step_ms: int = 1000) -> Reading:
    return Reading(sensor="tank-1", quantity=quantity, value=value, unit="ppm", ts=T0 + i * step_ms, interval_s=None,
                   flags=flags)


def test_instantaneous_alarm_rises_and_clears_with_hysteresis(tmp_path):
    """Warning then critical, no clear between 8 and 10 ppm, cleared below 8; a broken output does not stop others."""
    alarms, rec = make(tmp_path)
    for i, v in enumerate([5, 12, 25, 9, 11, 7]):
        alarms.observe(r(v, i))
    alarms.drive_outputs()
    assert [(s.active, s.severity) for s in rec.signals] == [(True, "warning"), (True, "critical"), (False, None)]
    assert alarms.output_failures == 3
    assert [e["kind"] for e in alarms.store.pending()] == ["raised", "raised", "cleared"]


def test_unreliable_readings_are_ignored_at_the_edge(tmp_path):
    """A sensor_fault reading neither raises nor clears a local alarm."""
    alarms, rec = make(tmp_path)
    alarms.observe(r(50, 0, flags=("sensor_fault",)))
    alarms.observe(r(15, 1))
    alarms.observe(r(0, 2, flags=("warmup",)))
    alarms.drive_outputs()
    assert [s.active for s in rec.signals] == [True]


def test_stel_alarm_uses_the_streaming_exposure_evaluator(tmp_path):
    """50 ppm sustained for 15 min raises a STEL alarm at 35 ppm; a 5-min burst of 60 ppm does not."""
    rule = AlarmRule(id="nh3-stel", quantity="nh3", unit="ppm", metric="stel", levels=[
        {"severity": "critical", "above": 35.0}])
    alarms, rec = make(tmp_path, rule)
    for i in range(30):
        alarms.observe(r(60, i, quantity="nh3", step_ms=10_000))
    for i in range(30, 90):
        alarms.observe(r(5, i, quantity="nh3", step_ms=10_000))
    alarms.drive_outputs()
    assert rec.signals == []
    for i in range(90, 200):
        alarms.observe(r(50, i, quantity="nh3", step_ms=10_000))
    alarms.drive_outputs()
    assert rec.signals[0].active and rec.signals[0].value >= 35


async def test_events_wait_for_the_uplink_then_reach_the_server(tmp_path):
    """While the server is unreachable events stay on disk; once it answers they become edge alerts, stored once."""
    with running_server(tmp_path, "") as server:
        alarms, _ = make(tmp_path, url="http://127.0.0.1:9", token=server.agent_token)
        alarms.observe(r(25, 0))
        async with httpx.AsyncClient(timeout=2.0) as down:
            with pytest.raises(httpx.HTTPError):
                await alarms.deliver_once(down)
        assert len(alarms.store.pending()) == 1
        alarms.url = "http://testserver/api/v1/edge-alarms"
        transport = httpx.ASGITransport(app=server.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as up:
            assert await alarms.deliver_once(up) == 1
            assert alarms.store.pending() == []
            alarms.observe(r(5, 1))
            await alarms.deliver_once(up)
        [alert] = server.alerts()
        assert alert["origin"] == "edge" and alert["rule"] == "edge.h2s-local" and alert["state"] == "resolved"
        assert alert["severity"] == "critical"


def test_agent_config_takes_alarms_tables():
    """[[alarms]] tables (the plugins' samples) validate in the agent config."""
    for plugin in ("alarm_log", "modbus_relay"):
        sample = (REPO / "plugins" / plugin / "sample.toml").read_text()
        text = ('schema_version = 1\nsite = "plant-a"\nagent = "gw-1"\n'
                '[uplink]\ntype = "http"\nurl = "http://127.0.0.1:8600"\ntoken = "hzm_a_xxxxxxxx"\n\n' + sample)
        config = parse_config(text, source_types={})
        assert config.alarms[0].id == tomllib.loads(sample)["alarms"][0]["id"]
