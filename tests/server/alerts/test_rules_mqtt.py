"""Rules replaced through PUT /api/v1/rules reach the MQTT ingest (a real mosquitto broker), on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from tests.kit.mosquitto import Mosquitto, signed
from tests.kit.waiting import wait_for
from tests.server.alerts.alert_kit import T0, running_server


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    mosquitto = Mosquitto(tmp_path / "mosquitto")
    mosquitto.start()
    try:
        yield mosquitto.url
    finally:
        mosquitto.stop()


async def _publish(url: str, token: str, seq: int, value: float) -> int:
    """Publish one batch as agent plant-a/gw-1 and return the server's ack (sent after the commit)."""
    port = int(url.rsplit(":", 1)[1])
    body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": seq, "sent_ms": T0,
            "readings": [{"sensor": "mq-1", "quantity": "h2s", "value": value, "unit": "ppm", "ts": T0 + seq * 1000,
                          "interval_s": None, "flags": []}]}
    async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        await client.subscribe("hazmon/v1/plant-a/gw-1/ack", qos=1)
        await client.publish("hazmon/v1/plant-a/gw-1/batch", json.dumps(body).encode(), qos=1,
                             properties=signed(token))
        async with asyncio.timeout(30):
            async for message in client.messages:
                return int(json.loads(message.payload)["acked_seq"])  # type: ignore[arg-type]
    raise AssertionError("no ack")


def test_rules_put_through_the_api_apply_to_mqtt_batches(tmp_path: Path, database_url: str, broker: str):
    """5 ppm of H2S opens nothing under the built-in rule (10 ppm); after PUT /rules sets 3 ppm, the next batch
    ingested through MQTT opens an alert of the new rule."""
    with running_server(tmp_path, database_url, mqtt_url=broker) as server:
        wait_for(lambda: server.app.state.services.mqtt.connected.is_set(), timeout=20,
                 what="the MQTT ingest to subscribe")
        assert asyncio.run(_publish(broker, server.agent_token, 1, 5.0)) == 1
        assert server.alerts() == []
        r = server.client.put("/api/v1/rules", headers={"Authorization": f"Bearer {server.manager}",
                                                        "Content-Type": "text/plain"},
                              content='[[rules]]\nid = "h2s-low"\nquantity = "h2s"\nunit = "ppm"\nabove = 3.0\n')
        assert r.status_code == 200, r.text
        assert asyncio.run(_publish(broker, server.agent_token, 2, 5.0)) == 2
        [alert] = server.alerts()
        assert alert["rule"] == "h2s-low" and alert["sensor"] == "mq-1" and alert["trigger_value"] == 5.0
        assert alert["opened_ts"] == T0 + 2000
