"""The notification settings API never returns a secret in clear: SMTP passwords in apprise URLs, secret URL
parameters and webhook keys are `***`, in the answer to GET and to PUT."""

from __future__ import annotations

from server.notify.redaction import mask_text
from tests.server.api_kit import bearer, user_token

CONFIG = """
[[groups]]
name = "ops"
members = [
  { name = "mail", url = "mailtos://hazmon:SMTP-PASS-123@smtp.example.com?to=ops@example.com" },
  { name = "chat", url = "tgram://bot?token=BOT-TOKEN-456&chat=1" },
  { name = "hook", webhook = "http://127.0.0.1:9/hook", secret = "HOOK-SECRET-789-0123456789" },
]
"""


def test_notify_config_is_returned_with_secrets_masked(app, client):
    """PUT then GET /notify/config: the addresses are there, the password, token and webhook key are not."""
    headers = {**bearer(user_token(app, "maria", "safety_manager")), "content-type": "text/plain"}
    put = client.put("/api/v1/notify/config", content=CONFIG, headers=headers)
    assert put.status_code == 200, put.text
    got = client.get("/api/v1/notify/config", headers=headers)
    for text in (put.text, got.text):
        assert "smtp.example.com" in text and "127.0.0.1:9" in text
        assert not any(s in text for s in ("SMTP-PASS-123", "BOT-TOKEN-456", "HOOK-SECRET-789"))


def test_masking_keeps_what_is_not_secret():
    """User names, hosts and other parameters stay; only the secret parts become ***."""
    assert mask_text("mailtos://u:p@h:25?to=a@b&pass=x&mode=ssl") == "mailtos://u:***@h:25?to=a@b&pass=***&mode=ssl"
    assert mask_text("json://host/path") == "json://host/path"
