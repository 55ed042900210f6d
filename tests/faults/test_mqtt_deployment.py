"""MQTT as a production site runs it: TLS with the site's CA and per-client passwords; several server replicas
sharing the load through MQTT 5 shared subscriptions. Every reading stored exactly once."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.faults.conftest import AgentProc, Mosquitto, Proc, Server, dump_logs, make_certificates
from tests.faults.test_faults import assert_complete, flowing, started
from tests.kit.require import service_missing
from tests.kit.waiting import wait_for

pytestmark = pytest.mark.slow


def _passwords(path: Path, users: dict[str, str]) -> Path:
    if shutil.which("mosquitto_passwd") is None:
        service_missing("mosquitto_passwd (Debian package mosquitto)")
    for i, (user, password) in enumerate(users.items()):
        subprocess.run(["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []), str(path), user, password], check=True)
    path.chmod(0o600)
    return path


def test_tls_and_passwords_on_both_links(tmp_path: Path, procs: list[Proc]) -> None:
    """The broker accepts only TLS with passwords: agent and server both connect with the site CA and their own
    credentials, and every reading arrives."""
    ca = make_certificates(tmp_path)
    passwd = _passwords(tmp_path / "passwd", {"hazmon-server": "server-pw", "gw-1": "agent-pw"})
    broker = Mosquitto(
        tmp_path,
        anonymous=False,
        extra_conf=(
            f"password_file {passwd}\ncafile {ca}\n"
            f"certfile {tmp_path / 'broker.pem'}\nkeyfile {tmp_path / 'broker.key'}\n"
        ),
    )
    started(procs, broker)
    url = f"mqtts://127.0.0.1:{broker.port}"
    server = Server(
        tmp_path,
        mqtt_url=f"mqtts://hazmon-server:server-pw@127.0.0.1:{broker.port}",
        extra_env={"HAZMON_MQTT_CA_FILE": str(ca)},
    )
    started(procs, server)
    agent = AgentProc(
        tmp_path,
        server,
        uplink="mqtt",
        mqtt_url=url,
        samples=100,
        mqtt_extra=f'username = "gw-1"\npassword = "agent-pw"\ntls_ca_file = "{ca}"\n',
    )
    started(procs, agent)
    assert_complete(server, agent, expected=agent.expected, directory=tmp_path)


def test_a_wrong_password_delivers_nothing_and_keeps_everything(tmp_path: Path, procs: list[Proc]) -> None:
    """An agent with a wrong password is refused by the broker: nothing is stored, nothing is lost from its
    outbox, and it keeps retrying."""
    passwd = _passwords(tmp_path / "passwd", {"gw-1": "agent-pw"})
    broker = Mosquitto(tmp_path, anonymous=False, extra_conf=f"password_file {passwd}\n")
    started(procs, broker)
    server = Server(tmp_path)  # the server is not on the broker: this test is about the agent's side
    started(procs, server)
    agent = AgentProc(
        tmp_path,
        server,
        uplink="mqtt",
        mqtt_url=broker.url,
        samples=50,
        mqtt_extra='username = "gw-1"\npassword = "wrong"\n',
    )
    started(procs, agent)
    wait_for(lambda: agent.outbox()["written_readings"] >= agent.expected, timeout=60, what="the readings")
    wait_for(
        lambda: agent.log.read_text(errors="replace").count("reconnecting in") >= 2,
        timeout=60,
        what="the agent to retry",
    )
    assert agent.outbox()["pending_readings"] == agent.expected
    assert server.stored(agent.sensors) == []


def test_two_replicas_share_the_load_and_store_each_reading_once(
    tmp_path: Path, procs: list[Proc], fresh_postgres: str
) -> None:
    """Two servers on one PostgreSQL database subscribe with the shared group `hazmon`: both ingest batches, and
    every reading is stored exactly once, with no gap left in the ledger."""
    broker = Mosquitto(tmp_path)
    started(procs, broker)
    env = {"HAZMON_DATABASE_URL": fresh_postgres, "HAZMON_MQTT_SHARED_GROUP": "hazmon"}
    one = Server(tmp_path, mqtt_url=broker.url, name="server-1", extra_env=env)
    two = Server(tmp_path, mqtt_url=broker.url, name="server-2", extra_env=env)
    started(procs, one, two)
    agent = AgentProc(tmp_path, one, uplink="mqtt", mqtt_url=broker.url, samples=400, interval_s=0.02)
    started(procs, agent)
    flowing(one, agent)
    assert_complete(one, agent, expected=agent.expected, directory=tmp_path)
    try:
        handled = [s.get("/status")["counters"].get("ingest_batches", 0) for s in (one, two)]  # type: ignore[index]
        assert all(n > 0 for n in handled), f"batches per replica: {handled}"
    except AssertionError:
        print(dump_logs(tmp_path))
        raise
