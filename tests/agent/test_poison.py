"""Poison never spreads: a value that is not finite, or outside the physical range of its unit, is a rejected
frame at the source that carried it, never a reading, and never stops the agent, its other sources or its
local alarms."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from agent.config import AgentConfig
from agent.plugin_manager import build_plugin_manager
from agent.runtime import Agent
from agent.sources import Source, SourceConfig
from agent.supervisor import Supervisor
from exposure import Reading
from exposure.quantities import implausible
from tests.kit.clock import Clock
from tests.kit.mosquitto import Mosquitto
from tests.kit.ports import free_port
from tests.kit.waiting import wait_for_async
from tests.plugins.plugin_testkit import FakeDevice

T0 = 1_764_410_401_000


@pytest.mark.parametrize(
    ("value", "unit", "reason"),
    [
        (float("inf"), "ppm", "not_finite"),
        (float("nan"), "dB(A)", "not_finite"),
        (5e9, "ppm", "out_of_physical_range"),  # more than the pure gas
        (-5_000.0, "ppm", "out_of_physical_range"),
        (300.0, "dB(A)", "out_of_physical_range"),
        (150.0, "%vol", "out_of_physical_range"),
        (-300.0, "degC", "out_of_physical_range"),  # below absolute zero
        (-0.3, "ppm", None),  # an electrochemical cell's zero drift is a reading of clean air
        (0.0, "mg/m3", None),
        (194.0, "dB(C)", None),
        (2_500.0, "%LEL", None),  # pure hydrogen
    ],
)
def test_a_value_outside_its_physical_range_is_not_a_measurement(value, unit, reason):
    """Infinity, NaN and values no instrument can measure are named; zero drift, a real 0 and extremes are kept."""
    assert implausible(value, unit) == reason


class Poisoned(Source):
    """Yields an infinite value, a value beyond the pure gas, then a good one, three times over."""

    type_name = "poisoned"

    async def readings(self) -> AsyncIterator[Reading]:
        for k in range(3):
            yield Reading(self.name, "h2s", float("inf"), "ppm", T0 + k)
            yield Reading(self.name, "h2s", 1e30, "ppm", T0 + k)
            yield Reading(self.name, "h2s", 4.0 + k, "ppm", T0 + k)


async def test_supervisor_rejects_poison_counts_it_and_logs_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    """Six poisoned values become no readings, are counted by reason on the source and logged once (the rest of
    the minute is summed into the next line); the three good ones are emitted."""
    caplog.set_level(logging.WARNING, logger="agent.supervisor")
    emitted: list[Reading] = []

    async def emit(reading: Reading) -> None:
        emitted.append(reading)

    source = Poisoned(SourceConfig(type="poisoned", name="tank-1"), clock=Clock(T0))
    supervisor = Supervisor([source], emit=emit, clock=Clock(T0))
    await supervisor.run()
    assert [r.value for r in emitted] == [4.0, 5.0, 6.0]
    assert supervisor.health["tank-1"].rejected == {"not_finite": 3, "out_of_physical_range": 3}
    assert supervisor.health["tank-1"].state == "finished"
    assert len([r for r in caplog.records if "rejected" in r.getMessage()]) == 1


@pytest.fixture
def broker(tmp_path: Path):  # type: ignore[no-untyped-def]
    b = Mosquitto(tmp_path / "broker")
    b.start()
    yield b
    b.stop()


async def test_a_poisoned_serial_line_and_mqtt_value_leave_the_agent_and_its_alarms_running(
    tmp_path: Path, broker: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """`level=1e999` on a serial_lines source and a huge value on mqtt_input are counted as rejected frames; the
    agent, its simulator, the next good values and the local H2S alarm go on."""
    caplog.set_level(logging.WARNING)
    device = FakeDevice(tmp_path / "ttyUSB0")
    host = build_plugin_manager(load_entry_points=False)
    config = AgentConfig.model_validate({
        "schema_version": 1, "site": "s", "agent": "poison", "data_dir": str(tmp_path),
        "uplink": {"type": "http", "url": f"http://127.0.0.1:{free_port()}", "token": "hzm_a_unreachable"},
        "outbox": {"flush_interval_s": 0.05},
        "alarms": [{"id": "h2s-local", "quantity": "h2s", "unit": "ppm",
                    "levels": [{"severity": "critical", "above": 20.0}], "outputs": [{"type": "log"}]}],
    })
    types = host.source_types()
    sources = [
        types["serial_lines"].config_model.model_validate({
            "type": "serial_lines", "name": "tank-h2s", "port": device.path, "format": "kv",
            "fields": {"level": {"quantity": "h2s", "unit": "ppm"}}}),
        types["mqtt_input"].config_model.model_validate({
            "type": "mqtt_input", "name": "terrace", "url": f"mqtt://127.0.0.1:{broker.port}",
            "topics": ["site/terrace"], "mappings": [{"path": "co", "quantity": "co", "unit": "ppm",
                                                      "scale": 1000.0}]}),
        types["simulator"].config_model.model_validate(
            {"type": "simulator", "name": "sim-gas", "kind": "gas", "interval_s": 0.01}),
    ]
    agent = Agent(config.model_copy(update={"sources": sources}), host=host)
    serial, mqtt = agent.sources[0], agent.sources[1]
    task = asyncio.create_task(agent.run())
    try:
        await wait_for_async(lambda: getattr(mqtt, "connected", False), timeout=10, what="the mqtt_input subscription")
        device.send(b"level=1e999\n")
        async with aiomqtt.Client("127.0.0.1", broker.port) as client:
            await client.publish("site/terrace", b'{"co": 1e306}', qos=1)  # x 1000 overflows to infinity
            await client.publish("site/terrace", b'{"co": 5e6}', qos=1)  # 5e9 ppm: more than pure gas
            await client.publish("site/terrace", b'{"co": 0.012}', qos=1)
        device.send(b"level=25.0\n")
        await wait_for_async(lambda: "ALARM CRITICAL h2s-local" in caplog.text, timeout=10, what="the local alarm")
        await wait_for_async(lambda: serial.counters.frames_ok >= 1 and mqtt.counters.frames_ok >= 1,  # type: ignore[attr-defined]
                             timeout=10, what="the good values")
        read_before = agent.supervisor.health["sim-gas"].readings
        await wait_for_async(lambda: agent.supervisor.health["sim-gas"].readings > read_before + 10, timeout=10,
                             what="the simulator to go on")
        assert serial.counters.frames_bad == {"not_finite": 1}  # type: ignore[attr-defined]
        assert mqtt.counters.frames_bad == {"not_finite": 1, "out_of_physical_range": 1}  # type: ignore[attr-defined]
        assert not task.done()
        await agent.flush()
        stored = [r for b in agent.outbox.pending(limit=10_000) for r in _decode(b.readings_json)]
        # two sources, no order between them (the broker without Nagle's delay may deliver first)
        assert sorted((r["sensor"], r["value"]) for r in stored if r["sensor"] in ("tank-h2s", "terrace")) == [
            ("tank-h2s", 25.0), ("terrace", 12.0)]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        agent.close()
        device.close()


def _decode(readings_json: str) -> list[dict]:
    import json

    return json.loads(readings_json)  # type: ignore[no-any-return]
