"""Fault injection: real Mosquitto, InfluxDB, server and agent processes; faults mid-stream.

For each fault: every reading the simulator produced is stored, none twice, and the gap ledger is empty.
The agents here wait at most 2 s between reconnects (`retry_max_s`; 30 s by default) and resend an unacked batch
after 5 s (30 s by default), so a 15 s broker outage takes the agent through the states a 60 s outage does at the
default timings: several ack timeouts, the reconnect backoff at its cap, the broker's queue kept across its restart.
HAZMON_FAULT_OUTAGE_S=60 runs the delivery issue's full minute.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from pathlib import Path

import aiomqtt
import pytest

from exposure import Batch, Reading
from exposure.batch import encode_batch
from tests.faults.conftest import AgentProc, Influxd, Mosquitto, Proc, Server, SitePublisher, dump_logs
from tests.kit.mosquitto import signed
from tests.kit.small_disk import fill, small_disk
from tests.kit.waiting import wait_for

pytestmark = pytest.mark.slow

OUTAGE_S = float(os.environ.get("HAZMON_FAULT_OUTAGE_S", "15"))


def assert_complete(server: Server, agent: AgentProc, *, expected: int, directory: Path) -> None:
    """Wait until the agent has written `expected` readings and its outbox is empty, then: all of them are
    stored, none twice, and the gap ledger is empty. Prints the figures of the fault table (docs/delivery.md)."""
    start = time.monotonic()
    try:
        wait_for(
            lambda: agent.outbox()["written_readings"] >= expected,
            timeout=120,
            what=f"the agent to write its {expected} readings",
        )
        wait_for(lambda: agent.outbox()["pending_batches"] == 0, timeout=120, what="the outbox to drain")
        assert agent.outbox()["written_readings"] == expected
        stored = server.stored(agent.sensors)
        dupes = [k for k, n in Counter(stored).items() if n > 1]
        assert not dupes, f"duplicated readings: {dupes[:5]}"
        assert len(stored) == expected, f"stored {len(stored)} of {expected}"
        assert server.gaps() == []
        print(f"\nfault table: produced {expected}, stored {len(stored)}, lost {expected - len(set(stored))}, "
              f"duplicated {len(stored) - len(set(stored))}, drained {time.monotonic() - start:.1f} s after recovery")
    except AssertionError:
        print(dump_logs(directory))
        raise


def started(procs: list[Proc], *ps: Proc) -> None:
    for p in ps:
        p.start()
        procs.append(p)


def mqtt_stack(tmp_path: Path, procs: list[Proc], *, samples: int) -> tuple[Mosquitto, Server, AgentProc]:
    """A broker, a server reading it, and an agent sending through it, all running."""
    broker = Mosquitto(tmp_path)
    started(procs, broker)
    server = Server(tmp_path, mqtt_url=broker.url)
    started(procs, server)
    agent = AgentProc(tmp_path, server, uplink="mqtt", mqtt_url=broker.url, samples=samples)
    started(procs, agent)
    return broker, server, agent


def flowing(server: Server, agent: AgentProc) -> None:
    wait_for(lambda: len(server.stored(agent.sensors)) > 100, timeout=60, what="readings to flow")


def test_broker_outage_loses_and_duplicates_nothing(tmp_path: Path, procs: list[Proc]) -> None:
    """The broker stopped for 60 s mid-stream and restarted: the agent resends from its outbox."""
    broker, server, agent = mqtt_stack(tmp_path, procs, samples=300)
    flowing(server, agent)
    broker.stop()
    time.sleep(OUTAGE_S)  # the outage itself is the point of the test: nothing to poll for
    assert agent.outbox()["pending_readings"] > 0, "the agent kept reading during the outage"
    broker.start()
    assert_complete(server, agent, expected=agent.expected, directory=tmp_path)


def test_server_sigkill_loses_and_duplicates_nothing(tmp_path: Path, procs: list[Proc]) -> None:
    """The server SIGKILLed mid-stream and restarted: unacknowledged batches are resent and stored once."""
    _, server, agent = mqtt_stack(tmp_path, procs, samples=300)
    flowing(server, agent)
    server.kill()
    wait_for(lambda: agent.outbox()["pending_readings"] > 0, timeout=30, what="readings to pile up")
    server.start()
    assert_complete(server, agent, expected=agent.expected, directory=tmp_path)


def test_http_server_sigkill_loses_and_duplicates_nothing(tmp_path: Path, procs: list[Proc]) -> None:
    """The same over the HTTP uplink."""
    server = Server(tmp_path)
    started(procs, server)
    agent = AgentProc(tmp_path, server, uplink="http", samples=300)
    started(procs, agent)
    flowing(server, agent)
    server.kill()
    wait_for(lambda: agent.outbox()["pending_readings"] > 0, timeout=30, what="readings to pile up")
    server.start()
    assert_complete(server, agent, expected=agent.expected, directory=tmp_path)


def test_agent_sigkill_mid_batch_loses_and_duplicates_nothing(tmp_path: Path, procs: list[Proc]) -> None:
    """The agent SIGKILLed while sending and restarted: every batch it wrote is stored exactly once, and the
    restarted agent's seqs continue where the killed one stopped."""
    _, server, agent = mqtt_stack(tmp_path, procs, samples=150)
    wait_for(lambda: agent.outbox()["last_seq"] >= 5, timeout=60, what="batches to be written")
    agent.kill()
    written_before_kill = agent.outbox()["written_readings"]
    agent.start()  # the simulator starts again from its first sample: new readings, new batches
    assert_complete(server, agent, expected=written_before_kill + agent.expected, directory=tmp_path)
    journal = agent.journal()
    assert sorted(journal) == list(range(1, max(journal) + 1)), "seq continued across the restart without a hole"
    assert _server_batches(tmp_path) == journal


def _server_batches(tmp_path: Path) -> dict[int, int]:
    import sqlite3

    db = sqlite3.connect(tmp_path / "server" / "hazmon.db")
    try:
        return dict(db.execute("SELECT seq, n_readings FROM ingested_batches"))
    finally:
        db.close()


def test_influxdb_outage_loses_and_duplicates_nothing(tmp_path: Path, procs: list) -> None:
    """InfluxDB stopped mid-stream and restarted: ingest keeps acking from SQL; every reading reaches InfluxDB."""
    influx_dir = tmp_path / "influx"
    influx_dir.mkdir()
    influx = Influxd(influx_dir)
    influx.start()
    procs.append(influx)
    server = Server(tmp_path, influx_url=influx.url)
    server.start()
    procs.append(server)
    agent = AgentProc(tmp_path, server, uplink="http", samples=300)
    agent.start()
    procs.append(agent)
    wait_for(lambda: influx.count() > 50, timeout=60, what="points in InfluxDB")
    influx.stop()
    wait_for(lambda: server.health().get("influxdb") == "failing", timeout=30, what="the forwarder to notice")
    before = len(server.stored(agent.sensors))
    wait_for(lambda: len(server.stored(agent.sensors)) > before, timeout=30, what="ingest to go on")
    influx.start()
    assert_complete(server, agent, expected=agent.expected, directory=tmp_path)
    wait_for(
        lambda: influx.count() == agent.expected, timeout=60, what=f"InfluxDB to hold all {agent.expected} points"
    )


def _batch(seq: int, start_ms: int) -> Batch:
    readings = tuple(
        Reading("raw-1", "co", float(seq * 10 + i), "ppm", start_ms + seq * 1000 + i * 10) for i in range(5)
    )
    return Batch("faults", "raw", seq, start_ms, readings)


async def _publish(url: str, token: str, batches: list[Batch]) -> list[int]:
    """Publish batches as an agent would and collect the server's acks."""
    port = int(url.rsplit(":", 1)[1])
    acks: list[int] = []
    async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        await client.subscribe("hazmon/v1/faults/raw/ack", qos=1)
        for batch in batches:
            await client.publish("hazmon/v1/faults/raw/batch", encode_batch(batch), qos=1, properties=signed(token))
        async with asyncio.timeout(30):
            async for message in client.messages:
                acks.append(json.loads(message.payload)["acked_seq"])  # type: ignore[arg-type]
                if len(acks) == len(batches):
                    break
    return acks


def raw_agent_stack(tmp_path: Path, procs: list[Proc]) -> tuple[Mosquitto, Server, str]:
    """A broker and a server reading it, with the agent `raw` registered (the test publishes as that agent)."""
    broker = Mosquitto(tmp_path)
    started(procs, broker)
    server = Server(tmp_path, mqtt_url=broker.url)
    started(procs, server)
    token = server.agent_token("faults", "raw")
    return broker, server, token


def test_same_batch_twice_is_stored_once(tmp_path: Path, procs: list) -> None:
    """A batch delivered twice is acknowledged twice and stored once."""
    broker, server, token = raw_agent_stack(tmp_path, procs)
    start = int(time.time() * 1000) - 60_000
    acks = asyncio.run(_publish(broker.url, token, [_batch(1, start), _batch(1, start)]))
    assert acks == [1, 1]
    assert len(server.stored(["raw-1"])) == 5
    assert server.gaps() == []


def test_batches_out_of_order_fill_the_gap_ledger_then_clear_it(tmp_path: Path, procs: list) -> None:
    """Seq 1, 3, then 2: the ledger shows 2 missing until it arrives; the ack waits for it."""
    broker, server, token = raw_agent_stack(tmp_path, procs)
    start = int(time.time() * 1000) - 60_000
    assert asyncio.run(_publish(broker.url, token, [_batch(1, start), _batch(3, start)])) == [1, 1]
    gaps = server.gaps()
    assert [(g["first_seq"], g["last_seq"]) for g in gaps] == [(2, 2)]  # type: ignore[index]
    assert gaps[0]["after_ts"] == start + 1000 + 40 and gaps[0]["before_ts"] == start + 3000  # type: ignore[index]
    assert asyncio.run(_publish(broker.url, token, [_batch(2, start)])) == [3]
    assert server.gaps() == []
    assert len(server.stored(["raw-1"])) == 15


def test_first_contact_before_the_server_subscribes_loses_nothing(tmp_path: Path, procs: list[Proc]) -> None:
    """The agent publishes its first batches while no server has ever subscribed (the broker keeps nothing for
    it): the server's first batch is a later one, so the earlier seqs are a gap, not acknowledged; the agent
    sends them again and every reading is stored once."""
    broker = Mosquitto(tmp_path)
    started(procs, broker)
    setup = Server(tmp_path)  # the database and the agent's token, with no MQTT client yet
    started(procs, setup)
    agent = AgentProc(tmp_path, setup, uplink="mqtt", mqtt_url=broker.url, samples=300)
    setup.stop()
    started(procs, agent)
    wait_for(lambda: agent.outbox()["last_seq"] >= 5, timeout=60, what="batches published to nobody")
    server = Server(tmp_path, mqtt_url=broker.url)
    started(procs, server)
    assert_complete(server, agent, expected=agent.expected, directory=tmp_path)


def test_full_disk_loses_only_what_its_gaps_record(tmp_path: Path, procs: list[Proc]) -> None:
    """The agent's disk (a 3 MiB filesystem) fills while the server is down: the agent keeps running, holds 100
    readings in memory and records the rest it drops as a disk_full gap; the server's acks free space (the
    reserve lets the deletes through), the disk is emptied, and every reading is stored once or counted in a
    gap with its reason."""
    with small_disk(tmp_path / "disk", size_kib=3072) as disk:
        server = Server(tmp_path)
        started(procs, server)
        agent = AgentProc(tmp_path, server, uplink="http", samples=750, data_dir=disk,
                          outbox_extra="memory_readings = 100\n")
        started(procs, agent)
        flowing(server, agent)
        server.kill()
        wait_for(lambda: agent.outbox()["pending_readings"] > 400, timeout=30, what="readings to pile up",
                 poll_s=0.5)
        fill(disk / "filler")
        wait_for(lambda: "outbox cannot write" in agent.log_text(), timeout=30, what="the agent to see the full disk")
        time.sleep(2)  # readings are dropped while the disk stays full: the point of the test
        assert agent.running(), "the agent survived the full disk"
        server.start()
        wait_for(lambda: "outbox writes again" in agent.log_text(), timeout=60, what="acks to free space")
        (disk / "filler").unlink()

        def accounted() -> bool:
            return len(server.stored(agent.sensors)) + sum(int(g["dropped"]) for g in server.edge_gaps()) \
                >= agent.expected

        try:
            wait_for(accounted, timeout=120, what="every reading stored or in a gap", poll_s=0.5)
            wait_for(lambda: agent.outbox()["pending_batches"] == 0, timeout=60, what="the outbox to drain",
                     poll_s=0.5)
            stored = server.stored(agent.sensors)
            edge = server.edge_gaps()
            dropped = sum(int(g["dropped"]) for g in edge)
            assert not [k for k, n in Counter(stored).items() if n > 1], "duplicated readings"
            assert dropped > 0 and {g["reason"] for g in edge} == {"disk_full"}
            assert len(stored) + dropped == agent.expected
            print(f"\nfault table: produced {agent.expected}, stored {len(stored)}, dropped in gaps {dropped}, "
                  f"lost outside a gap {agent.expected - len(set(stored)) - dropped}, duplicated 0")
            assert server.gaps() == []
        except AssertionError:
            print(dump_logs(tmp_path), {p.name: p.stat().st_size for p in disk.iterdir()}, agent.outbox())
            raise


@pytest.mark.parametrize("kills", [1, 2], ids=["killed-once", "killed-twice"])
def test_mqtt_input_agent_sigkill_while_offline_loses_and_duplicates_nothing(
    tmp_path: Path, procs: list[Proc], kills: int
) -> None:
    """10 sensors publish 200 messages/s through a site broker; the server goes down, the agent is SIGKILLed
    (once, or twice) and restarted while it is down. The persistent session keeps what arrives meanwhile, each
    message is acknowledged only once it is in the outbox, and every one is stored exactly once."""
    site = Mosquitto(tmp_path / "site")
    started(procs, site)
    server = Server(tmp_path)
    started(procs, server)
    agent = AgentProc(tmp_path, server, uplink="http", site_broker=site.url)
    started(procs, agent)
    wait_for(lambda: _session_exists(site), timeout=30, what="the agent to connect to the site broker")
    publisher = SitePublisher(site, messages=3000)
    publisher.start()
    wait_for(lambda: len(server.stored(agent.sensors)) > 200, timeout=60, what="readings to flow")
    server.kill()
    for _ in range(kills):
        wait_for(lambda: agent.outbox()["pending_readings"] > 100, timeout=30, what="readings to pile up")
        agent.kill()
        time.sleep(1.0)  # messages arrive at the site broker while the agent is dead: the point of the test
        agent.start()
    server.start()
    back = time.monotonic()
    published = publisher.wait()
    try:
        wait_for(lambda: len(server.stored(agent.sensors)) >= published, timeout=120, poll_s=0.5,
                 what=f"all {published} readings stored")
        stored = server.stored(agent.sensors)
        print(f"\nfault table: published {published}, stored {len(stored)}, lost {published - len(set(stored))}, "
              f"duplicated {len(stored) - len(set(stored))}, drained {time.monotonic() - back:.1f} s after recovery")
        assert not [k for k, n in Counter(stored).items() if n > 1], "duplicated readings"
        assert len(stored) == published == 3000
        assert server.gaps() == [] and server.edge_gaps() == []
    except AssertionError:
        print(dump_logs(tmp_path))
        raise


def _session_exists(broker: Mosquitto) -> bool:
    return "New client connected" in broker.log_text()


def _oldest_pending_seq(agent: AgentProc) -> int:
    import sqlite3

    db = sqlite3.connect(agent.outbox_path)
    try:
        return int(db.execute("SELECT COALESCE(MIN(seq), 0) FROM batches").fetchone()[0])
    finally:
        db.close()


def _resumed_after(agent: AgentProc, *, timeout: float = 40.0) -> float:
    """Seconds until the server acknowledges a batch the agent held when this was called."""
    before = _oldest_pending_seq(agent)
    start = time.monotonic()
    wait_for(lambda: _oldest_pending_seq(agent) > before, timeout=timeout, poll_s=0.05,
             what="the server to acknowledge a held batch")
    return time.monotonic() - start


def test_delivery_resumes_within_5_s_after_broker_and_server_restarts(tmp_path: Path, procs: list[Proc]) -> None:
    """At the default timings (reconnect backoff up to 30 s, ack timeout 30 s), after a 10 s outage of the broker
    and then of the server, the server acknowledges held batches within 5 s of coming back: the agent reconnects
    as soon as the broker accepts connections, and the server's hello on (re)connect makes the agent resend
    what was in flight at once instead of after the ack timeout. Nothing lost, nothing duplicated."""
    broker = Mosquitto(tmp_path)
    started(procs, broker)
    server = Server(tmp_path, mqtt_url=broker.url)
    started(procs, server)
    agent = AgentProc(tmp_path, server, uplink="mqtt", mqtt_url=broker.url, samples=3000, retry_max_s=30.0,
                      ack_timeout_s=30.0)
    started(procs, agent)
    flowing(server, agent)
    resumed: dict[str, float] = {}
    try:
        broker.stop()
        time.sleep(10.0)  # the outage: the agent's backoff grows meanwhile
        broker.start()
        resumed["broker restart"] = _resumed_after(agent)
        server.kill()
        time.sleep(10.0)  # the agent keeps publishing into a broker nobody reads for it
        server.start()
        resumed["server restart"] = _resumed_after(agent)
        print("delivery resumed after:", {k: round(v, 2) for k, v in resumed.items()})
        assert all(v < 5.0 for v in resumed.values()), resumed
    except AssertionError:
        print(dump_logs(tmp_path))
        raise
    assert_complete(server, agent, expected=agent.expected, directory=tmp_path)


def test_http_delivery_resumes_within_5_s_after_a_server_restart(tmp_path: Path, procs: list[Proc]) -> None:
    """The same over HTTP at the default backoff (up to 30 s): the agent posts again as soon as the restarted
    server accepts connections."""
    server = Server(tmp_path)
    started(procs, server)
    agent = AgentProc(tmp_path, server, uplink="http", samples=2000, retry_max_s=30.0)
    started(procs, agent)
    flowing(server, agent)
    server.kill()
    time.sleep(15.0)  # the outage: the agent's backoff grows to 8-16 s meanwhile
    server.start()
    resumed = _resumed_after(agent)
    print(f"delivery resumed {resumed:.2f} s after the server came back")
    assert resumed < 5.0
    assert_complete(server, agent, expected=agent.expected, directory=tmp_path)
