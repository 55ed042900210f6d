"""End to end on loopback: a real server process, a real agent with simulated sensors. Every reading the
sensors produce is stored exactly once, even when the server is killed with SIGKILL mid-stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import parse_config
from agent.plugin_manager import build_plugin_manager
from agent.runtime import Agent
from exposure import Reading
from tests.kit.server import ServerProcess
from tests.kit.waiting import wait_for_async

pytestmark = pytest.mark.slow

SENSORS = {"press-2-noise": "noise", "grinding-dust": "dust", "tank-3-gas": "gas"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    data = tmp_path / "server"
    data.mkdir()
    proc = ServerProcess(data)
    proc.start()
    yield proc
    proc.stop()


def _agent(server: ServerProcess, tmp_path: Path, *, samples: int) -> tuple[Agent, list[Reading]]:
    """An in-process agent whose simulated sources stop after `samples` polls; returns it and the list
    every produced reading is recorded into (on its way from the sources to the batcher)."""
    token = server.agent_token("s", "a")
    sources = "".join(
        f'\n[[sources]]\ntype = "simulator"\nname = "{name}"\nkind = "{kind}"\n'
        f'scenario = "gas_leak"\nleak_start_s = 1.0\ninterval_s = 0.05\nsamples = {samples}\n'
        for name, kind in SENSORS.items()
    )
    text = (f'schema_version = 1\nsite = "s"\nagent = "a"\ndata_dir = "{tmp_path / "agent"}"\n\n'
            f'[uplink]\ntype = "http"\nurl = "{server.url}"\ntoken = "{token}"\ntimeout_s = 5\n\n'
            f'[outbox]\nflush_interval_s = 0.2\nmax_batch_readings = 50\n{sources}')
    (tmp_path / "agent.toml").write_text(text)
    host = build_plugin_manager(load_entry_points=False)
    config = parse_config(text, source_types=host.source_types(), filename="agent.toml")
    agent = Agent(config, host=host, config_path=tmp_path / "agent.toml")

    produced: list[Reading] = []
    forward = agent.supervisor.emit

    async def record(reading: Reading) -> None:
        produced.append(reading)
        await forward(reading)

    agent.supervisor.emit = record
    return agent, produced


def _sources_finished(agent: Agent) -> bool:
    return all(h.state == "finished" for h in agent.supervisor.health.values())


async def _stop(agent: Agent, task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    agent.close()


def _stored(server: ServerProcess, token: str) -> list[tuple[str, str, int]]:
    out = []
    for sensor in SENSORS:
        rows = server.readings(token, sensor)
        out.extend((sensor, r["quantity"], r["ts"]) for r in rows)
    return out


def _keys(readings: list[Reading]) -> list[tuple[str, str, int]]:
    return [(r.sensor, r.quantity, r.ts) for r in readings]


async def test_every_produced_reading_is_stored_exactly_once(server, tmp_path):
    """Three simulated sensors, 40 samples each: the server holds exactly the readings they produced."""
    agent, produced = _agent(server, tmp_path, samples=40)
    admin = await asyncio.to_thread(server.admin_token)
    task = asyncio.create_task(agent.run())
    try:
        await wait_for_async(lambda: _sources_finished(agent), timeout=30, what="the simulated sources to finish")
        assert await agent.drain(timeout_s=30), "the outbox did not empty"
    finally:
        await _stop(agent, task)

    assert len(produced) == 40 * (1 + 2 + 3)  # noise: laeq; dust: pm4, pm10; gas: co, h2s, o2
    assert len(set(_keys(produced))) == len(produced)  # (sensor, quantity, ts) identifies a reading
    stored = await asyncio.to_thread(_stored, server, admin)
    assert len(stored) == len(produced)
    assert set(stored) == set(_keys(produced))
    status = await asyncio.to_thread(server.get, "/status", admin)
    assert status["readings_total"] == len(produced)
    sensors = await asyncio.to_thread(server.get, "/sensors", admin)
    assert sorted(s["name"] for s in sensors) == sorted(SENSORS)


async def test_agent_catches_up_after_the_server_is_killed_mid_stream(server, tmp_path):
    """SIGKILL the server while batches flow, restart it on the same port and data: in the end the server
    holds every produced reading once, no duplicates, and the agent's outbox is empty."""
    agent, produced = _agent(server, tmp_path, samples=160)
    admin = await asyncio.to_thread(server.admin_token)
    task = asyncio.create_task(agent.run())
    try:
        await wait_for_async(lambda: agent.outbox.stats().acked_seq >= 3, timeout=30, what="the first acks")
        await asyncio.to_thread(server.kill)
        killed_at_read = agent.readings_read
        await wait_for_async(lambda: agent.readings_read >= killed_at_read + 30 and agent.outbox.stats().batches > 0,
                     timeout=30, what="readings piling up in the outbox while the server is down")
        assert not _sources_finished(agent), "the sources finished before the restart: raise `samples`"
        await asyncio.to_thread(server.start)
        await wait_for_async(lambda: _sources_finished(agent), timeout=60, what="the simulated sources to finish")
        assert await agent.drain(timeout_s=60), "the outbox did not empty after the restart"
        stats = agent.outbox.stats()
    finally:
        await _stop(agent, task)

    assert (stats.batches, stats.readings) == (0, 0)
    assert len(set(_keys(produced))) == len(produced) == 160 * 6
    stored = await asyncio.to_thread(_stored, server, admin)
    assert len(stored) == len(set(stored)), "a reading was stored twice"
    assert set(stored) == set(_keys(produced))
    status = await asyncio.to_thread(server.get, "/status", admin)
    assert status["readings_total"] == len(produced)
