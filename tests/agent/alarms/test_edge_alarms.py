"""Edge alarms: local evaluation with the exposure code, outputs while the uplink is down, delivery to the server
by the HTTP uplink (the MQTT uplink's is in tests/faults/test_edge_alarms_mqtt.py)."""

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
from agent.outbox import Outbox
from agent.uplink.http import HttpUplink
from exposure import Reading
from exposure.wire import AlarmEvent
from tests.server.alerts.alert_kit import running_server

REPO = Path(__file__).resolve().parents[3]
T0 = 1_764_410_400_000


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


class FixedClock:
    def now_ms(self) -> int:
        return T0

    async def sleep(self, seconds: float) -> None:
        return None


H2S = AlarmRule(id="h2s-local", quantity="h2s", unit="ppm", levels=[
    {"severity": "warning", "above": 10.0, "clear_at": 8.0}, {"severity": "critical", "above": 20.0}])


def make(tmp_path: Path, rule: AlarmRule = H2S):  # type: ignore[no-untyped-def]
    rec, broken = Recorder(), Broken()
    alarms = EdgeAlarms([rule], outputs={rule.id: [broken, rec]}, store=AlarmStore(tmp_path / "alarms.db"),
                        clock=FixedClock())
    return alarms, rec


def http_uplink(tmp_path: Path, store: AlarmStore, *, url: str, token: str,
                transport: httpx.AsyncBaseTransport | None = None) -> HttpUplink:
    return HttpUplink(url=url, token=token, site="plant-a", agent="gw-1", outbox=Outbox(tmp_path / "outbox.db"),
                      clock=FixedClock(), timeout_s=2.0, alarms=store, transport=transport)


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
    assert [e.kind for e in alarms.store.pending()] == ["raised", "raised", "cleared"]


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


def test_an_event_is_stored_as_the_wire_event(tmp_path):
    """What the evaluator keeps is an `exposure.wire.AlarmEvent`: rule, sensor, level, value and reading time."""
    alarms, _ = make(tmp_path)
    alarms.observe(r(25, 3))
    [event] = alarms.store.pending()
    assert isinstance(event, AlarmEvent)
    assert (event.rule, event.kind, event.sensor, event.quantity, event.severity, event.value, event.threshold,
            event.ts) == ("h2s-local", "raised", "tank-1", "h2s", "critical", 25.0, 20.0, T0 + 3000)


async def test_the_http_uplink_delivers_events_once_the_server_answers(tmp_path):
    """While the server is unreachable events stay on disk; once it answers, the HTTP uplink posts them, deletes
    what the server acknowledges, and they become one edge alert, stored once."""
    with running_server(tmp_path, "") as server:
        alarms, _ = make(tmp_path)
        alarms.observe(r(25, 0))
        down = http_uplink(tmp_path, alarms.store, url="http://127.0.0.1:9", token=server.agent_token)
        with pytest.raises(httpx.HTTPError):
            await down.deliver_alarms_once()
        assert len(alarms.store.pending()) == 1
        up = http_uplink(tmp_path, alarms.store, url="http://testserver", token=server.agent_token,
                         transport=httpx.ASGITransport(app=server.app))
        assert await up.deliver_alarms_once() == 1
        assert alarms.store.pending() == []
        alarms.observe(r(5, 1))
        assert await up.deliver_alarms_once() == 1
        assert up.delivered_alarms == 2
        [alert] = server.alerts()
        assert alert["origin"] == "edge" and alert["rule"] == "edge.h2s-local" and alert["state"] == "resolved"
        assert alert["severity"] == "critical"


def test_the_server_acknowledges_edge_alarms_with_the_wire_key(tmp_path):
    """POST /api/v1/edge-alarms answers `acked_alarms` like the MQTT ack, and `acked` for older agents."""
    alarms, _ = make(tmp_path)
    alarms.observe(r(25, 0))
    [event] = alarms.store.pending()
    with running_server(tmp_path, "") as server:
        response = server.client.post("/api/v1/edge-alarms", json={"events": [event.to_json()]},
                                      headers={"Authorization": f"Bearer {server.agent_token}"})
    assert response.status_code == 200, response.text
    assert response.json() == {"acked_alarms": [event.id], "acked": [event.id]}


async def test_the_http_uplink_understands_an_older_server(tmp_path):
    """A server from before the wire contracts answers `{"acked": [ids]}`: the events it names are deleted."""
    alarms, _ = make(tmp_path)
    alarms.observe(r(25, 0))
    alarms.observe(r(5, 1))
    first, second = alarms.store.pending()

    def older_server(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/edge-alarms"
        return httpx.Response(200, json={"acked": [first.id]})

    uplink = http_uplink(tmp_path, alarms.store, url="http://old-server", token="hzm_a_old",
                         transport=httpx.MockTransport(older_server))
    assert await uplink.deliver_alarms_once() == 1
    assert alarms.store.pending() == [second]


async def test_an_answer_that_is_not_an_ack_deletes_nothing(tmp_path):
    """A 200 without an ack (a proxy's page, a bug) is an error and every event stays stored."""
    alarms, _ = make(tmp_path)
    alarms.observe(r(25, 0))
    uplink = http_uplink(tmp_path, alarms.store, url="http://proxy", token="hzm_a_x",
                         transport=httpx.MockTransport(lambda request: httpx.Response(200, text="<html>hi</html>")))
    with pytest.raises(ValueError):
        await uplink.deliver_alarms_once()
    assert len(alarms.store.pending()) == 1


def test_agent_config_takes_alarms_tables():
    """[[alarms]] tables (the plugins' samples) validate in the agent config."""
    for plugin in ("alarm_log", "modbus_relay"):
        sample = (REPO / "plugins" / plugin / "sample.toml").read_text()
        text = ('schema_version = 1\nsite = "plant-a"\nagent = "gw-1"\n'
                '[uplink]\ntype = "http"\nurl = "http://127.0.0.1:8600"\ntoken = "hzm_a_xxxxxxxx"\n\n' + sample)
        config = parse_config(text, source_types={})
        assert config.alarms[0].id == tomllib.loads(sample)["alarms"][0]["id"]
