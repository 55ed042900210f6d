"""MQTT messages to readings: pure, no I/O, time is an argument.

A message is (topic, payload bytes, retained flag), received at `received_ms` on the agent clock. The payload is
parsed as JSON (a bare number such as ESPHome's `27.00` is JSON too); each value rule whose topic filter matches
picks one value by its path (`plugins.mqtt_input.paths`) and becomes one reading. Nothing here ever makes a value
up: a missing, non-numeric or non-finite value is a `Rejection` with a stable reason, never a 0.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Literal

from exposure import Reading
from exposure.quantities import implausible
from exposure.readings import MAX_FUTURE_MS
from plugins.mqtt_input.paths import Path, PathNotFound

IfMissing = Literal["count", "skip"]
TimestampFormat = Literal["iso8601", "epoch_s", "epoch_ms"]

SENSOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # the same rule as a source name
_NUMBER = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$")
_TEMPLATE_PART = re.compile(r"\{(name|topic\[(-?\d+)\])\}")
_MIN_TS_MS = 946_684_800_000  # 2000-01-01: an older time is an unset device clock (Tasmota before NTP: 1970)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why (part of) a message gave no reading. `reason` is a stable counter key."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Decoded:
    readings: tuple[Reading, ...]
    rejections: tuple[Rejection, ...]


@dataclass(frozen=True, slots=True)
class ValueRule:
    """One value of a payload and the reading it becomes: value * scale + offset, in `unit` (canonical)."""

    path: Path
    quantity: str
    unit: str
    scale: float = 1.0
    offset: float = 0.0
    interval_s: float | None = None
    topic: str | None = None  # an MQTT topic filter; None: every subscribed topic
    if_missing: IfMissing = "count"


@dataclass(frozen=True, slots=True)
class SensorTemplate:
    """The sensor id of a message's readings: text with `{name}` (the source name) and `{topic[n]}` (topic
    level n, from 0; negative counts from the end)."""

    text: str
    source_name: str

    def render(self, topic: str) -> str:
        levels = topic.split("/")

        def part(m: re.Match[str]) -> str:
            if m.group(1) == "name":
                return self.source_name
            n = int(m.group(2))
            if not -len(levels) <= n < len(levels):
                raise IndexError(f"topic {topic!r} has no level {n}")
            return levels[n]

        return _TEMPLATE_PART.sub(part, self.text)


def check_template(text: str) -> None:
    """Raise ValueError when `text` has a brace that is not `{name}` or `{topic[n]}`."""
    rest = _TEMPLATE_PART.sub("", text)
    if "{" in rest or "}" in rest:
        raise ValueError(f"sensor {text!r}: only {{name}} and {{topic[n]}} may appear in braces")


@dataclass(frozen=True, slots=True)
class TimestampRule:
    path: Path
    format: TimestampFormat
    naive_tz: tzinfo | None  # for ISO times without an offset (Tasmota sends local time without one)


@dataclass(frozen=True, slots=True)
class MessageRules:
    values: tuple[ValueRule, ...]
    sensor: SensorTemplate
    timestamp: TimestampRule | None = None
    max_payload_bytes: int = 65_536


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT filter matching: `+` one level, `#` the rest; wildcards never match a leading `$` topic."""
    f, t = topic_filter.split("/"), topic.split("/")
    if topic.startswith("$") and f[0] in ("+", "#"):
        return False
    for i, level in enumerate(f):
        if level == "#":
            return True
        if i >= len(t) or (level != "+" and level != t[i]):
            return False
    return len(f) == len(t)


def check_filter(topic_filter: str) -> None:
    """Raise ValueError unless `topic_filter` is a valid MQTT subscription filter."""
    if not topic_filter:
        raise ValueError("empty topic filter")
    levels = topic_filter.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            raise ValueError(f"{topic_filter!r}: '#' must be a whole level, and the last")
        if "+" in level and level != "+":
            raise ValueError(f"{topic_filter!r}: '+' must be a whole level")


def to_number(value: Any) -> float:
    """A JSON number, or a string holding a plain decimal number. Raises ValueError(reason)."""
    if isinstance(value, bool):
        raise ValueError("not_a_number")
    if not (isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value))):
        raise ValueError("not_a_number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not_finite")
    return number


def parse_timestamp(value: Any, rule: TimestampRule, *, received_ms: int) -> int:
    """ms since the epoch (UTC). Raises ValueError(detail) for anything unusable."""
    if rule.format == "iso8601":
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not an ISO 8601 string")
        dt = datetime.fromisoformat(value)  # ValueError when malformed
        if dt.tzinfo is None:
            if rule.naive_tz is None:
                raise ValueError(f"{value!r} has no UTC offset and no timestamp_timezone is set")
            dt = dt.replace(tzinfo=rule.naive_tz)
        ms = round(dt.timestamp() * 1000)
    else:
        try:
            number = to_number(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an epoch number") from None
        ms = round(number * 1000) if rule.format == "epoch_s" else round(number)
    if ms < _MIN_TS_MS:
        raise ValueError(f"{value!r} is before 2000: the device clock is not set")
    if ms > received_ms + MAX_FUTURE_MS:
        raise ValueError(f"{value!r} is {(ms - received_ms) / 1000:.0f} s in the future")
    return ms


def decode_message(rules: MessageRules, *, topic: str, payload: bytes, retained: bool, received_ms: int) -> Decoded:
    """The readings of one message and the reasons for whatever gave none."""

    def rejected(reason: str, detail: str) -> Decoded:
        return Decoded((), (Rejection(reason, f"{topic}: {detail}"),))

    if len(payload) > rules.max_payload_bytes:
        return rejected("too_large", f"{len(payload)} bytes > max_payload_bytes {rules.max_payload_bytes}")
    if retained and rules.timestamp is None:
        # a retained message may be hours old: stamping it with the receive time would invent a measurement
        return rejected("retained", "retained message and no timestamp_path: its time is unknown")
    applicable = [v for v in rules.values if v.topic is None or topic_matches(v.topic, topic)]
    if not applicable:
        return rejected("unmapped_topic", "no mapping applies to this topic")
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        return rejected("not_json", f"{type(exc).__name__}: {payload[:60]!r}")
    try:
        sensor = rules.sensor.render(topic)
    except IndexError as exc:
        return rejected("bad_sensor_name", str(exc))
    if not SENSOR_ID.match(sensor):
        return rejected("bad_sensor_name", f"{sensor!r} is not a valid sensor id (letters, digits, . _ -)")
    ts = received_ms
    if rules.timestamp is not None:
        try:
            ts = parse_timestamp(rules.timestamp.path.lookup(document), rules.timestamp, received_ms=received_ms)
        except (PathNotFound, ValueError) as exc:
            return rejected("bad_timestamp", str(exc))
    readings: list[Reading] = []
    problems: list[Rejection] = []
    for rule in applicable:
        try:
            raw = rule.path.lookup(document)
        except PathNotFound as exc:
            if rule.if_missing == "count":
                problems.append(Rejection("missing", f"{topic}: {exc}"))
            continue
        try:
            number = to_number(raw)
        except ValueError as exc:
            problems.append(Rejection(str(exc), f"{topic}: {rule.path.text} = {raw!r}"))
            continue
        value = round(number * rule.scale + rule.offset, 6)
        reason = implausible(value, rule.unit)
        if reason is not None:
            problems.append(Rejection(reason, f"{topic}: {rule.path.text} = {raw!r} -> {value!r} {rule.unit}"))
            continue
        readings.append(Reading(sensor, rule.quantity, value, rule.unit, ts, rule.interval_s))
    if not readings and not problems:
        problems.append(Rejection("missing", f"{topic}: none of the mapped paths is in the payload"))
    return Decoded(tuple(readings), tuple(problems))
