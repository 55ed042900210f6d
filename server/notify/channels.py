"""Channels: how one message reaches one target. Built-ins are declared through the server hook spec like any
plugin's: `webhook` (signed JSON POST), `log` (the server log) and `apprise` (every other URL apprise knows:
mailto://, slack://, msteams://, tgram://, ntfy://, SMS gateways ...)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from server.hookspecs import hookimpl

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hazmon-Signature"
KEY_HEADER = "Idempotency-Key"


class DeliveryError(Exception):
    """A channel could not deliver; the queue retries with backoff."""


@dataclass(frozen=True)
class Message:
    key: str
    subject: str
    body: str
    severity: str
    payload: dict[str, Any] = field(default_factory=dict)
    secret: str | None = None
    ts_ms: int = 0


class Channel(ABC):
    """A declaration: `name`, the URL `schemes` it serves, and `send` (raise DeliveryError on failure)."""

    name: ClassVar[str] = ""
    schemes: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def send(self, message: Message, target: str) -> None:
        """Deliver `message` to `target` (a URL of one of `schemes`); raise DeliveryError on failure."""


def sign(secret: str, ts_ms: int, body: bytes) -> str:
    """The webhook signature: `t=<ms>,v1=<hex HMAC-SHA256(secret, "<ms>." + body)>`."""
    mac = hmac.new(secret.encode(), f"{ts_ms}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts_ms},v1={mac}"


def verify(secret: str, header: str, body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        expected = sign(secret, int(parts["t"]), body)
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(expected, header)


class WebhookChannel(Channel):
    name = "webhook"
    schemes = ()

    def __init__(self, *, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s

    def send(self, message: Message, target: str) -> None:
        if not message.secret:
            raise DeliveryError("webhook without a secret")
        body = json.dumps({**message.payload, "key": message.key, "subject": message.subject,
                           "body": message.body, "severity": message.severity}, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", KEY_HEADER: message.key,
                   SIGNATURE_HEADER: sign(message.secret, message.ts_ms, body)}
        try:
            response = httpx.post(target, content=body, headers=headers, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 300:
            raise DeliveryError(f"webhook answered {response.status_code}")


class LogChannel(Channel):
    name = "log"
    schemes = ("log",)

    def send(self, message: Message, target: str) -> None:
        log.warning("notification %s: %s", message.key, message.subject)


class AppriseChannel(Channel):
    """Every URL apprise supports (https://github.com/caronc/apprise/wiki)."""

    name = "apprise"
    schemes = ()

    def send(self, message: Message, target: str) -> None:
        import apprise

        ap = apprise.Apprise()
        if not ap.add(target):
            raise DeliveryError("apprise does not understand this URL")
        if not ap.notify(title=message.subject, body=message.body):
            raise DeliveryError("apprise could not deliver (see the server log)")


@hookimpl
def hazmon_server_notification_channels() -> list[type[Channel]]:
    return [WebhookChannel, LogChannel, AppriseChannel]
