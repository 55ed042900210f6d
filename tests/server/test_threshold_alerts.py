"""Threshold alerts at ingest: one alert per (rule, sensor) episode, opened on crossing, resolved on the first
valid value back on the safe side; unreliable readings neither open nor clear. On SQLite and PostgreSQL.

The rules are the classic portable-detector pair (H2S low alarm at 10 ppm, high alarm at 20 ppm), given as a
rules file so these tests pin the rule semantics, not the content of the built-in defaults."""

from __future__ import annotations

import pytest

from server.app import create_app
from server.settings import Settings
from tests.server.api_kit import batch, now_ms, reading

RULES = """\
[[rules]]
id = "h2s-low"
quantity = "h2s"
above = 10.0
unit = "ppm"
severity = "warning"
message = "H2S at or above 10 ppm (low alarm)"

[[rules]]
id = "h2s-high"
quantity = "h2s"
above = 20.0
unit = "ppm"
severity = "critical"
message = "H2S at or above 20 ppm (high alarm)"
"""


@pytest.fixture
def app(tmp_path, database_url):
    """The app with the two H2S rules above (overrides the package's `app` fixture)."""
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    return create_app(Settings(data_dir=tmp_path, database_url=database_url, rules_file=rules), migrate=True)


@pytest.fixture
def send(client, agent_headers):
    """Send each value as its own batch, 1 s apart, as a gas monitor would."""
    state = {"seq": 0, "t": now_ms() - 60_000}

    def send_values(*values: float, flags: tuple[str, ...] = ()) -> list[int]:
        stamps = []
        for value in values:
            state["seq"] += 1
            state["t"] += 1000
            r = client.post("/api/v1/ingest",
                            content=batch(state["seq"], [reading(value=value, ts=state["t"], flags=flags)]),
                            headers=agent_headers)
            assert r.status_code == 200, r.text
            stamps.append(state["t"])
        return stamps

    return send_values


def _alerts(client, headers) -> list[dict]:
    r = client.get("/api/v1/alerts", params={"state": "all"}, headers=headers)
    assert r.status_code == 200
    return sorted(r.json(), key=lambda a: a["id"])


def test_crossing_opens_one_alert_and_a_safe_value_resolves_it(client, admin_headers, send):
    """h2s 5, 12, 15, 3 ppm: exactly one h2s-low alert, opened at 12, worst 15, resolved at the 3 ppm reading."""
    _, t12, _, t3 = send(5.0, 12.0, 15.0, 3.0)
    alerts = _alerts(client, admin_headers)
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert["rule"], alert["sensor"], alert["quantity"], alert["severity"]) == (
        "h2s-low", "tank-3-gas", "h2s", "warning")
    assert (alert["threshold"], alert["unit"]) == (10.0, "ppm")
    assert (alert["opened_ts"], alert["trigger_value"], alert["worst_value"]) == (t12, 12.0, 15.0)
    assert (alert["state"], alert["resolved_ts"]) == ("resolved", t3)
    status = client.get("/api/v1/status", headers=admin_headers).json()
    assert (status["alerts_open"], status["alerts_total"]) == (0, 1)


def test_alert_stays_open_while_the_value_stays_over(client, admin_headers, send):
    """Values that stay over the threshold keep the one episode open; they do not open new alerts."""
    send(12.0, 14.0, 11.0, 16.0)
    alerts = _alerts(client, admin_headers)
    assert [(a["rule"], a["state"], a["worst_value"]) for a in alerts] == [("h2s-low", "open", 16.0)]
    sensors = client.get("/api/v1/sensors", headers=admin_headers).json()
    assert [(s["name"], s["state"]) for s in sensors] == [("tank-3-gas", "alert")]


def test_rising_value_opens_a_separate_alert_for_the_higher_rule(client, admin_headers, send):
    """Rising through 10 then 20 ppm opens h2s-low, then a second, separate h2s-high alert."""
    _, t12, t25 = send(5.0, 12.0, 25.0)
    alerts = _alerts(client, admin_headers)
    assert [(a["rule"], a["state"], a["opened_ts"]) for a in alerts] == [
        ("h2s-low", "open", t12), ("h2s-high", "open", t25)]
    assert alerts[0]["id"] != alerts[1]["id"]
    assert alerts[1]["severity"] == "critical" and alerts[1]["trigger_value"] == 25.0
    (t15,) = send(15.0)
    by_rule = {a["rule"]: a for a in _alerts(client, admin_headers)}
    assert by_rule["h2s-high"]["state"] == "resolved" and by_rule["h2s-high"]["resolved_ts"] == t15
    assert by_rule["h2s-low"]["state"] == "open"


def test_crossing_again_after_resolution_is_a_new_episode(client, admin_headers, send):
    """A second crossing after the first episode resolved opens a new alert."""
    send(12.0, 3.0, 13.0)
    alerts = _alerts(client, admin_headers)
    assert [(a["rule"], a["state"]) for a in alerts] == [("h2s-low", "resolved"), ("h2s-low", "open")]


def test_sensor_fault_readings_neither_open_nor_clear_alerts(client, admin_headers, send):
    """A reading flagged sensor_fault says nothing about the air: 30 ppm opens nothing, 0 ppm clears nothing."""
    send(30.0, flags=("sensor_fault",))
    assert _alerts(client, admin_headers) == []
    (t12,) = send(12.0)
    send(0.0, flags=("sensor_fault",))
    alerts = _alerts(client, admin_headers)
    assert [(a["rule"], a["state"], a["opened_ts"], a["worst_value"]) for a in alerts] == [
        ("h2s-low", "open", t12, 12.0)]


def test_simulated_readings_do_raise_alerts(client, admin_headers, send):
    """`simulated` is not an unreliability flag: a simulated leak raises alerts (the demo depends on it)."""
    send(12.0, flags=("simulated",))
    assert [a["rule"] for a in _alerts(client, admin_headers)] == ["h2s-low"]


def test_readings_within_one_batch_are_evaluated_in_time_order(client, agent_headers, admin_headers):
    """A batch whose readings arrive out of order is evaluated by ts: 3 ppm last resolves the alert."""
    t = now_ms() - 60_000
    readings = [reading(value=3.0, ts=t + 3000), reading(value=12.0, ts=t + 1000), reading(value=15.0, ts=t + 2000)]
    assert client.post("/api/v1/ingest", content=batch(1, readings), headers=agent_headers).status_code == 200
    alerts = _alerts(client, admin_headers)
    assert [(a["state"], a["opened_ts"], a["worst_value"], a["resolved_ts"]) for a in alerts] == [
        ("resolved", t + 1000, 15.0, t + 3000)]


def test_built_in_rules_alert_on_h2s_at_10_ppm(tmp_path, database_url):
    """With no rules file, the built-in rules open a warning for H2S at or above 10 ppm, and none below."""
    from fastapi.testclient import TestClient

    from tests.server.api_kit import agent_token, bearer, user_token

    app = create_app(Settings(data_dir=tmp_path, database_url=database_url), migrate=True)
    with TestClient(app) as client:
        agent, admin = bearer(agent_token(app)), bearer(user_token(app, "admin", "admin"))
        t = now_ms() - 60_000
        r = client.post("/api/v1/ingest", content=batch(1, [reading("calm", value=2.0, ts=t),
                                                            reading("leaky", value=12.0, ts=t)]), headers=agent)
        assert r.status_code == 200, r.text
        alerts = client.get("/api/v1/alerts", headers=admin).json()
    assert [(a["sensor"], a["quantity"], a["severity"], a["threshold"], a["unit"], a["state"]) for a in alerts] == [
        ("leaky", "h2s", "warning", 10.0, "ppm", "open")]
