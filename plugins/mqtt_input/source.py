"""The MQTT input source: subscribe to a site broker and turn JSON payloads into readings."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path as FilePath
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from agent.backoff import Backoff
from agent.probe import SourceCounters
from agent.sources import Held, Source, SourceConfig
from exposure import Reading
from exposure.quantities import canonical_unit, unit_for
from plugins.mqtt_input.broker import BrokerError, BrokerOptions, subscription
from plugins.mqtt_input.decode import (
    IfMissing,
    MessageRules,
    SensorTemplate,
    TimestampFormat,
    TimestampRule,
    ValueRule,
    check_filter,
    check_template,
    decode_message,
)
from plugins.mqtt_input.paths import PathSyntaxError, parse_path
from plugins.mqtt_input.presets import PRESETS

log = logging.getLogger(__name__)


class Mapping(BaseModel):
    """One value of the payload and the reading it becomes (value * scale + offset)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description='where the value is: PMS5003."PM2.5", values[0], $ (see paths.py)')
    quantity: str
    unit: str
    scale: float = 1.0
    offset: float = 0.0
    interval_s: float | None = Field(default=None, gt=0, description="integration time (laeq), else unset")
    topic: str | None = Field(default=None, description="apply only to messages matching this topic filter")
    if_missing: IfMissing = Field(default="count", description="count: a missing path is counted; skip: ignored")

    @model_validator(mode="after")
    def _check(self) -> Mapping:
        try:
            parse_path(self.path)
        except PathSyntaxError as exc:
            raise ValueError(str(exc)) from None
        unit_for(self.quantity, self.unit)
        if self.topic is not None:
            check_filter(self.topic)
        return self

    def rule(self) -> ValueRule:
        return ValueRule(
            path=parse_path(self.path),
            quantity=self.quantity,
            unit=canonical_unit(self.unit) or self.unit,
            scale=self.scale,
            offset=self.offset,
            interval_s=self.interval_s,
            topic=self.topic,
            if_missing=self.if_missing,
        )


class MqttInputConfig(SourceConfig):
    type: Literal["mqtt_input"] = "mqtt_input"
    url: str = Field(pattern=r"^mqtts?://[^/]+/?$", description="mqtt://host[:1883] or mqtts://host[:8883] (TLS)")
    tls: bool = Field(default=False, description="TLS on an mqtt:// URL (mqtts:// always uses TLS)")
    tls_ca_file: FilePath | None = Field(default=None, description="CA bundle (default: the system's)")
    tls_insecure: bool = Field(default=False, description="skip the broker's host name check (testing only)")
    username: str | None = None
    password: SecretStr | None = None
    client_id: str | None = Field(
        default=None, description="default: hazmon-<host>-<name> (persistent session), a random id (clean)")
    session: Literal["auto", "persistent", "clean"] = Field(
        default="auto",
        description="persistent: the broker keeps messages while the agent is away, each acknowledged once it is "
                    "in the outbox; needs timestamp_path (a replayed message keeps its own time). auto: "
                    "persistent when timestamp_path is set, else clean",
    )
    protocol: Literal["3.1.1", "5"] = Field(default="3.1.1", description="MQTT protocol version")
    session_expiry_s: int = Field(default=86_400, ge=60, le=30 * 86_400,
                                  description="MQTT 5: how long the broker keeps a persistent session")
    topics: list[str] = Field(default_factory=list, description="subscription filters (+ and # allowed)")
    qos: Literal[0, 1, 2] = 1
    sensor: str = Field(default="{name}", description="sensor id: text with {name} and {topic[n]}")
    timestamp_path: str | None = Field(default=None, description="unset: the receive time (agent clock)")
    timestamp_format: TimestampFormat = "iso8601"
    timestamp_timezone: str | None = Field(default=None, description="IANA zone for ISO times without offset")
    preset: Literal["tasmota", "zigbee2mqtt"] | None = None
    mappings: list[Mapping] = Field(default_factory=list)
    max_payload_bytes: int = Field(default=65_536, ge=16, le=16 * 1024 * 1024)
    keepalive_s: int = Field(default=60, ge=5, le=3600)
    connect_timeout_s: float = Field(default=10.0, gt=0, le=120)
    reconnect_max_s: float = Field(default=30.0, gt=0, le=3600, description="longest wait between reconnects")

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset") in PRESETS:
            merged = dict(data)
            for key, value in PRESETS[data["preset"]].items():
                if not merged.get(key):  # topics, sensor or mappings given in the config win
                    merged[key] = value
            return merged
        return data

    @field_validator("topics")
    @classmethod
    def _filters(cls, topics: list[str]) -> list[str]:
        for topic_filter in topics:
            check_filter(topic_filter)
        return topics

    @model_validator(mode="after")
    def _complete(self) -> MqttInputConfig:
        if not self.topics:
            raise ValueError("topics is empty: give subscription filters or a preset")
        if not self.mappings:
            raise ValueError("mappings is empty: give mappings or a preset")
        check_template(self.sensor)
        if self.timestamp_path is not None:
            try:
                parse_path(self.timestamp_path)
            except PathSyntaxError as exc:
                raise ValueError(f"timestamp_path: {exc}") from None
        if self.timestamp_timezone is not None:
            try:
                ZoneInfo(self.timestamp_timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timestamp_timezone {self.timestamp_timezone!r}") from None
        if self.session == "persistent" and self.timestamp_path is None:
            raise ValueError("session = \"persistent\" needs timestamp_path: a message the broker kept while the "
                             "agent was away would otherwise get the time it arrived, not the time it was measured")
        return self

    @property
    def persistent(self) -> bool:
        return self.session == "persistent" or (self.session == "auto" and self.timestamp_path is not None)

    def broker_options(self) -> BrokerOptions:
        url = urlsplit(self.url)
        tls = url.scheme == "mqtts" or self.tls
        return BrokerOptions(
            host=url.hostname or "127.0.0.1",
            port=url.port or (8883 if tls else 1883),
            tls=tls,
            tls_ca_file=self.tls_ca_file,
            tls_insecure=self.tls_insecure,
            username=self.username,
            password=self.password.get_secret_value() if self.password else None,
            client_id=self.client_id or (f"hazmon-{socket.gethostname()}-{self.name}"[:128] if self.persistent
                                         else None),
            keepalive_s=self.keepalive_s,
            timeout_s=self.connect_timeout_s,
            persistent=self.persistent and self.qos > 0,
            protocol=self.protocol,
            session_expiry_s=self.session_expiry_s,
        )

    def message_rules(self) -> MessageRules:
        timestamp = None
        if self.timestamp_path is not None:
            tz = ZoneInfo(self.timestamp_timezone) if self.timestamp_timezone else None
            timestamp = TimestampRule(parse_path(self.timestamp_path), self.timestamp_format, tz)
        return MessageRules(
            values=tuple(m.rule() for m in self.mappings),
            sensor=SensorTemplate(self.sensor, self.name),
            timestamp=timestamp,
            max_payload_bytes=self.max_payload_bytes,
        )


class MqttInputSource(Source):
    """A streaming source: one subscription, reconnected with backoff for as long as the broker is away."""

    type_name: ClassVar[str] = "mqtt_input"
    config_model: ClassVar[type[SourceConfig]] = MqttInputConfig
    config: MqttInputConfig

    def __init__(self, config: SourceConfig, **kwargs: object) -> None:
        super().__init__(config, **kwargs)  # type: ignore[arg-type]
        assert isinstance(config, MqttInputConfig)
        self.counters = SourceCounters()
        self.rules = config.message_rules()
        self.connected = False
        self.reconnect_initial_s = 0.5

    def handle(self, topic: str, payload: bytes, *, retained: bool = False) -> list[Reading]:
        """Decode one message and count the outcome. Never raises for a bad payload."""
        decoded = decode_message(
            self.rules, topic=topic, payload=payload, retained=retained, received_ms=self.clock.now_ms()
        )
        if decoded.readings:
            self.counters.frames_ok += 1
        for rejection in decoded.rejections:
            self.counters.bad(rejection.reason)
            self.counters.last_error = rejection.detail
        return list(decoded.readings)

    def for_probe(self) -> MqttInputSource:
        """A clean session with a random id: probing beside the running agent takes nothing from its session."""
        config = self.config.model_copy(update={"session": "clean", "client_id": None})
        return MqttInputSource(config, clock=self.clock)

    async def readings(self) -> AsyncIterator[Reading | Held]:
        options = self.config.broker_options()
        backoff = Backoff(initial_s=self.reconnect_initial_s, max_s=self.config.reconnect_max_s)
        connected_before = False
        while True:
            try:
                async with subscription(options, self.config.topics, qos=self.config.qos) as messages:
                    self.connected = True
                    backoff.reset()
                    if connected_before:
                        self.counters.reopens += 1
                        log.info("mqtt_input %s: connected again to %s:%d", self.name, options.host, options.port)
                    connected_before = True
                    try:
                        async for message in messages:
                            readings = self.handle(message.topic, message.payload, retained=message.retained)
                            if options.persistent:
                                yield Held(tuple(readings), message.ack)
                            else:
                                for reading in readings:
                                    yield reading
                    finally:
                        self.connected = False
            except BrokerError as exc:
                self.counters.error(f"broker {options.host}:{options.port}: {exc}")
                delay = backoff.next_delay()
                log.warning("mqtt_input %s: %s; reconnecting in %.1f s", self.name, exc, delay)
                await self.clock.sleep(delay)
