"""The MQTT uplink reads the server's acks with `exposure.wire.decode_ack`, against a real mosquitto: batches and
alarm events are deleted only for the ids and watermark the server names (one ack may hold both), and a message
on the ack topic that is not an ack deletes nothing and stops nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiomqtt
import pytest

from agent.alarms.store import AlarmStore
from agent.config import MqttUplinkConfig
from agent.outbox import Outbox
from agent.uplink.mqtt import MqttUplink
from exposure import Reading, wire
from tests.faults.conftest import Mosquitto

T0 = 1_764_410_400_000


class Clock:
    def now_ms(self) -> int:
        return T0

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(min(seconds, 0.05))


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path)
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@contextlib.asynccontextmanager
async def running(uplink: MqttUplink) -> AsyncIterator[None]:
    task = asyncio.create_task(uplink.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll a condition of the agent's stores, with a deadline."""
    try:
        async with asyncio.timeout(20):
            while not condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def event(i: int) -> wire.AlarmEvent:
    return wire.AlarmEvent(id=f"e{i}", rule="h2s-local", kind="raised", sensor="tank-1", quantity="h2s", value=25.0,
                           unit="ppm", threshold=20.0, ts=T0 + i)


async def test_acks_delete_what_the_server_names_and_nothing_else(broker: Mosquitto, tmp_path: Path) -> None:
    """The uplink publishes two batches and two events; `{"acked_seq": 1, "acked_alarms": ["e1"]}` deletes batch 1
    and event e1 only; then garbage and a non-ack on the ack topic delete nothing; then `{"acked_seq": 2}` and
    `{"acked_alarms": ["e2"]}` empty both stores."""
    outbox, alarms = Outbox(tmp_path / "outbox.db"), AlarmStore(tmp_path / "alarms.db")
    for i in (1, 2):
        outbox.append([Reading("tank-1", "h2s", 1.0 * i, "ppm", T0 + i, None, ())], now_ms=T0)
        alarms.add(event(i))
    config = MqttUplinkConfig(url=broker.url, token="hzm_a_test-token", ack_timeout_s=60.0, status_interval_s=60.0)
    uplink = MqttUplink(config, site="plant-a", agent="gw-1", outbox=outbox, clock=Clock(),
                        status=lambda: wire.StatusReport(state="online"), alarms=alarms)
    ack_topic = wire.topic("plant-a", "gw-1", "ack")
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier="test-server") as server:
        await server.subscribe(wire.topic_filter("batch"), qos=1)
        await server.subscribe(wire.topic_filter("alarm"), qos=1)
        async with running(uplink):
            seen: set[str] = set()
            async with asyncio.timeout(20):
                async for message in server.messages:
                    seen.add(wire.parse_topic(message.topic.value)[2])  # type: ignore[index]
                    if seen == {"batch", "alarm"}:
                        break
            await server.publish(ack_topic, wire.Ack(acked_seq=1, acked_alarms=("e1",)).encode(), qos=1)
            await until(lambda: [b.seq for b in outbox.pending()] == [2] and [e.id for e in alarms.pending()] == ["e2"],
                        "batch 1 and e1 to be deleted")
            await server.publish(ack_topic, b"not json", qos=1)
            await server.publish(ack_topic, b'{"acked": "everything"}', qos=1)
            await server.publish(ack_topic, wire.Ack(acked_seq=2).encode(), qos=1)
            await until(lambda: outbox.pending() == [], "batch 2 to be deleted")
            assert [e.id for e in alarms.pending()] == ["e2"]
            await server.publish(ack_topic, wire.Ack(acked_alarms=("e2",)).encode(), qos=1)
            await until(lambda: alarms.pending() == [], "e2 to be deleted")
    outbox.close()
    alarms.close()
