"""Notifications: real SMTP through apprise, a signed webhook, repeat until acknowledged, escalation, quiet hours,
retries with backoff, and a queue that survives a restart without sending anything twice."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from server.notify.channels import SIGNATURE_HEADER, verify
from server.notify.models import NotificationJob
from server.notify.policies import NotifyConfig
from server.notify.service import Notifier
from server.plugin_manager import build_server_plugins
from tests.server.alerts.alert_kit import T0, running_server

SECRET = "s3cret-webhook-key-0123456789"


def notify_file(tmp_path: Path, smtp_port: int, hook_url: str, *, extra: str = "", repeat: float = 5,
                quiet: str = "") -> Path:
    mail = f"mailto://127.0.0.1:{smtp_port}?from=hazmon@example.com&mode=insecure&to="
    path = tmp_path / "notify.toml"
    path.write_text(f"""
timezone = "UTC"
public_url = "http://hazmon.test"
retry_initial_s = 30

[[groups]]
name = "safety"
{quiet}
members = [
  {{ name = "maria", url = "{mail}maria@example.com" }},
  {{ name = "ops", webhook = "{hook_url}", secret = "{SECRET}" }},
]

[[groups]]
name = "managers"
members = [{{ name = "boss", url = "{mail}boss@example.com" }}]

[[policies]]
id = "gas"
hazards = ["h2s", "o2*", "o2"]
min_severity = "warning"
repeat_every_min = {repeat}
stages = [{{ group = "safety" }}, {{ group = "managers", after_min = 10 }}]
{extra}
""")
    return path


def jobs(server, **where):  # type: ignore[no-untyped-def]
    with server.session() as s:
        q = select(NotificationJob)
        for k, v in where.items():
            q = q.where(getattr(NotificationJob, k) == v)
        return list(s.execute(q.order_by(NotificationJob.id)).scalars())


def test_email_reaches_a_real_smtp_server_through_apprise(tmp_path, database_url, smtp, webhook):
    """An alert is mailed through apprise's mailto:// to a real SMTP server within one delivery step."""
    with running_server(tmp_path, database_url, notify_file=notify_file(tmp_path, smtp.port, webhook.url)) as server:
        server.feed("tank-h2s", "h2s", "ppm", [25])
        stats = server.run_due()
        assert stats.sent == 2 and stats.failed == 0
        assert smtp.messages[0].rcpt_tos == ["maria@example.com"]
        assert smtp.subjects()[0].startswith("[CRITICAL] Hydrogen sulfide: 25 ppm at plant-a/tank-h2s")


def test_webhook_is_signed_with_hmac_sha256(tmp_path, database_url, smtp, webhook):
    """The webhook's JSON body carries the alert and a signature header the receiver can verify."""
    with running_server(tmp_path, database_url, notify_file=notify_file(tmp_path, smtp.port, webhook.url)) as server:
        server.feed("tank-h2s", "h2s", "ppm", [25])
        server.run_due()
        [(headers, body)] = webhook.requests
        assert verify(SECRET, headers[SIGNATURE_HEADER], body)
        assert not verify("another-secret-0123456789", headers[SIGNATURE_HEADER], body)
        assert not verify(SECRET, headers[SIGNATURE_HEADER], body.replace(b"25", b"26"))
        payload = webhook.payloads()[0]
        assert payload["alert"]["sensor"] == "tank-h2s" and payload["alert"]["severity"] == "critical"
        assert headers["Idempotency-Key"] == payload["key"]


def test_repeat_until_acknowledged_then_stop(tmp_path, database_url, smtp, webhook):
    """Stage 1 is reminded every repeat interval while the alert is unacknowledged; an ack stops it."""
    with running_server(tmp_path, database_url, notify_file=notify_file(tmp_path, smtp.port, webhook.url)) as server:
        server.feed("s1", "h2s", "ppm", [25])
        server.run_due()
        for _ in range(2):
            server.clock.now += 5 * 60_000
            server.run_due()
        assert any(s.startswith("[REPEAT 2, NOT ACKNOWLEDGED]") for s in smtp.subjects())
        assert len(webhook.requests) == 3
        alert_id = server.alerts()[0]["id"]
        server.post(f"/api/v1/alerts/{alert_id}/acknowledge", {"note": "handling"})
        server.clock.now += 30 * 60_000
        server.run_due()
        assert len(webhook.requests) == 3
        assert {j.state for j in jobs(server, kind="repeat")} == {"sent", "cancelled"}
        assert {j.state for j in jobs(server, kind="escalate")} == {"sent"}  # it was due at 10 min, before the ack


def test_escalation_to_stage_2_after_n_minutes_unacknowledged(tmp_path, database_url, smtp, webhook):
    """Unacknowledged for 10 minutes: the managers' group is notified, marked as an escalation."""
    with running_server(tmp_path, database_url,
                        notify_file=notify_file(tmp_path, smtp.port, webhook.url, repeat=0)) as server:
        server.feed("s1", "h2s", "ppm", [25])
        server.run_due()
        server.clock.now += 9 * 60_000
        server.run_due()
        assert all(m.rcpt_tos == ["maria@example.com"] for m in smtp.messages)
        server.clock.now += 60_000
        server.run_due()
        assert smtp.messages[-1].rcpt_tos == ["boss@example.com"]
        assert smtp.subjects()[-1].startswith("[ESCALATION stage 2]")


def test_severity_rise_notifies_again_as_a_new_step(tmp_path, database_url, smtp, webhook):
    """Each rise of severity within an episode is notified, saying what it was raised from."""
    with running_server(tmp_path, database_url,
                        notify_file=notify_file(tmp_path, smtp.port, webhook.url, repeat=0)) as server:
        server.feed("s1", "h2s", "ppm", [12])
        server.run_due()
        server.feed("s1", "h2s", "ppm", [25])
        server.run_due()
        assert [p["alert"]["severity"] for p in webhook.payloads()] == ["warning", "critical"]
        assert "[RAISED from warning]" in smtp.subjects()[-1]


def test_quiet_hours_hold_warnings_but_never_critical(tmp_path, database_url, smtp, webhook):
    """During quiet hours a warning waits until they end; a critical alert goes out at once."""
    quiet = 'quiet_hours = { start = "09:00", end = "12:00" }'  # T0 is 10:00 UTC
    with running_server(tmp_path, database_url, notify_file=notify_file(
            tmp_path, smtp.port, webhook.url, repeat=0, quiet=quiet)) as server:
        server.feed("a", "h2s", "ppm", [12])
        server.run_due()
        assert webhook.requests == []
        server.feed("b", "h2s", "ppm", [25])
        server.run_due()
        assert [p["alert"]["sensor"] for p in webhook.payloads()] == ["b"]
        server.clock.now = T0 + 2 * 3_600_000
        server.run_due()
        assert [p["alert"]["sensor"] for p in webhook.payloads()] == ["b", "a"]


def test_failed_delivery_is_retried_with_backoff_and_logged(tmp_path, database_url, smtp, webhook):
    """A webhook answering 500 is retried after 30 s, then 60 s; every attempt is in the delivery log."""
    webhook.statuses = [500, 503]
    with running_server(tmp_path, database_url,
                        notify_file=notify_file(tmp_path, smtp.port, webhook.url, repeat=0)) as server:
        server.feed("s1", "h2s", "ppm", [25])
        assert server.run_due().retried == 1
        server.clock.now += 29_000
        assert server.run_due().retried == 0 and len(webhook.requests) == 1
        server.clock.now += 1_000
        assert server.run_due().retried == 1
        server.clock.now += 60_000
        assert server.run_due().sent == 1
        alert_id = server.alerts()[0]["id"]
        log = server.get(f"/api/v1/alerts/{alert_id}/deliveries/log")
        hook = [x for x in log if ":ops" in x["key"]]
        assert [x["ok"] for x in hook] == [False, False, True]
        assert "500" in hook[0]["error"]


def test_late_alert_notification_says_late_data(tmp_path, database_url, smtp, webhook):
    """An alert opened by late readings is notified as late data, not as a live alarm."""
    with running_server(tmp_path, database_url,
                        notify_file=notify_file(tmp_path, smtp.port, webhook.url, repeat=0)) as server:
        server.clock.now += 3_600_000
        server.feed("s1", "h2s", "ppm", [25], start=server.clock.now - 3_000_000)
        server.run_due()
        assert smtp.subjects()[0].startswith("[LATE DATA]")
        assert webhook.payloads()[0]["late"] is True
        assert "not a live alarm" in webhook.payloads()[0]["body"]


def test_pending_notifications_survive_a_restart_and_are_sent_once(tmp_path, database_url, smtp, webhook):
    """Jobs and escalation timers written before a restart are delivered after it, each exactly once."""
    nf = notify_file(tmp_path, smtp.port, webhook.url, repeat=0)
    with running_server(tmp_path, database_url, notify_file=nf) as server:
        server.feed("s1", "h2s", "ppm", [25])
        server.feed("s1", "h2s", "ppm", [25])  # a replay or a second reading schedules nothing new
        assert len(jobs(server)) == 3
    with running_server(tmp_path, database_url, notify_file=nf) as server:
        server.clock.now += 11 * 60_000
        server.run_due()
        server.run_due()
        assert len(webhook.requests) == 1
        assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["boss@example.com", "maria@example.com"]
        with server.session() as s:
            assert s.execute(select(func.count()).select_from(NotificationJob)
                             .where(NotificationJob.state == "sent")).scalar_one() == 3


def test_a_plugin_adds_a_channel_through_the_server_hook(tmp_path, monkeypatch):
    """A module implementing hazmon_server_notification_channels adds a channel chosen by its URL scheme."""
    module = tmp_path / "hazmon_test_pager.py"
    module.write_text(
        "from server.hookspecs import hookimpl\nfrom server.notify.channels import Channel\n"
        "SENT = []\nclass Pager(Channel):\n    name = 'pager'\n    schemes = ('pager',)\n"
        "    def send(self, message, target):\n        SENT.append((target, message.subject))\n"
        "@hookimpl\ndef hazmon_server_notification_channels():\n    return [Pager]\n")
    monkeypatch.syspath_prepend(tmp_path)
    plugins = build_server_plugins(load_entry_points=False, extra_modules=("hazmon_test_pager",))
    assert not plugins.failures
    assert {"webhook", "log", "apprise", "pager"} <= set(plugins.notification_channels())
    notifier = Notifier(NotifyConfig(), channels=plugins.notification_channels(), clock=lambda: 0)
    assert type(notifier.channel_for("pager://duty", False)).__name__ == "Pager"
    assert type(notifier.channel_for("mailto://x@y", False)).__name__ == "AppriseChannel"


def test_a_broken_channel_plugin_is_reported_not_fatal(tmp_path, monkeypatch):
    """A plugin declaring something that is not a Channel is listed as a failure; the built-ins still load."""
    module = tmp_path / "hazmon_bad_channel.py"
    module.write_text("from server.hookspecs import hookimpl\n@hookimpl\n"
                      "def hazmon_server_notification_channels():\n    return [object]\n")
    monkeypatch.syspath_prepend(tmp_path)
    plugins = build_server_plugins(load_entry_points=False, extra_modules=("hazmon_bad_channel",))
    channels = plugins.notification_channels()
    assert "apprise" in channels and plugins.failures[0].plugin == "hazmon_bad_channel"
