"""The site broker, through aiomqtt: the only module of this plugin that imports it.

`subscription(options, topics)` connects, subscribes and gives an async iterator of `IncomingMessage`; every
connection problem (refused, lost, bad credentials, TLS failure) comes out as one exception, `BrokerError`.
Sessions are clean: what was published while the agent was away is not replayed with a wrong receive time.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt


class BrokerError(Exception):
    """The broker cannot be reached, refused us, or went away."""


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    topic: str
    payload: bytes
    retained: bool


@dataclass(frozen=True, slots=True)
class BrokerOptions:
    host: str
    port: int
    tls: bool = False
    tls_ca_file: Path | None = None
    tls_insecure: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str | None = None
    keepalive_s: int = 60
    timeout_s: float = 10.0


def tls_context(options: BrokerOptions) -> ssl.SSLContext | None:
    """The TLS context for mqtts (system CAs, or `tls_ca_file`); None for plain MQTT."""
    if not options.tls:
        return None
    context = ssl.create_default_context(cafile=str(options.tls_ca_file) if options.tls_ca_file else None)
    if options.tls_insecure:
        context.check_hostname = False  # testing only: a certificate whose name does not match the host
    return context


class Messages:
    """The messages of one connection; raises BrokerError when the connection is lost."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self._messages = client.messages

    def __aiter__(self) -> Messages:
        return self

    async def __anext__(self) -> IncomingMessage:
        try:
            message = await self._messages.__anext__()
        except aiomqtt.MqttError as exc:
            raise BrokerError(str(exc)) from exc
        payload = message.payload
        if isinstance(payload, str):
            payload = payload.encode()
        elif not isinstance(payload, bytes | bytearray):
            payload = str(payload).encode() if payload is not None else b""
        return IncomingMessage(str(message.topic), bytes(payload), bool(message.retain))


@contextlib.asynccontextmanager
async def subscription(options: BrokerOptions, topics: Sequence[str], *, qos: int) -> AsyncIterator[Messages]:
    """Connect, subscribe to `topics`, and yield the message stream. Disconnects on exit."""
    client = aiomqtt.Client(
        options.host,
        options.port,
        username=options.username,
        password=options.password,
        identifier=options.client_id,
        clean_session=True,
        tls_context=tls_context(options),
        keepalive=options.keepalive_s,
        timeout=options.timeout_s,
    )
    try:
        async with client:
            for topic_filter in topics:
                await client.subscribe(topic_filter, qos=qos)
            yield Messages(client)
    except aiomqtt.MqttError as exc:
        raise BrokerError(str(exc)) from exc
