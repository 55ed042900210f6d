"""MQTT ack latency: how long an isolated batch (one reading, nothing else in flight) waits for its ack from the
server, against an echo of the same message through the same broker measured in the same run.

    python -m benchmarks.mqtt_ack [--batches 60] [--runs 3]

A Mosquitto of its own on a free loopback port, `hazmon server run` as a real process with MQTT ingest (SQLite in a
temporary directory). The client publishes one batch at a time on the agent's batch topic (QoS 1) and waits for
the ack on the ack topic; the baseline is an echo client that answers the same batches on topics of its own with
an ack at once (the same two broker hops, no database). Batches to the server and to the echo are interleaved. Each run
prints min / median / p95 / max in ms; Nagle's algorithm on either socket shows as ~40 ms steps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import aiomqtt

from exposure import Batch, Reading
from exposure.batch import encode_batch
from exposure.wire import MQTT_SOCKET_OPTIONS, Ack, Leaf, topic
from tests.kit.mosquitto import Mosquitto, signed
from tests.kit.server import ServerProcess

SITE = "bench"


def _batch(agent: str, seq: int) -> bytes:
    now = time.time_ns() // 1_000_000
    return encode_batch(Batch(SITE, agent, seq, now, (Reading("mic-1", "laeq", 82.5, "dB(A)", now, 1.0, ()),)))


async def _echo(host: str, port: int, ready: asyncio.Event) -> None:
    """Answer every batch of agent `echo` with its ack, as the server would, without storing anything."""
    async with aiomqtt.Client(host, port, identifier="bench-echo", socket_options=MQTT_SOCKET_OPTIONS) as client:
        await client.subscribe(_topic("echo", "batch"), qos=1)
        ready.set()
        async for message in client.messages:
            seq = json.loads(bytes(message.payload))["seq"]  # type: ignore[arg-type]
            await client.publish(_topic("echo", "ack"), Ack(acked_seq=seq).encode(), qos=1)


def _topic(agent: str, leaf: Leaf) -> str:
    """The echo's topics lie outside hazmon's tree, so the server never sees them."""
    return topic(SITE, agent, leaf) if agent != "echo" else f"bench/echo/{leaf}"


async def _measure(host: str, port: int, token: str, batches: int, first_seq: int) -> dict[str, list[float]]:
    ready = asyncio.Event()
    echo = asyncio.create_task(_echo(host, port, ready))
    await ready.wait()
    times: dict[str, list[float]] = {"gw-1": [], "echo": []}
    seq = {"gw-1": first_seq - 1, "echo": first_seq - 1}
    async with aiomqtt.Client(host, port, identifier="bench-agent", socket_options=MQTT_SOCKET_OPTIONS) as client:
        for agent in times:
            await client.subscribe(_topic(agent, "ack"), qos=1)
        messages = client.messages
        for k in range(batches * 2):
            agent = ("gw-1", "echo")[k % 2]
            seq[agent] += 1
            body = _batch(agent, seq[agent])
            t0 = time.perf_counter()
            await client.publish(_topic(agent, "batch"), body, qos=1, properties=signed(token))
            async with asyncio.timeout(10):
                while True:
                    message = await anext(messages)
                    if message.topic.value == _topic(agent, "ack"):
                        break
            times[agent].append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0.05)  # isolated: nothing else in flight
    echo.cancel()
    return times


def _line(label: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return (f"{label:34}: min {ms[0]:6.2f}  median {statistics.median(ms):6.2f}  p95 {p95:6.2f}  "
            f"max {ms[-1]:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--broker-nodelay", action="store_true", help="set_tcp_nodelay in mosquitto.conf")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hazmon-mqtt-ack-") as tmp:
        broker = Mosquitto(Path(tmp) / "broker", extra_conf="set_tcp_nodelay true\n" if args.broker_nodelay else "")
        broker.start()
        server = ServerProcess(Path(tmp) / "server", mqtt_url=broker.url)
        try:
            server.start()
            token = server.agent_token(SITE, "gw-1")
            medians = []
            for run in range(1, args.runs + 1):
                first = (run - 1) * args.batches + 1
                times = asyncio.run(_measure("127.0.0.1", broker.port, token, args.batches, first))
                print(f"run {run}: {args.batches} isolated batches each, interleaved")
                print(_line("  baseline  echo through the broker", times["echo"]))
                print(_line("  hazmon    server MQTT ingest ack", times["gw-1"]))
                medians.append(statistics.median(times["gw-1"]))
            print(f"server ack median over runs: min {min(medians):.2f} / median {statistics.median(medians):.2f}"
                  f" / max {max(medians):.2f} ms")
        except BaseException:
            print((Path(tmp) / "server" / "server.log").read_text()[-3000:])
            raise
        finally:
            server.stop()
            broker.stop()


if __name__ == "__main__":
    main()
