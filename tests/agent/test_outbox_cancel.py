"""A cancellation that arrives as the outbox changes is never lost (Python 3.11's asyncio.wait_for loses it when
its inner wait completes at the same time; a flusher looping on a full outbox then never stopped and the whole
suite hung at the end)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.backoff import reachable
from agent.outbox import Outbox


async def test_a_cancel_as_the_outbox_changes_stops_a_waiting_loop(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    try:
        async def wait_forever() -> None:
            while True:
                await outbox.wait_changed(5.0)

        for _ in range(20):
            task = asyncio.create_task(wait_forever())
            await asyncio.sleep(0.01)
            outbox.notify_changed()  # the event is set ...
            task.cancel()  # ... and the cancel arrives in the same turn of the loop
            done, _ = await asyncio.wait({task}, timeout=2.0)
            assert task in done and task.cancelled()
    finally:
        outbox.close()


async def test_a_cancel_during_a_reachability_probe_is_never_lost() -> None:
    """The probe of an unreachable peer inside a retry loop: cancelled, the loop ends."""
    async def retry_forever() -> None:
        while True:
            await reachable("127.0.0.1", 9, timeout_s=0.5)

    task = asyncio.create_task(retry_forever())
    await asyncio.sleep(0.05)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2.0)
    assert task in done and task.cancelled()
