"""A full disk never crashes the agent: the outbox says `OutboxDiskFull`, acknowledged batches can still be
deleted (the reserve), readings wait in memory and, beyond its bound, are dropped as gaps with a reason that the
next batch written carries to the server. On a real, small filesystem (tmpfs)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path

import pytest

from agent.config import AgentConfig
from agent.outbox import Outbox, OutboxDiskFull
from agent.plugin_manager import build_plugin_manager
from agent.runtime import Agent
from exposure import Reading
from tests.kit.ports import free_port
from tests.kit.small_disk import fill, small_disk
from tests.kit.waiting import wait_for_async

T0 = 1_764_410_401_000


def _readings(n: int, start: int = 0) -> list[Reading]:
    return [Reading("gas-1", "co", float(i % 50), "ppm", T0 + start + i) for i in range(n)]


def test_full_disk_refuses_a_batch_but_acks_still_delete_and_free_room(tmp_path: Path) -> None:
    """With the disk filled, append raises OutboxDiskFull and keeps nothing partial; an ack still deletes
    (giving up the reserve if it must); after that the outbox writes again and takes its reserve back."""
    with small_disk(tmp_path / "disk", size_kib=2048) as disk:
        outbox = Outbox(disk / "outbox.db", reserve_bytes=256 * 1024)
        assert outbox.reserve_path.stat().st_size == 256 * 1024
        seqs = [outbox.append(_readings(200, 1000 * k), now_ms=T0) for k in range(5)]
        fill(disk / "filler")
        with pytest.raises(OutboxDiskFull):
            for k in range(10_000):  # SQLite fills its free pages first
                outbox.append(_readings(200, 10_000_000 + 1000 * k), now_ms=T0)
        before = outbox.stats()
        assert before.last_seq == len(outbox.journal())  # the refused batch left no seq and no row behind
        assert outbox.ack(before.last_seq) > 0
        assert outbox.stats().batches == 0
        outbox.append(_readings(10), now_ms=T0)  # the deleted batches' pages take new ones
        (disk / "filler").unlink()
        outbox.ack(outbox.stats().last_seq)
        assert outbox.reserve_path.exists(), "the reserve is taken back once there is room"
        assert seqs == [1, 2, 3, 4, 5]
        outbox.close()


async def test_agent_on_a_full_disk_keeps_alarms_drops_as_gaps_and_drains(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The disk fills while the agent runs: it keeps reading (local alarms go on), reports disk_full, drives
    `agent.disk-full`, holds 100 readings in memory and records the rest as a disk_full gap; once there is room
    the first batch written carries that gap, and every reading is either in the outbox or in the gap."""
    caplog.set_level(logging.WARNING)
    with small_disk(tmp_path / "disk", size_kib=8192) as disk:
        host = build_plugin_manager(load_entry_points=False)
        config = AgentConfig.model_validate({
            "schema_version": 1, "site": "s", "agent": "full-disk", "data_dir": str(disk),
            "uplink": {"type": "http", "url": f"http://127.0.0.1:{free_port()}", "token": "hzm_a_unreachable"},
            "outbox": {"flush_interval_s": 0.05, "max_batch_readings": 50, "memory_readings": 100},
            "alarms": [{"id": "co-local", "quantity": "co", "unit": "ppm",
                        "levels": [{"severity": "warning", "above": 1e6}], "outputs": [{"type": "log"}]}],
        })
        source = host.source_types()["simulator"].config_model.model_validate(
            {"type": "simulator", "name": "gas-1", "kind": "gas", "interval_s": 0.002, "samples": 3000})
        agent = Agent(config.model_copy(update={"sources": [source]}), host=host)
        task = asyncio.create_task(agent.run())
        try:
            await wait_for_async(lambda: agent.batches_written >= 3, timeout=10, what="batches on disk")
            await asyncio.to_thread(fill, disk / "filler")
            await wait_for_async(lambda: agent.disk_full, timeout=30, what="the agent to notice the full disk")
            await wait_for_async(lambda: "ALARM CRITICAL agent.disk-full" in caplog.text, timeout=10,
                                 what="the disk-full alarm output")
            assert agent.status_report().disk_full is True
            await wait_for_async(lambda: agent.drops.total > 500, timeout=30, what="readings to be dropped")
            assert not task.done(), "the agent is still running"
            assert len(agent._pending) <= 100 + 50  # bounded: the memory bound and the batch that failed
            (disk / "filler").unlink()
            await wait_for_async(lambda: not agent.disk_full, timeout=30, what="the outbox to write again")
            await wait_for_async(lambda: agent.supervisor.health["gas-1"].state == "finished", timeout=60,
                                 what="the simulator to finish")
            await agent.flush()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        batches = agent.outbox.pending(limit=100_000)
        kept = sum(b.n_readings for b in batches)
        gaps = [g for b in batches if b.gaps_json for g in json.loads(b.gaps_json)]
        dropped = sum(g["dropped"] for g in gaps)
        assert {g["reason"] for g in gaps} == {"disk_full"}
        assert {g["sensor"] for g in gaps} == {"gas-1"}
        assert dropped == agent.drops.total > 0
        assert kept + dropped == 3000 * 3  # co, h2s, o2 per sample: nothing lost without a record
        assert agent.status_report().disk_full is False
        assert "ALARM CLEARED agent.disk-full" in caplog.text or "agent.disk-full" in caplog.text
        agent.close()
