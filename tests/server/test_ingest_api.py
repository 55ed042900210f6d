"""POST /api/v1/ingest: a batch is stored durably and exactly once, then acknowledged with the agent's
watermark; a bad batch stores nothing. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from tests.server.api_kit import AGENT, SITE, agent_token, batch, bearer, now_ms, reading, user_token


def _stored(client, headers, sensor: str) -> list[dict]:
    r = client.get("/api/v1/readings", params={"sensor": sensor, "limit": 100_000}, headers=headers)
    if r.status_code == 404:
        return []
    assert r.status_code == 200, r.text
    body = r.json()
    return body["readings"] if isinstance(body, dict) else body  # {"sensor", "readings", "coverage"}


def _status(client, headers) -> dict:
    r = client.get("/api/v1/status", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_ingest_stores_a_batch_and_acks_its_seq(client, agent_headers, admin_headers):
    """A valid batch is stored, readings as sent (unit aliases normalised), and answered {"acked_seq": N}."""
    t = now_ms() - 10_000
    readings = [reading(value=1.5, ts=t), reading(value=2.5, ts=t + 1000),
                reading("grinding-dust", "pm2_5", 35.0, "µg/m3", ts=t, flags=("simulated",))]
    r = client.post("/api/v1/ingest", content=batch(1, readings), headers=agent_headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"acked_seq": 1}

    gas = _stored(client, admin_headers, "tank-3-gas")
    assert [(x["quantity"], x["value"], x["unit"], x["ts"], x["flags"]) for x in gas] == [
        ("h2s", 1.5, "ppm", t, []), ("h2s", 2.5, "ppm", t + 1000, [])]
    dust = _stored(client, admin_headers, "grinding-dust")
    assert [(x["value"], x["unit"], x["flags"]) for x in dust] == [(35.0, "ug/m3", ["simulated"])]
    status = _status(client, admin_headers)
    assert (status["readings_total"], status["batches_total"], status["sensors"]) == (3, 1, 2)


def test_the_same_batch_twice_is_stored_once_and_acked_again(client, agent_headers, admin_headers):
    """A resent batch (only sent_ms differs) is acknowledged again and its readings are not stored twice."""
    t = now_ms() - 10_000
    readings = [reading(value=float(k), ts=t + k) for k in range(5)]
    first = client.post("/api/v1/ingest", content=batch(1, readings, sent_ms=t + 100), headers=agent_headers)
    again = client.post("/api/v1/ingest", content=batch(1, readings, sent_ms=t + 9000), headers=agent_headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {"acked_seq": 1}
    assert len(_stored(client, admin_headers, "tank-3-gas")) == 5
    status = _status(client, admin_headers)
    assert (status["readings_total"], status["batches_total"]) == (5, 1)
    assert status["counters"].get("ingest_duplicate_batches") == 1


def test_same_seq_with_other_readings_is_a_conflict_and_stores_nothing(client, agent_headers, admin_headers):
    """A reused seq with different readings answers 409 and none of the new readings is stored."""
    t = now_ms() - 10_000
    assert client.post("/api/v1/ingest", content=batch(1, [reading(value=1.0, ts=t)]),
                       headers=agent_headers).status_code == 200
    r = client.post("/api/v1/ingest", content=batch(1, [reading(value=99.0, ts=t + 1),
                                                        reading("other-sensor", value=5.0, ts=t)]),
                    headers=agent_headers)
    assert r.status_code == 409
    assert [x["value"] for x in _stored(client, admin_headers, "tank-3-gas")] == [1.0]
    assert _stored(client, admin_headers, "other-sensor") == []
    status = _status(client, admin_headers)
    assert (status["readings_total"], status["batches_total"], status["sensors"]) == (1, 1, 1)


def test_malformed_batch_is_refused_whole_with_path_and_reason(client, agent_headers, admin_headers):
    """422 names the bad field; the valid readings of the same batch are not stored either."""
    t = now_ms() - 10_000
    readings = [reading("good-sensor", value=3.0, ts=t), reading("dusty", "pm10", 0.4, "ppm", ts=t)]
    r = client.post("/api/v1/ingest", content=batch(1, readings), headers=agent_headers)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail["path"] == "readings[1].unit"
    assert detail["reason"].startswith("unit 'ppm' does not fit pm10")
    assert _stored(client, admin_headers, "good-sensor") == []
    assert client.get("/api/v1/sensors", headers=admin_headers).json() == []
    status = _status(client, admin_headers)
    assert (status["readings_total"], status["batches_total"]) == (0, 0)
    assert status["counters"].get("ingest_rejected_invalid") == 1


def test_body_that_is_not_json_is_refused(client, agent_headers):
    """Garbage answers 422 with the root path."""
    r = client.post("/api/v1/ingest", content=b"\x00\x01 not json", headers=agent_headers)
    assert r.status_code == 422
    assert r.json()["detail"]["path"] == ""
    assert r.json()["detail"]["reason"].startswith("not valid JSON")


def test_missing_token_is_unauthorized(client):
    """No Authorization header: 401."""
    r = client.post("/api/v1/ingest", content=batch(1, [reading(ts=now_ms())]))
    assert r.status_code == 401


def test_unknown_token_is_unauthorized(client, agent_headers):
    """A token the server never issued: 401."""
    r = client.post("/api/v1/ingest", content=batch(1, [reading(ts=now_ms())]),
                    headers=bearer("hzm_a_" + "x" * 43))
    assert r.status_code == 401


def test_a_new_agent_token_leaves_the_old_one_valid_until_revoked(app, client):
    """A new token for an agent does not cut off the running agent: the old token works until it is revoked
    (issue 13; `agent-token revoke`, tests/server/test_accounts_admin.py)."""
    old = agent_token(app)
    new = agent_token(app)
    assert client.post("/api/v1/ingest", content=batch(1, [reading(ts=now_ms())]),
                       headers=bearer(old)).status_code == 200
    assert client.post("/api/v1/ingest", content=batch(2, [reading(ts=now_ms())]),
                       headers=bearer(new)).status_code == 200


def test_agent_token_cannot_ingest_for_another_site_or_agent(app, client, agent_headers, admin_headers):
    """A token is scoped to its site and agent: a batch naming another one is 403 and stores nothing."""
    agent_token(app, site="plant-b", agent=AGENT)
    for site, agent in (("plant-b", AGENT), (SITE, "gw-2")):
        r = client.post("/api/v1/ingest", content=batch(1, [reading(ts=now_ms())], site=site, agent=agent),
                        headers=agent_headers)
        assert r.status_code == 403, (site, agent)
    assert _status(client, admin_headers)["readings_total"] == 0


def test_ack_is_a_watermark_that_waits_for_gaps(client, agent_headers):
    """Seqs 1, 2 then 4 ack 2 (3 is missing); when 3 arrives the ack jumps to 4."""
    t = now_ms() - 10_000

    def send(seq: int) -> int:
        r = client.post("/api/v1/ingest", content=batch(seq, [reading(value=float(seq), ts=t + seq)]),
                        headers=agent_headers)
        assert r.status_code == 200, r.text
        return r.json()["acked_seq"]

    assert [send(1), send(2), send(4), send(3)] == [1, 2, 2, 4]
    assert send(4) == 4  # a late resend of 4 acks the watermark, not just itself


def test_first_batch_seen_sets_the_watermark_baseline(client, agent_headers):
    """An agent whose earlier batches went to another server starts its watermark at its first seq here."""
    t = now_ms() - 10_000
    r = client.post("/api/v1/ingest", content=batch(41, [reading(ts=t)]), headers=agent_headers)
    assert r.json() == {"acked_seq": 41}
    r = client.post("/api/v1/ingest", content=batch(42, [reading(ts=t + 1)]), headers=agent_headers)
    assert r.json() == {"acked_seq": 42}


def test_first_contact_counts_seqs_from_the_agents_first_seq_as_missing(client, agent_headers, admin_headers):
    """An agent whose outbox starts at 1 and whose first batch to arrive is 3 (1 and 2 were lost before the
    server listened): 1-2 are a gap and nothing is acknowledged until they arrive."""
    t = now_ms() - 10_000

    def send(seq: int) -> int:
        r = client.post("/api/v1/ingest", content=batch(seq, [reading(value=float(seq), ts=t + seq)], first_seq=1),
                        headers=agent_headers)
        assert r.status_code == 200, r.text
        return r.json()["acked_seq"]

    assert send(3) == 0
    (agent,) = client.get("/api/v1/agents", headers=admin_headers).json()
    assert [(g["first_seq"], g["last_seq"], g["after_ts"], g["before_ts"]) for g in agent["gaps"]] == [
        (1, 2, None, t + 3)]
    assert send(1) == 1
    assert send(2) == 3
    (agent,) = client.get("/api/v1/agents", headers=admin_headers).json()
    assert agent["gaps"] == [] and agent["acked_seq"] == 3


def test_first_seq_after_acknowledged_batches_is_the_baseline(client, agent_headers):
    """An agent that already had 1-40 acknowledged (by a server whose data this one does not hold) says its
    outbox starts at 41: 41 is acknowledged at once."""
    t = now_ms() - 10_000
    r = client.post("/api/v1/ingest", content=batch(41, [reading(ts=t)], first_seq=41), headers=agent_headers)
    assert r.json() == {"acked_seq": 41}


def test_dropped_readings_are_gaps_with_a_reason(client, agent_headers, admin_headers):
    """A batch carrying the readings its agent could not keep (disk full) puts them in the agent's ledger and in
    the coverage of the sensor's readings for any period that overlaps them; a resend adds nothing."""
    t = now_ms() - 60_000
    gap = {"sensor": "tank-3-gas", "from_ts": t + 1000, "to_ts": t + 9000, "dropped": 41, "reason": "disk_full"}
    for _ in range(2):
        r = client.post("/api/v1/ingest", content=batch(1, [reading(ts=t), reading(ts=t + 10_000)], gaps=[gap]),
                        headers=agent_headers)
        assert r.status_code == 200, r.text
    (agent,) = client.get("/api/v1/agents", headers=admin_headers).json()
    assert agent["edge_gaps"] == [{**gap, "seq": 1}]
    body = client.get("/api/v1/readings", params={"sensor": "tank-3-gas"}, headers=admin_headers).json()
    assert body["coverage"]["complete"] is False
    assert body["coverage"]["dropped"] == [
        {"agent": AGENT, "from_ts": t + 1000, "to_ts": t + 9000, "dropped": 41, "reason": "disk_full"}]
    later = client.get("/api/v1/readings", params={"sensor": "tank-3-gas", "since": t + 9001},
                       headers=admin_headers).json()
    assert later["coverage"] == {"complete": True, "gaps": [], "dropped": []}


def test_a_gap_with_an_unknown_reason_is_refused(client, agent_headers):
    """Gaps are validated like readings: an unknown reason is a 422 naming it."""
    gap = {"sensor": "s", "from_ts": 1, "to_ts": 2, "dropped": 1, "reason": "bored"}
    r = client.post("/api/v1/ingest", content=batch(1, [], gaps=[gap]), headers=agent_headers)
    assert r.status_code == 422
    assert r.json()["detail"]["path"] == "gaps[0].reason"


def test_human_token_cannot_ingest(app, client):
    """A person's API token is not an agent token: 401 on ingest."""
    token = user_token(app, "admin", "admin")
    r = client.post("/api/v1/ingest", content=batch(1, [reading(ts=now_ms())]), headers=bearer(token))
    assert r.status_code in (401, 403)


def test_agent_token_cannot_read(client, agent_headers):
    """An agent token reads nothing: 401 on the monitoring routes."""
    for path in ("/api/v1/sensors", "/api/v1/alerts", "/api/v1/status", "/api/v1/auth/me"):
        assert client.get(path, headers=agent_headers).status_code in (401, 403), path
