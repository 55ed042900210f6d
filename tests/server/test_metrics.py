"""GET /metrics: the server's own state for Prometheus, read at scrape time: what ingest accepted and refused,
open alerts and watchdogs, the notification queue, the database and the agents; public unless
HAZMON_METRICS_TOKEN is set, then only with that bearer token. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from tests.kit import server_internals
from tests.kit.prometheus import Scrape, parse
from tests.kit.receivers import Receiver
from tests.server.alerts.alert_kit import Server, running_server


def _scrape(server: Server, **headers: str) -> Scrape:
    r = server.client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    return parse(r.text)


def _event(scrape: Scrape, event: str) -> float | None:
    return scrape.value("hazmon_server_events_total", event=event)


def test_metrics_count_what_ingest_accepted_and_refused_and_show_open_alerts(tmp_path: Path, database_url):
    """Three readings in one batch: ingest_readings 3 and ingest_batches 1; a batch refused as invalid is counted
    by its reason; the H2S reading at 25 ppm is an open `h2s` alert at its current severity; the database is up,
    the agent online, and MQTT and InfluxDB, not configured, are not shown."""
    with running_server(tmp_path, database_url) as server:
        server.feed("tank-3-gas", "h2s", "ppm", [1.0, 2.0, 25.0])
        refused = server.client.post("/api/v1/ingest", content=b'{"schema": "hazmon.batch/1"}',
                                     headers={"Authorization": f"Bearer {server.agent_token}"})
        assert refused.status_code == 422
        (alert,) = server.alerts(state="active")
        scrape = _scrape(server)
    assert (_event(scrape, "ingest_readings"), _event(scrape, "ingest_batches")) == (3, 1)
    assert _event(scrape, "ingest_rejected_invalid") == 1
    assert alert["rule"] == "h2s"
    assert scrape.series("hazmon_server_alerts_open") == {
        (("rule", "h2s"), ("severity", alert["current_severity"])): 1}
    assert scrape.value("hazmon_server_watchdogs_open", kind="agent_offline") == 0
    assert scrape.value("hazmon_server_database_up") == 1
    assert scrape.series("hazmon_server_agents") == {(("state", "offline"),): 0, (("state", "online"),): 1}
    assert not {"hazmon_server_mqtt_connected", "hazmon_server_influx_up"} & scrape.names()


def test_an_agent_gone_quiet_is_an_open_watchdog_and_an_offline_agent(tmp_path: Path, database_url):
    """Two minutes without a batch: watchdog.agent_offline is open (watchdogs_open{kind="agent_offline"} 1, and
    in alerts_open under its rule) and the agent counts as offline."""
    with running_server(tmp_path, database_url) as server:
        server.feed("tank-3-gas", "h2s", "ppm", [0.5])
        server.clock.now += 121_000
        assert server_internals.check_watchdogs(server.app, server.clock.now) == (1, 0)
        scrape = _scrape(server)
    assert scrape.value("hazmon_server_watchdogs_open", kind="agent_offline") == 1
    assert scrape.value("hazmon_server_watchdogs_open", kind="sensor_silent") == 0
    assert scrape.value("hazmon_server_alerts_open", rule="watchdog.agent_offline", severity="warning") == 1
    assert scrape.series("hazmon_server_agents") == {(("state", "offline"),): 1, (("state", "online"),): 0}


def _webhook_policy(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "notify.toml"
    path.write_text(f"""
timezone = "UTC"
retry_initial_s = 30
max_attempts = 2

[[groups]]
name = "ops"
members = [{{ name = "ops", webhook = "{url}", secret = "0123456789abcdef0123456789abcdef" }}]

[[policies]]
id = "gas"
hazards = ["h2s"]
min_severity = "warning"
stages = [{{ group = "ops" }}]
""")
    return path


def test_the_notification_queue_shows_pending_retrying_and_failed_deliveries(tmp_path: Path, database_url,
                                                                            webhook: Receiver):
    """An alert's webhook is pending; answered 500 it is retrying (not due for 30 s, so not pending); 30 s later
    it is pending again; a second 500 is its last attempt: failed."""
    webhook.statuses = [500, 500]
    with running_server(tmp_path, database_url, notify_file=_webhook_policy(tmp_path, webhook.url)) as server:

        def queue() -> tuple[float | None, ...]:
            scrape = _scrape(server)
            return tuple(scrape.value(f"hazmon_server_notifications_{state}")
                         for state in ("pending", "retrying", "failed"))

        assert queue() == (0, 0, 0)
        server.feed("tank-3-gas", "h2s", "ppm", [25.0])
        assert queue() == (1, 0, 0)
        server.run_due()
        assert queue() == (0, 1, 0)
        server.clock.now += 30_000
        assert queue() == (1, 1, 0)
        server.run_due()
        assert queue() == (0, 0, 1)
    assert len(webhook.payloads()) == 2


def test_with_a_metrics_token_only_that_bearer_token_may_scrape(tmp_path: Path, database_url):
    """HAZMON_METRICS_TOKEN set: no token, a wrong one or a user's API token get 401 (WWW-Authenticate: Bearer);
    the metrics token gets the metrics."""
    token = "prometheus-scrape-token-1"
    with running_server(tmp_path, database_url, metrics_token=token) as server:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {server.manager}"}):
            r = server.client.get("/metrics", headers=headers)
            assert r.status_code == 401, headers
            assert r.headers["www-authenticate"] == "Bearer"
            assert "hazmon_server" not in r.text
        scrape = _scrape(server, Authorization=f"Bearer {token}")
    assert scrape.value("hazmon_server_database_up") == 1


def test_metrics_hold_no_personal_data(tmp_path: Path, database_url):
    """A worker rule's open alert names its worker in the database; /metrics shows its rule, never the worker."""
    with running_server(tmp_path, database_url) as server:
        server.feed("tank-3-gas", "h2s", "ppm", [25.0])
        with server.session() as s:
            s.execute(text("UPDATE alerts SET worker = 'w-001'"))
            s.commit()
        r = server.client.get("/metrics")
    assert r.status_code == 200
    assert "w-001" not in r.text and "worker" not in r.text
