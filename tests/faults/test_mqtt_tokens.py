"""An MQTT agent authenticates as an HTTP one does: its bearer token rides on every message (the MQTT 5 user
property `authorization`) and the server checks it on each one. A message without a valid token of the agent its
topic names is refused (`{"refused": ...}` on the agent's ack topic, audited, nothing stored); revoking a running
agent's token stops its next batch, and a new token resumes delivery with nothing lost or duplicated."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiomqtt
import httpx
import pytest

from exposure.batch import encode_batch
from tests.faults.conftest import AgentProc, Mosquitto, Proc, Server, dump_logs
from tests.faults.test_faults import _batch, assert_complete, flowing, started
from tests.kit.mosquitto import signed
from tests.kit.waiting import wait_for

pytestmark = pytest.mark.slow


async def _answers(url: str, token: str | None, seqs: list[int], start: int) -> list[dict[str, object]]:
    """Publish batches as agent faults/raw with `token` (or none) and collect what the server answers on its ack
    topic, one answer per batch."""
    port = int(url.rsplit(":", 1)[1])
    answers: list[dict[str, object]] = []
    async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        await client.subscribe("hazmon/v1/faults/raw/ack", qos=1)
        for seq in seqs:
            await client.publish("hazmon/v1/faults/raw/batch", encode_batch(_batch(seq, start)), qos=1,
                                 properties=signed(token) if token else None)
        async with asyncio.timeout(30):
            async for message in client.messages:
                answers.append(json.loads(message.payload))  # type: ignore[arg-type]
                if len(answers) == len(seqs):
                    break
    return answers


def _denied(server: Server, leaf: str = "batch") -> list[dict[str, object]]:
    entries = server.get("/audit", action="request_denied")["entries"]
    return [e for e in entries if str(e["target"]).startswith("MQTT ") and str(e["target"]).endswith(f"/{leaf}")]


def test_a_message_without_a_valid_token_is_refused_audited_and_not_stored(tmp_path: Path,
                                                                           procs: list[Proc]) -> None:
    """No token, a made-up token, another agent's token: each batch is answered with a refusal saying why, audited
    as request_denied (never the token), and nothing of it is stored; the agent's own token is acknowledged."""
    broker = Mosquitto(tmp_path)
    started(procs, broker)
    server = Server(tmp_path, mqtt_url=broker.url)
    started(procs, server)
    own = server.agent_token("faults", "raw")
    other = server.agent_token("faults", "other")
    start = int(time.time() * 1000) - 60_000
    made_up = "hzm_a_" + "x" * 40
    refused = [asyncio.run(_answers(broker.url, token, [1], start))[0] for token in (None, made_up, other)]
    assert refused == [{"refused": "no agent token"},
                       {"refused": "not a valid agent token (unknown, revoked or expired)"},
                       {"refused": "a token of another agent than faults/raw"}]
    assert server.stored(["raw-1"]) == []
    denied = _denied(server)
    assert sorted(str(e["actor"]) for e in denied) == ["agent:faults/other", "anonymous", "unknown token"]
    assert {e["target"] for e in denied} == {"MQTT hazmon/v1/faults/raw/batch"}
    log = server.log_text()
    assert "refused: no agent token" in log and made_up not in log and own not in log and other not in log
    assert asyncio.run(_answers(broker.url, own, [1], start)) == [{"acked_seq": 1}]
    assert len(server.stored(["raw-1"])) == 5


def test_revoking_a_running_mqtt_agents_token_refuses_its_next_batch(tmp_path: Path, procs: list[Proc]) -> None:
    """A running MQTT agent's readings are stored; its token revoked through the API, its next batch is refused
    within a second or two, nothing more of it is stored, and the agent keeps running and says why in its log.
    Restarted with a new token, it delivers everything it kept: every reading stored once, no gap."""
    broker = Mosquitto(tmp_path)
    started(procs, broker)
    server = Server(tmp_path, mqtt_url=broker.url)
    started(procs, server)
    agent = AgentProc(tmp_path, server, uplink="mqtt", mqtt_url=broker.url, samples=3000, interval_s=0.02)
    started(procs, agent)
    flowing(server, agent)
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    [token] = [t for t in server.get("/agent-tokens") if t["agent"] == "gw-1"]
    r = httpx.delete(f"{server.url}/api/v1/agent-tokens/{token['id']}", headers=admin, timeout=10)
    assert r.status_code == 200, r.text
    revoked_at = time.monotonic()
    wait_for(lambda: len(_denied(server)) >= 1, timeout=10, what="the agent's next batch refused")
    assert time.monotonic() - revoked_at < 5, dump_logs(tmp_path)
    time.sleep(1.0)  # batches in flight when the token was revoked are answered by now
    stored = len(server.stored(agent.sensors))
    time.sleep(2.0)
    assert len(server.stored(agent.sensors)) == stored  # nothing more of it is stored
    assert agent.running()
    wait_for(lambda: "the server refused this agent's token" in agent.log_text(), timeout=10,
             what="the agent to log the refusal")
    agent.stop()
    written = agent.outbox()["written_readings"]
    assert agent.outbox()["pending_batches"] > 0  # kept at the edge, not dropped
    again = AgentProc(tmp_path, server, uplink="mqtt", mqtt_url=broker.url, samples=50, interval_s=0.02,
                      data_dir=agent.outbox_path.parent)
    started(procs, again)
    assert_complete(server, again, expected=written + 50 * 4, directory=tmp_path)
