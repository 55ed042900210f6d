"""Edge alarms over the MQTT uplink: raised locally while the broker is down, delivered when it is back."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.faults.conftest import Mosquitto, Proc, Server, dump_logs
from tests.kit.waiting import wait_for

pytestmark = pytest.mark.slow


def test_edge_alarm_raised_during_a_broker_outage_reaches_the_server(tmp_path: Path, procs: list) -> None:
    """The agent's local H2S alarm fires while the broker is down; once it is back the event arrives on the
    alarm topic, becomes an `edge` alert, and the agent's alarm store is emptied by the server's ack."""
    broker = Mosquitto(tmp_path)
    broker.start()
    procs.append(broker)
    server = Server(tmp_path, mqtt_url=broker.url)
    server.start()
    procs.append(server)
    token = server.agent_token("faults", "gw-1")
    broker.stop()  # the uplink is down from the start: the alarm is raised and kept at the edge
    cfg = tmp_path / "agent.toml"
    cfg.write_text(
        f'schema_version = 1\nsite = "faults"\nagent = "gw-1"\ndata_dir = "{tmp_path}/agent"\n'
        f'[uplink]\ntype = "mqtt"\nurl = "{broker.url}"\ntoken = "{token}"\n'
        'ack_timeout_s = 3.0\nretry_max_s = 2.0\n'
        '[[sources]]\ntype = "simulator"\nname = "tank-gas"\nkind = "gas"\nscenario = "gas_leak"\n'
        "interval_s = 0.1\nleak_start_s = 0.5\nsamples = 100\n"
        '[[alarms]]\nid = "h2s-local"\nquantity = "h2s"\nunit = "ppm"\nsensors = "tank-*"\n'
        'levels = [{ severity = "warning", above = 10.0, clear_at = 8.0 }]\noutputs = [{ type = "log" }]\n'
    )
    agent = Proc("agent", [sys.executable, "-m", "hazmon", "agent", "run", "-c", str(cfg)], log=tmp_path / "agent.log")
    agent.start()
    procs.append(agent)
    try:
        wait_for(
            lambda: "ALARM WARNING h2s-local" in agent.log.read_text(errors="replace"),
            timeout=60,
            what="the local alarm output to fire with the uplink down",
        )
        broker.start()
        wait_for(
            lambda: any(a["origin"] == "edge" for a in server.get("/alerts")),
            timeout=60,  # type: ignore[union-attr,index]
            what="the edge alarm to reach the server",
        )
        (alert,) = [a for a in server.get("/alerts") if a["origin"] == "edge"]  # type: ignore[union-attr,index]
        assert alert["rule"] == "edge.h2s-local" and alert["sensor"] == "tank-gas"
        store = tmp_path / "agent" / "alarms-gw-1.db"
        import sqlite3

        def store_empty() -> bool:
            db = sqlite3.connect(store)
            try:
                return db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
            finally:
                db.close()

        wait_for(store_empty, timeout=30, what="the server's ack to empty the agent's alarm store")
    except AssertionError:
        print(dump_logs(tmp_path))
        raise
