"""The durable outbox: numbered batches that survive restarts and kill -9, deleted only by the server's ack."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent.outbox import Outbox, OutboxFull
from exposure import Reading

T0 = 1_764_410_401_000
REPO = Path(__file__).resolve().parents[2]


def _readings(n: int, *, sensor: str = "tank-3-gas", start: int = 0) -> list[Reading]:
    return [Reading(sensor, "h2s", float(start + k), "ppm", T0 + start + k, None, ()) for k in range(n)]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.db"


def test_seq_increases_by_one_per_batch(path):
    """The first batch is 1, then 2, 3 ..."""
    box = Outbox(path)
    assert [box.append(_readings(2, start=10 * i), now_ms=T0) for i in range(4)] == [1, 2, 3, 4]
    box.close()


def test_seq_survives_closing_and_reopening(path):
    """A reopened outbox continues after the last seq it wrote."""
    box = Outbox(path)
    for i in range(3):
        box.append(_readings(1, start=i), now_ms=T0)
    box.close()
    box = Outbox(path)
    assert box.append(_readings(1, start=9), now_ms=T0) == 4
    assert [b.seq for b in box.pending()] == [1, 2, 3, 4]
    box.close()


def test_ack_deletes_exactly_the_batches_up_to_n(path):
    """ack(n) deletes every batch <= n, keeps the rest, and returns how many readings it freed."""
    box = Outbox(path)
    for i, size in enumerate([1, 2, 3, 4, 5]):
        box.append(_readings(size, start=10 * i), now_ms=T0)
    assert box.ack(3) == 1 + 2 + 3
    assert [b.seq for b in box.pending()] == [4, 5]
    stats = box.stats()
    assert (stats.batches, stats.readings, stats.last_seq, stats.acked_seq) == (2, 9, 5, 3)
    assert box.ack(3) == 0  # a repeated ack frees nothing
    box.close()


def test_seq_keeps_increasing_after_every_batch_was_acked_and_reopened(path):
    """An empty outbox still remembers its last seq across a restart: seqs are never reused."""
    box = Outbox(path)
    for i in range(3):
        box.append(_readings(1, start=i), now_ms=T0)
    box.ack(3)
    assert box.pending() == []
    box.close()
    box = Outbox(path)
    assert box.stats().acked_seq == 3
    assert box.append(_readings(1), now_ms=T0) == 4
    box.close()


def test_an_older_ack_does_not_move_the_acked_seq_back(path):
    """Acks may arrive out of order; acked_seq only grows."""
    box = Outbox(path)
    for i in range(4):
        box.append(_readings(1, start=i), now_ms=T0)
    box.ack(3)
    box.ack(1)
    assert box.stats().acked_seq == 3
    box.close()


def test_pending_is_oldest_first_with_limit_and_after_seq(path):
    """pending() gives the oldest batches first, at most `limit`, after `after_seq`, readings intact."""
    box = Outbox(path)
    written = {box.append(_readings(k + 1, start=100 * k), now_ms=T0 + k): _readings(k + 1, start=100 * k)
               for k in range(6)}
    assert [b.seq for b in box.pending()] == [1, 2, 3, 4, 5, 6]
    assert [b.seq for b in box.pending(limit=2)] == [1, 2]
    assert [b.seq for b in box.pending(limit=3, after_seq=2)] == [3, 4, 5]
    for b in box.pending():
        assert b.n_readings == len(written[b.seq])
        assert b.created_ms == T0 + b.seq - 1
        assert json.loads(b.readings_json) == [r.to_dict() for r in written[b.seq]]
    box.close()


def test_append_past_the_bound_raises_outbox_full_and_writes_nothing(path):
    """Past max_readings, append refuses the whole batch; an ack makes room again."""
    box = Outbox(path, max_readings=5)
    assert box.append(_readings(3), now_ms=T0) == 1
    assert not box.has_room(3)
    with pytest.raises(OutboxFull):
        box.append(_readings(3, start=3), now_ms=T0)
    assert box.stats().batches == 1 and box.stats().readings == 3
    assert box.append(_readings(2, start=3), now_ms=T0) == 2  # exactly at the bound is allowed
    box.ack(1)
    assert box.append(_readings(3, start=5), now_ms=T0) == 3
    box.close()


def test_bound_counts_readings_already_on_disk_after_reopen(path):
    """The bound holds across restarts: a reopened outbox counts what it already holds."""
    box = Outbox(path, max_readings=4)
    box.append(_readings(3), now_ms=T0)
    box.close()
    box = Outbox(path, max_readings=4)
    with pytest.raises(OutboxFull):
        box.append(_readings(2, start=3), now_ms=T0)
    box.close()


def test_empty_batch_is_not_written(path):
    """An empty batch would burn a seq for nothing: it is refused."""
    box = Outbox(path)
    with pytest.raises(ValueError):
        box.append([], now_ms=T0)
    assert box.stats().last_seq == 0
    box.close()


_KILLED_WRITER = textwrap.dedent("""\
    import os, signal
    from pathlib import Path
    from agent.outbox import Outbox
    from exposure import Reading

    box = Outbox(Path({path!r}))
    for k in range(3):
        box.append([Reading("tank-3-gas", "h2s", 10.0 + k, "ppm", {t0} + k, None, ())], now_ms={t0})
    os.kill(os.getpid(), signal.SIGKILL)  # the moment append returned: no close, no exit handlers
""")


def test_batch_written_before_kill_9_is_there_after_reopen(path):
    """A batch whose append() returned survives the writer being SIGKILLed right after (fsync per batch)."""
    script = _KILLED_WRITER.format(path=str(path), t0=T0)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    box = Outbox(path)
    pending = box.pending()
    assert [b.seq for b in pending] == [1, 2, 3]
    assert [json.loads(b.readings_json)[0]["value"] for b in pending] == [10.0, 11.0, 12.0]
    assert box.append(_readings(1), now_ms=T0) == 4
    box.close()


async def test_async_append_wakes_a_waiting_uplink(path):
    """append_async signals `wait_changed`, so an uplink waiting for work wakes without polling."""
    box = Outbox(path)
    waiter = asyncio.create_task(box.wait_changed(30.0))
    await asyncio.sleep(0)
    seq = await box.append_async(_readings(1), now_ms=T0)
    await asyncio.wait_for(waiter, 5.0)
    assert seq == 1
    box.close()


def test_held_readings_written_before_are_left_out(tmp_path):
    """A broker's redelivery of a message already written (a crash before its acknowledgement) adds nothing: the
    held reading's key is known, so the batch holds only what is new, and a batch of nothing new is not written."""
    from exposure import Reading

    outbox = Outbox(tmp_path / "outbox.db")
    first = [Reading("site-01", "co", 1.0, "ppm", 1_764_410_401_000 + i) for i in range(3)]
    assert outbox.append([], now_ms=0, held=first) == 1
    again = outbox.append([], now_ms=0, held=[*first, Reading("site-01", "co", 2.0, "ppm", 1_764_410_402_000)])
    assert again == 2
    assert [b.n_readings for b in outbox.pending()] == [3, 1]
    assert outbox.append([], now_ms=0, held=first) is None
    assert outbox.stats().last_seq == 2
    outbox.close()
