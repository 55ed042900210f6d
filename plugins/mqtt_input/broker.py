"""The site broker, through aiomqtt: the only module of this plugin that imports it.

`subscription(options, topics)` connects, subscribes and gives an async iterator of `IncomingMessage`; every
connection problem (refused, lost, bad credentials, TLS failure) comes out as one exception, `BrokerError`.

A *persistent* session (MQTT 3.1.1 clean session off, or MQTT 5 clean start off with a session expiry) keeps the
subscription and every QoS 1/2 message at the broker while the agent is away or busy; messages are acknowledged
by hand (paho's manual ack: `IncomingMessage.ack()`), only once what they carry is durably in the outbox. A
*clean* session acknowledges on receipt and keeps nothing while the agent is away.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


class BrokerError(Exception):
    """The broker cannot be reached, refused us, or went away."""


def _no_ack() -> None:
    return None


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    topic: str
    payload: bytes
    retained: bool
    ack: Callable[[], None] = _no_ack  # call once the message's readings are durable (persistent sessions)


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
    persistent: bool = False
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    session_expiry_s: int = 86_400


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

    def __init__(self, client: aiomqtt.Client, *, manual_ack: bool) -> None:
        self._messages = client.messages
        self._paho = client._client  # the paho client: manual acks are not in aiomqtt's API
        self._manual_ack = manual_ack

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
        if not self._manual_ack or message.qos == 0:
            return IncomingMessage(str(message.topic), bytes(payload), bool(message.retain))
        paho, mid, qos = self._paho, message.mid, message.qos

        def ack() -> None:
            paho.ack(mid, qos)  # a lost connection makes this a no-op: the broker sends the message again

        return IncomingMessage(str(message.topic), bytes(payload), bool(message.retain), ack)


@contextlib.asynccontextmanager
async def subscription(options: BrokerOptions, topics: Sequence[str], *, qos: int) -> AsyncIterator[Messages]:
    """Connect, subscribe to `topics`, and yield the message stream. Disconnects on exit."""
    v5 = options.protocol == "5"
    properties = None
    if v5 and options.persistent:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = options.session_expiry_s
    session: dict[str, Any] = (
        {"protocol": aiomqtt.ProtocolVersion.V5, "clean_start": not options.persistent, "properties": properties}
        if v5 else {"protocol": aiomqtt.ProtocolVersion.V311, "clean_session": not options.persistent}
    )
    client = aiomqtt.Client(
        options.host,
        options.port,
        username=options.username,
        password=options.password,
        identifier=options.client_id,
        **session,
        tls_context=tls_context(options),
        keepalive=options.keepalive_s,
        timeout=options.timeout_s,
    )
    client._client.manual_ack_set(options.persistent)
    try:
        async with client:
            for topic_filter in topics:
                await client.subscribe(topic_filter, qos=qos)
            yield Messages(client, manual_ack=options.persistent)
    except aiomqtt.MqttError as exc:
        raise BrokerError(str(exc)) from exc
