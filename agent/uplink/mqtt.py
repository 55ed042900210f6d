"""MQTT uplink (MQTT 5, QoS 1, persistent session): the only agent module that speaks MQTT to the server.

Topics (DESIGN §4.3, `exposure.wire`): batches to `hazmon/v1/{site}/{agent}/batch`; the server's
`{"acked_seq": N}` arrives on `.../ack`; edge alarm events go to `.../alarm` as `{"events": [...]}` and are
acknowledged on `.../ack` as `{"acked_alarms": [ids]}`; the retained `.../status` says online (and the Last Will
says offline). Up to `window` batches are in flight at once; a batch or an alarm event not acknowledged within
`ack_timeout_s` is sent again (the server stores each once). A broker PUBACK deletes nothing: only the server's
ack does. Each time the server (re)subscribes it says so on `hazmon/v1/_server/hello`: what is in flight then is
sent again at once (it was published while no server listened). While the broker is down, the next connect is
tried as soon as it accepts connections again (`wait_to_retry`), whatever the backoff has grown to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from agent.alarms.store import AlarmStore
from agent.backoff import Backoff, wait_to_retry
from agent.clock import Clock
from agent.config import MqttUplinkConfig
from agent.outbox import Outbox
from agent.uplink.backlog import LinkLog, log_backlog
from exposure import wire
from exposure.batch import encode_envelope
from exposure.wire import MQTT_SOCKET_OPTIONS, topic

log = logging.getLogger(__name__)


class MqttUplink:
    def __init__(
        self,
        config: MqttUplinkConfig,
        *,
        site: str,
        agent: str,
        outbox: Outbox,
        clock: Clock,
        status: Callable[[], wire.StatusReport],
        alarms: AlarmStore | None = None,
    ) -> None:
        self.config = config
        self.site, self.agent = site, agent
        self.outbox = outbox
        self.clock = clock
        self.status = status
        url = urlsplit(config.url)
        self.host = url.hostname or "127.0.0.1"
        self.tls = url.scheme == "mqtts"
        self.port = url.port or (8883 if self.tls else 1883)
        self.connected = False
        self.link_log = LinkLog(f"{url.scheme}://{self.host}:{self.port}")
        self.sent_batches = 0
        self.last_error: str | None = None
        self._inflight: dict[int, float] = {}  # seq -> monotonic time sent
        self.alarms = alarms
        self._alarms_sent: dict[str, float] = {}  # alarm event id -> monotonic time sent

    def _signed(self, packet: int = PacketTypes.PUBLISH) -> Properties:
        """The properties of every message we publish: our bearer token (wire.AUTH_PROPERTY), which the server
        checks on each message as it does over HTTP."""
        props = Properties(packet)
        props.UserProperty = [(wire.AUTH_PROPERTY, wire.bearer(self.config.token))]
        return props

    async def _publish(self, client: aiomqtt.Client, name: str, payload: bytes, *, retain: bool = False) -> None:
        await client.publish(name, payload, qos=1, retain=retain, properties=self._signed())

    def _client(self) -> aiomqtt.Client:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.config.session_expiry_s
        will = aiomqtt.Will(
            topic(self.site, self.agent, "status"), wire.OFFLINE.encode(), qos=1, retain=True,
            properties=self._signed(PacketTypes.WILLMESSAGE),
        )
        tls_context = None
        if self.tls:
            tls_context = ssl.create_default_context(
                cafile=str(self.config.tls_ca_file) if self.config.tls_ca_file else None
            )
            if self.config.tls_insecure:
                tls_context.check_hostname = False
        return aiomqtt.Client(
            self.host,
            self.port,
            username=self.config.username,
            password=self.config.password,
            identifier=self.config.client_id or f"hazmon-{self.site}-{self.agent}",
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False,
            properties=props,
            will=will,
            tls_context=tls_context,
            socket_options=MQTT_SOCKET_OPTIONS,
            keepalive=30,
            timeout=10,
        )

    async def run(self) -> None:
        backlog = asyncio.create_task(log_backlog(self.outbox, url=self.link_log.url))
        try:
            await self._run()
        finally:
            backlog.cancel()

    async def _run(self) -> None:
        backoff = Backoff(initial_s=0.5, max_s=self.config.retry_max_s)
        while True:
            try:
                async with self._client() as client:
                    await client.subscribe(topic(self.site, self.agent, "ack"), qos=1)
                    await client.subscribe(wire.SERVER_HELLO_TOPIC, qos=1)
                    self.connected = True
                    self._inflight.clear()  # whatever was in flight is sent again: replays are harmless
                    backoff.reset()
                    self.link_log.up()
                    try:
                        async with asyncio.TaskGroup() as group:
                            group.create_task(self._receive_acks(client))
                            group.create_task(self._send(client))
                            group.create_task(self._report_status(client))
                            if self.alarms is not None:
                                group.create_task(self._send_alarms(client))
                    except asyncio.CancelledError:
                        await self._say_offline(client)
                        raise
            except* aiomqtt.MqttError as group_exc:
                self.connected = False
                self.last_error = str(group_exc.exceptions[0])
                delay = backoff.next_delay()
                self.link_log.down(self.last_error, delay)
                await wait_to_retry(delay, host=self.host, port=self.port, sleep=self.clock.sleep)

    async def _receive_acks(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            if message.topic.matches(wire.SERVER_HELLO_TOPIC):
                if self._inflight:
                    log.info("uplink: the server (re)subscribed; sending %d batches in flight again",
                             len(self._inflight))
                self._inflight.clear()
                self._alarms_sent.clear()
                self.outbox.notify_changed()
                continue
            payload = message.payload
            why = wire.refusal(payload) if isinstance(payload, bytes | str) else None
            if why is not None:
                self._refused(why)
                continue
            try:
                if not isinstance(payload, bytes | str):
                    raise ValueError("an ack is JSON text")
                ack = wire.decode_ack(payload)
            except ValueError:
                log.warning("uplink: malformed ack ignored: %r", payload)
                continue
            if ack.acked_alarms is not None and self.alarms is not None:
                await asyncio.to_thread(self.alarms.ack, ack.acked_alarms)
                for i in ack.acked_alarms:
                    self._alarms_sent.pop(i, None)
            if ack.acked_seq is not None:
                await self.outbox.ack_async(ack.acked_seq)
                for seq in [s for s in self._inflight if s <= ack.acked_seq]:
                    del self._inflight[seq]

    def _refused(self, why: str) -> None:
        """The server refused our token (HTTP's 401): say so once per reason, keep every reading in the outbox and
        keep trying, so a new token (hazmon server agent-token create) resumes delivery without a loss."""
        error = f"the server refused this agent's token: {why}"
        if self.last_error != error:
            log.error("uplink: %s; readings stay in the outbox until a valid token is configured", error)
        self.last_error = error

    async def _send(self, client: aiomqtt.Client) -> None:
        batch_topic = topic(self.site, self.agent, "batch")
        while True:
            batches = await asyncio.to_thread(self.outbox.pending, limit=self.config.window)
            now = time.monotonic()
            for batch in batches:
                sent = self._inflight.get(batch.seq)
                if sent is not None and now - sent < self.config.ack_timeout_s:
                    continue
                if sent is not None:
                    log.info(
                        "uplink: batch %d not acknowledged in %.0f s, sending again",
                        batch.seq,
                        self.config.ack_timeout_s,
                    )
                body = encode_envelope(self.site, self.agent, batch.seq, self.clock.now_ms(), batch.readings_json,
                                       first_seq=batches[0].seq, gaps_json=batch.gaps_json)
                await self._publish(client, batch_topic, body)
                self._inflight[batch.seq] = time.monotonic()
                self.sent_batches += 1
            waits = [self.config.ack_timeout_s - (time.monotonic() - t) for t in self._inflight.values()]
            await self.outbox.wait_changed(max(0.05, min([1.0, *waits])))

    async def _send_alarms(self, client: aiomqtt.Client) -> None:
        """Edge alarm events stay in their store until the server acknowledges their ids; resent after the ack
        timeout like batches."""
        assert self.alarms is not None
        alarm_topic = topic(self.site, self.agent, "alarm")
        self._alarms_sent.clear()
        while True:
            now = time.monotonic()
            due = [
                e
                for e in await asyncio.to_thread(self.alarms.pending)
                if now - self._alarms_sent.get(e.id, -1e9) >= self.config.ack_timeout_s
            ]
            if due:
                await self._publish(client, alarm_topic, wire.encode_alarm_events(due))
                for e in due:
                    self._alarms_sent[e.id] = now
            await self.clock.sleep(0.5)

    async def _say_offline(self, client: aiomqtt.Client) -> None:
        """On a clean stop the broker sends no Last Will, so say it ourselves (best effort, bounded)."""
        payload = replace(self.status(), state="offline").encode()
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            async with asyncio.timeout(2.0):
                await self._publish(client, topic(self.site, self.agent, "status"), payload, retain=True)

    async def _report_status(self, client: aiomqtt.Client) -> None:
        status_topic = topic(self.site, self.agent, "status")
        while True:
            payload = self.status().encode()
            await self._publish(client, status_topic, payload, retain=True)
            await self.clock.sleep(self.config.status_interval_s)
