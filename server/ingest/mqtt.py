"""MQTT ingest: the only server module that speaks MQTT. Started in the app's lifespan when HAZMON_MQTT_URL
is set.

Topics: `.../batch` (readings), `.../status` (agent status), `.../alarm` (edge alarm events). On the agent's
`.../ack` topic the server answers `{"acked_seq": N}` for batches and `{"acked_alarms": [ids]}` for alarms.

For each batch message: validate, deduplicate on (agent, seq), commit, then publish `{"acked_seq": N}` to the
agent's ack topic. A malformed or refused message is logged and counted and never stops the consumer. With
`HAZMON_MQTT_SHARED_GROUP` set, the subscriptions are MQTT 5 shared subscriptions
(`$share/<group>/...`), so several server replicas split the load.

Resuming after a restart: once subscribed, the server publishes a hello (`hazmon/v1/_server/hello`); agents send
what they had in flight again at once (it was published while no server listened), so delivery resumes within
a second or two instead of after their ack timeout. While the broker is down, the reconnect backoff (full
jitter, up to `HAZMON_RETRY_MAX_S`) is cut short as soon as the broker accepts connections again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

import aiomqtt
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from exposure import InvalidInput, strict_json
from exposure.wire import (
    AGENT_LEAVES,
    AUTH_PROPERTY,
    MQTT_SOCKET_OPTIONS,
    SERVER_HELLO_TOPIC,
    Ack,
    encode_refusal,
    parse_topic,
    token_of,
    topic,
    topic_filter,
)
from server.accounts.audit import audit
from server.alerts.edge_alarms import EdgeAlarmsIn, record_edge_alarms
from server.alerts.service import Alerting
from server.counters import Counters
from server.errors import safe_traceback
from server.events import Events
from server.ingest.agents import agent_of_token
from server.ingest.service import IngestRefused, accept_batch
from server.ingest.status import StatusReport, store_status
from server.series.sensors import SensorNotOwned
from server.settings import Settings

log = logging.getLogger(__name__)

class MqttIngest:
    def __init__(
        self,
        settings: Settings,
        *,
        sessions: sessionmaker[Session],
        alerting: Alerting,
        events: Events,
        counters: Counters,
        clock: Callable[[], int],
    ) -> None:
        url = urlsplit(settings.mqtt_url)
        self.settings = settings
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or (8883 if url.scheme == "mqtts" else 1883)
        self.tls = url.scheme == "mqtts"
        self.username = unquote(url.username) if url.username else None
        self.password = unquote(url.password) if url.password else None
        self.sessions = sessions
        self.alerting = alerting
        self.events = events
        self.counters = counters
        self.clock = clock
        self.connected = asyncio.Event()

    def _tls(self) -> aiomqtt.TLSParameters | None:
        if not self.tls:
            return None
        ca = self.settings.mqtt_ca_file
        return aiomqtt.TLSParameters(ca_certs=str(ca) if ca else None)

    def subscriptions(self) -> list[str]:
        group = self.settings.mqtt_shared_group
        prefix = f"$share/{group}/" if group else ""
        return [f"{prefix}{topic_filter(leaf)}" for leaf in AGENT_LEAVES]

    async def run(self) -> None:
        cap = 0.5
        while True:
            try:
                async with aiomqtt.Client(
                    self.host,
                    self.port,
                    username=self.username,
                    password=self.password,
                    identifier=self.settings.mqtt_client_id or f"hazmon-server-{socket.gethostname()}-{os.getpid()}",
                    protocol=aiomqtt.ProtocolVersion.V5,
                    tls_params=self._tls(),
                    socket_options=MQTT_SOCKET_OPTIONS,
                    keepalive=30,
                    timeout=10,
                ) as client:
                    for sub in self.subscriptions():
                        await client.subscribe(sub, qos=1)
                    await client.publish(SERVER_HELLO_TOPIC, b"{}", qos=1)
                    self.connected.set()
                    cap = 0.5
                    log.info("mqtt ingest: subscribed on %s:%d", self.host, self.port)
                    async for message in client.messages:
                        await self._handle(client, message)
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                self.counters.add("mqtt_disconnects")
                delay = random.uniform(cap / 2, cap)
                log.warning("mqtt ingest: %s; reconnecting in %.1f s (sooner if the broker was down)", exc, delay)
                await self._wait_to_retry(delay)
                cap = min(cap * 2, self.settings.retry_max_s)

    async def _wait_to_retry(self, delay_s: float, poll_s: float = 1.0) -> None:
        """Sleep `delay_s`; but while the broker does not accept connections (it is down or restarting), return
        as soon as it does. A broker that accepts connections but failed the attempt gets the whole delay."""
        if await self._reachable():
            await asyncio.sleep(delay_s)
            return
        remaining = delay_s
        while remaining > 0:
            step = min(poll_s, remaining)
            await asyncio.sleep(step)
            remaining -= step
            if await self._reachable():
                return

    async def _reachable(self) -> bool:
        try:
            async with asyncio.timeout(1.0):  # not wait_for: it can lose a cancellation (Python 3.11)
                _, writer = await asyncio.open_connection(self.host, self.port)
        except (OSError, TimeoutError):
            return False
        writer.close()
        return True

    async def _handle(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        parsed = parse_topic(message.topic.value)
        if parsed is None or parsed[2] not in AGENT_LEAVES:
            self.counters.add("mqtt_rejected_topic")
            return
        site, agent, leaf = parsed
        payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
        try:
            checked = await asyncio.to_thread(self._check_token, site, agent, leaf, _token(message))
            if isinstance(checked, str):  # refused: the agent hears why on its ack topic (HTTP's 401)
                if leaf != "status":
                    await client.publish(topic(site, agent, "ack"), encode_refusal(checked), qos=1)
                return
            if leaf == "batch":
                acked = await asyncio.to_thread(self._ingest, checked, site, agent, payload)
                if acked is not None:
                    await client.publish(topic(site, agent, "ack"), Ack(acked_seq=acked).encode(), qos=1)
            elif leaf == "alarm":
                ids = await asyncio.to_thread(self._alarms, checked, site, agent, payload)
                if ids:
                    await client.publish(topic(site, agent, "ack"), Ack(acked_alarms=tuple(ids)).encode(), qos=1)
            else:
                await asyncio.to_thread(self._status, checked, payload)
        except aiomqtt.MqttError:
            raise
        except Exception as exc:  # a bug or a database fault: counted, logged (no message), the consumer goes on
            self.counters.add("mqtt_handler_errors")
            log.error("mqtt ingest: message on %s failed: %s", message.topic.value, safe_traceback(exc))

    def _check_token(self, site: str, agent: str, leaf: str, token: str | None) -> int | str:
        """The agent's id when the message carries a valid token of the agent its topic names; otherwise why it
        is refused, counted, logged (never the token) and audited as HTTP's refusals are (`request_denied`).
        Checked on every message, so a revoked token is refused at its next message."""
        with self.sessions() as session:
            principal = agent_of_token(session, token, now_ms=self.clock()) if token else None
            if principal is not None and (principal.site, principal.name) == (site, agent):
                return principal.agent_id
            if principal is not None:
                actor, why = f"agent:{principal.site}/{principal.name}", f"a token of another agent than {site}/{agent}"
            elif token is None:
                actor, why = "anonymous", "no agent token"
            else:
                actor, why = "unknown token", "not a valid agent token (unknown, revoked or expired)"
            audit(session, ts_ms=self.clock(), actor=actor[:128], action="request_denied",
                  target=f"MQTT {topic(site, agent, leaf)}"[:256], detail=why)
            session.commit()
        self.counters.add("mqtt_rejected_token")
        log.warning("mqtt ingest: %s from %s/%s refused: %s", leaf, site, agent, why)
        return why

    def _ingest(self, agent_id: int, site: str, agent: str, payload: bytes) -> int | None:
        with self.sessions() as session:
            try:
                result = accept_batch(
                    session,
                    agent_id=agent_id,
                    site=site,
                    agent=agent,
                    body=payload,
                    alerting=self.alerting,
                    events=self.events,
                    now_ms=self.clock(),
                    max_future_ms=self.settings.max_future_s * 1000,
                    late_after_ms=self.settings.late_after_s * 1000,
                    counters=self.counters,
                )
            except IngestRefused as exc:
                log.warning("mqtt ingest: batch from %s/%s refused (%d): %s", site, agent, exc.status, exc.detail)
                return None
            return result.acked_seq

    def _alarms(self, agent_id: int, site: str, agent: str, payload: bytes) -> list[str]:
        """Edge alarm events (`{"events": [...]}`, as POST /api/v1/edge-alarms takes them)."""
        try:
            strict_json.loads(payload)  # as the HTTP route's guard: depth, NaN, 64-bit integers, surrogates
            body = EdgeAlarmsIn.model_validate_json(payload)
        except (InvalidInput, ValidationError):
            self.counters.add("mqtt_rejected_alarm")
            return []
        with self.sessions() as session:
            try:
                return record_edge_alarms(
                    session,
                    agent_id=agent_id,
                    site=site,
                    agent=agent,
                    events=body.events,
                    alerting=self.alerting,
                    now_ms=self.clock(),
                    late_after_ms=self.settings.late_after_s * 1000,
                )
            except SensorNotOwned:
                session.rollback()
                self.counters.add("edge_alarms_rejected_not_owner")
                return []

    def _status(self, agent_id: int, payload: bytes) -> None:
        try:
            report = StatusReport.model_validate_json(payload)
        except ValidationError:
            self.counters.add("mqtt_rejected_status")
            return
        with self.sessions() as session:
            store_status(session, agent_id, report, now_ms=self.clock())
            session.commit()


def _token(message: aiomqtt.Message) -> str | None:
    """The bearer token in a message's `authorization` user property (MQTT 5), or None."""
    pairs = getattr(message.properties, "UserProperty", None) or []
    return token_of(next((v for k, v in pairs if k.lower() == AUTH_PROPERTY), None))
