"""A sensor belongs to the agent that first reported it: another agent of the site cannot write readings or edge
alarms into it (403, counted, the whole message refused); an admin can move it (audited); every read that names
a sensor is scoped by site."""

from __future__ import annotations

from sqlalchemy import select

from server.accounts.models import AuditEntry
from tests.kit.server import session
from tests.server.api_kit import SITE, agent_token, batch, bearer, now_ms, reading, user_token


def _alarm(event_id: str, sensor: str) -> dict:
    return {"events": [{"id": event_id, "rule": "h2s.high", "kind": "raised", "sensor": sensor, "quantity": "h2s",
                        "severity": "critical", "value": 25.0, "unit": "ppm", "threshold": 10.0,
                        "ts": now_ms() - 1000}]}


def _status(client, headers) -> dict:
    return client.get("/api/v1/status", headers=headers).json()


def test_a_second_agent_cannot_write_into_the_first_ones_sensor(app, client, agent_headers, admin_headers):
    """gw-2 on the same site naming gw-1's sensor: the batch (its other readings too) and the edge alarm are
    refused with 403 and counted; nothing of either is stored."""
    t = now_ms() - 5000
    assert client.post("/api/v1/ingest", content=batch(1, [reading(ts=t)]), headers=agent_headers).status_code == 200
    other = bearer(agent_token(app, SITE, "gw-2"))
    body = batch(1, [reading("gw2-own", ts=t), reading(value=99.0, ts=t + 1)], agent="gw-2")
    r = client.post("/api/v1/ingest", content=body, headers=other)
    assert r.status_code == 403 and "tank-3-gas" in r.json()["detail"]
    r = client.post("/api/v1/edge-alarms", json=_alarm("e-1", "tank-3-gas"), headers=other)
    assert r.status_code == 403
    status = _status(client, admin_headers)
    assert (status["readings_total"], status["sensors"]) == (1, 1)  # neither gw2-own nor the 99.0 stored
    assert status["counters"]["ingest_rejected_not_owner"] == 1
    assert status["counters"]["edge_alarms_rejected_not_owner"] == 1
    assert all(a.get("origin") != "edge" for a in client.get("/api/v1/alerts", headers=admin_headers).json())
    # its own sensors it writes as before
    assert client.post("/api/v1/ingest", content=batch(2, [reading("gw2-own", ts=t)], agent="gw-2"),
                       headers=other).status_code == 200


def test_an_admin_moves_a_sensor_to_another_agent(app, client, agent_headers, admin_headers):
    """PUT /sensors/{sensor}/agent (admin only, audited) moves the sensor: then the new agent writes it and the
    old one is refused."""
    t = now_ms() - 5000
    client.post("/api/v1/ingest", content=batch(1, [reading(ts=t)]), headers=agent_headers)
    other = bearer(agent_token(app, SITE, "gw-2"))
    staff = bearer(user_token(app, "facilities", "facilities"))
    assert client.put("/api/v1/sensors/tank-3-gas/agent", json={"agent": "gw-2"}, headers=staff).status_code == 403
    assert client.put("/api/v1/sensors/tank-3-gas/agent", json={"agent": "gw-9"},
                      headers=admin_headers).status_code == 404
    r = client.put("/api/v1/sensors/tank-3-gas/agent", params={"site": SITE}, json={"agent": "gw-2"},
                   headers=admin_headers)
    assert r.status_code == 200 and r.json() == {"site": SITE, "sensor": "tank-3-gas", "agent": "gw-2",
                                                 "previous_agent": "gw-1"}
    assert client.post("/api/v1/ingest", content=batch(1, [reading(ts=t + 1)], agent="gw-2"),
                       headers=other).status_code == 200
    refused = client.post("/api/v1/ingest", content=batch(2, [reading(ts=t + 2)]), headers=agent_headers)
    assert refused.status_code == 403
    with session(app) as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "sensor_reassign")).scalar_one()
    assert entry.target == f"sensor:{SITE}/tank-3-gas" and entry.detail == "agent gw-1 -> gw-2"


def test_reads_of_a_sensor_are_scoped_by_site(app, client, agent_headers, admin_headers):
    """Two sites with a sensor of the same name: /readings and /trend ask for the site (409) and, given it, show
    that site's readings only."""
    t = now_ms() - 5000
    client.post("/api/v1/ingest", content=batch(1, [reading(value=1.0, ts=t)]), headers=agent_headers)
    b = bearer(agent_token(app, "plant-b", "gw-1"))
    assert client.post("/api/v1/ingest", content=batch(1, [reading(value=7.0, ts=t)], site="plant-b"),
                       headers=b).status_code == 200
    r = client.get("/api/v1/readings", params={"sensor": "tank-3-gas"}, headers=admin_headers)
    assert r.status_code == 409 and "site" in r.json()["detail"]
    for site, value in ((SITE, 1.0), ("plant-b", 7.0)):
        r = client.get("/api/v1/readings", params={"sensor": "tank-3-gas", "site": site}, headers=admin_headers)
        assert [x["value"] for x in r.json()["readings"]] == [value]
        r = client.get("/api/v1/trend", params={"sensor": "tank-3-gas", "site": site, "quantity": "h2s",
                                                "since": t - 60_000, "until": t + 60_000}, headers=admin_headers)
        assert r.status_code == 200 and [p["max"] for p in r.json()["points"]] == [value]
    r = client.get("/api/v1/trend", params={"sensor": "tank-3-gas", "quantity": "h2s", "since": t - 60_000,
                                            "until": t + 60_000}, headers=admin_headers)
    assert r.status_code == 409
