"""The bounded outbox: when it is full the agent stops reading, raises a local alarm and says so in its status;
it never drops the oldest readings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import pytest

from agent.config import AgentConfig
from agent.plugin_manager import build_plugin_manager
from agent.runtime import Agent
from tests.kit.ports import free_port


def _agent(tmp_path: Path) -> Agent:
    host = build_plugin_manager(load_entry_points=False)
    # nothing listens on this port: the uplink cannot deliver, so the outbox fills
    config = AgentConfig.model_validate({
        "schema_version": 1, "site": "s", "agent": "full", "data_dir": str(tmp_path),
        "uplink": {"type": "http", "url": f"http://127.0.0.1:{free_port()}", "token": "hzm_a_unreachable"},
        "outbox": {"max_readings": 1000, "max_batch_readings": 100, "flush_interval_s": 0.05},
        "alarms": [{"id": "any", "quantity": "co", "unit": "ppm", "levels": [{"severity": "warning", "above": 1e9}],
                    "outputs": [{"type": "log"}]}],
    })
    source = host.source_types()["simulator"].config_model.model_validate(
        {"type": "simulator", "name": "fast-gas", "kind": "gas", "interval_s": 0.001})
    return Agent(config.model_copy(update={"sources": [source]}), host=host)


async def test_a_full_outbox_pauses_reading_raises_a_local_alarm_and_reports_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """At 1,000 readings the outbox is full: reading stops (bounded memory), the alarm outputs are driven with
    `agent.outbox-full`, the status says `outbox_full`, and the first batches written are still there."""
    caplog.set_level(logging.WARNING)
    agent = _agent(tmp_path)
    task = asyncio.create_task(agent.run())
    try:
        async with asyncio.timeout(30):
            while not agent.outbox_full:
                await asyncio.sleep(0.05)
            while "ALARM CRITICAL agent.outbox-full" not in caplog.text:
                await asyncio.sleep(0.05)
        read_when_full = agent.readings_read
        await asyncio.sleep(0.5)  # long enough for the simulator to read ~500 more if it were not paused
        assert agent.readings_read - read_when_full <= 100  # the simulator stops once a batch is waiting
        assert agent.readings_read <= 1000 + 100 + 3  # bounded memory: one batch waiting, one reading held
        report = agent.status_report()
        assert report.outbox_full is True
        assert report.outbox_readings is not None
        assert 1000 - 100 < report.outbox_readings <= 1000  # the next batch (<= 100 readings) did not fit
        assert [seq for seq, *_ in agent.outbox.journal()][:1] == [1]  # the oldest batch was never dropped
        assert agent.outbox.pending(limit=1)[0].seq == 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            async with asyncio.timeout(10):  # stopping never waits for room the server cannot make
                await task
        agent.close()


async def test_stopping_with_a_full_outbox_writes_what_was_read_past_the_bound(tmp_path: Path) -> None:
    """Cancelling an agent whose outbox is full returns at once, and the readings it held in memory are written
    as one last batch over the bound: nothing read is lost at shutdown."""
    agent = _agent(tmp_path)
    task = asyncio.create_task(agent.run())
    async with asyncio.timeout(30):
        while not agent.outbox_full:
            await asyncio.sleep(0.05)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        async with asyncio.timeout(10):
            await task
    stats = agent.outbox.stats()
    agent.close()
    assert stats.readings == agent.readings_read  # every reading read is on disk
    assert stats.readings > 1000  # the last batch went past the bound


async def test_an_uplink_that_acknowledges_nothing_drives_agent_uplink_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens at the uplink's URL: once the oldest waiting batch is `lost_alarm_after_s` old, every alarm
    output is driven with `agent.uplink-lost` (critical), once; it clears when the outbox empties."""
    caplog.set_level(logging.WARNING)
    agent = _agent(tmp_path)
    agent.config = agent.config.model_copy(update={
        "uplink": agent.config.uplink.model_copy(update={"lost_alarm_after_s": 1.0})})
    task = asyncio.create_task(agent.run())
    try:
        async with asyncio.timeout(30):
            while "ALARM CRITICAL agent.uplink-lost" not in caplog.text:
                await asyncio.sleep(0.05)
        assert agent.uplink_lost
        oldest = agent.outbox.stats().oldest_created_ms
        assert oldest is not None and agent.clock.now_ms() - oldest >= 1000
        assert caplog.text.count("uplink lost:") == 1  # logged once, not every second
        await asyncio.sleep(1.5)
        assert caplog.text.count("ALARM CRITICAL agent.uplink-lost") == 1
        agent.outbox.ack(agent.outbox.stats().last_seq)  # as if the server had acknowledged everything
        assert agent.check_uplink(agent.outbox.stats().oldest_created_ms) is False
        assert not agent.uplink_lost
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            async with asyncio.timeout(10):
                await task
        agent.close()
