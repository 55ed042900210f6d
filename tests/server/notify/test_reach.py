"""Nobody left unwarned: with no notification channel the status and the server's start say so; every channel
can be tested (`POST /api/v1/notify/test`, `hazmon server notify test`): a marked test message to each recipient,
and per recipient what happened. Real SMTP (aiosmtpd) and a real webhook receiver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from server.accounts.models import AuditEntry
from tests.kit.ports import free_port
from tests.kit.server import REPO, ServerProcess, hazmon_env
from tests.server.alerts.alert_kit import running_server
from tests.server.notify.test_notifications import notify_file


def test_status_warns_while_no_channel_can_reach_anyone(tmp_path: Path, database_url, smtp, webhook):
    """Without notification settings GET /api/v1/status carries a standing warning; with them, none."""
    with running_server(tmp_path, database_url) as server:
        (warning,) = server.get("/api/v1/status")["warnings"]
        assert warning.startswith("no notification channel: alerts reach nobody")
    with running_server(tmp_path / "b", database_url,
                        notify_file=notify_file(tmp_path, smtp.port, webhook.url)) as server:
        assert server.get("/api/v1/status")["warnings"] == []


def test_notify_test_reaches_smtp_and_webhook_and_names_a_failure(tmp_path: Path, database_url, smtp, webhook):
    """Every member gets a message marked TEST at once: the e-mail arrives by SMTP, the webhook's JSON says
    test; a recipient whose mail server does not answer is reported as not delivered; the run is audited."""
    dead = f"mailto://127.0.0.1:{free_port()}?from=hazmon@example.com&mode=insecure&to=boss@example.com"
    hooks = notify_file(tmp_path, smtp.port, webhook.url)
    hooks.write_text(hooks.read_text().replace(
        'members = [{ name = "boss", url = "mailto://', 'members = [{ name = "boss", url = "' + dead + '"}]\n#'))
    with running_server(tmp_path, database_url, notify_file=hooks) as server:
        results = server.post("/api/v1/notify/test", {"group": "safety"})
        assert [(r["member"], r["delivered"]) for r in results] == [("maria", True), ("ops", True)]
        (subject,) = smtp.subjects()
        assert "[hazmon TEST]" in subject and smtp.messages[0].rcpt_tos == ["maria@example.com"]
        (payload,) = webhook.payloads()
        assert payload["test"] is True and payload["subject"].startswith("[hazmon TEST]")
        every = server.post("/api/v1/notify/test")
        assert {(r["group"], r["member"]): r["delivered"] for r in every}[("managers", "boss")] is False
        assert server.post("/api/v1/notify/test", {"group": "nobody"}, expect=404)
        assert server.post("/api/v1/notify/test", {}, token=server.worker, expect=403)
        with server.session() as s:
            audited = s.execute(select(AuditEntry.actor).where(AuditEntry.action == "notify_test")).scalars().all()
        assert audited == ["maria", "maria"]


@pytest.mark.slow
def test_the_command_tests_every_recipient_and_the_server_warns_at_start(tmp_path: Path, smtp, webhook):
    """`hazmon server notify test` prints one line per recipient (exit 0 when all delivered); `hazmon server run`
    without notification settings says in one line that alerts reach nobody."""
    env = hazmon_env(data_dir=str(tmp_path), notify_file=str(notify_file(tmp_path, smtp.port, webhook.url)))
    done = subprocess.run([sys.executable, "-m", "hazmon", "server", "notify", "test", "--group", "safety"],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["safety/maria (apprise): delivered", "safety/ops (webhook): delivered"]
    assert len(smtp.messages) == 1 and len(webhook.payloads()) == 1
    server = ServerProcess(tmp_path / "bare")
    server.start()
    try:
        lines = [line for line in server.log_text().splitlines() if "alerts reach nobody" in line]
        assert len(lines) == 1
    finally:
        server.stop()
