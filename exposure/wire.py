"""The wire contracts between agent and server, in one pure place (DESIGN §4.2-4.3).

The batch itself is `exposure.batch`; this module holds everything else both sides must agree on:
- MQTT topic names: `hazmon/v1/{site}/{agent}/{leaf}` with leaf `batch`, `ack`, `status` or `alarm`;
- the ack message, one shape on both uplinks: `{"acked_seq": N}` for batches (every batch <= N is stored) and
  `{"acked_alarms": [ids]}` for edge alarm events (the agent may delete those events);
- the agent status report (retained on the status topic, or `POST /api/v1/agent-status`), with the calibration
  register entries of the agent's sensors from its config;
- the edge alarm event (`.../alarm` topic as `{"events": [...]}`, or `POST /api/v1/edge-alarms`);
- the HTTP paths the agent posts to (the server mounts its routes under the same `/api/v1`);
- the severity scale, lowest first, and the flags that make a reading unreliable for alarms and rollups.

No I/O, no framework: frozen dataclasses and functions. The server's pydantic models at the HTTP edge mirror these
field names; a test keeps the two in step.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from exposure import strict_json
from exposure.errors import InvalidInput

# -- severity -------------------------------------------------------------------------------------------------

Severity = Literal["info", "warning", "critical", "emergency"]
#: the severity scale, lowest first; alerts, edge alarms, notification policies and plans all rank by it
SEVERITIES: Final[tuple[Severity, ...]] = ("info", "warning", "critical", "emergency")


def severity_rank(severity: str) -> int:
    """The position of `severity` on the scale (0 = info). Raises ValueError for an unknown name."""
    try:
        return SEVERITIES.index(severity)  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"unknown severity {severity!r} (one of {', '.join(SEVERITIES)})") from None


#: a reading with one of these flags says nothing reliable about the air: it neither opens nor clears an alarm
#: and stays out of rollup averages. (`late` and `calibration_overdue` readings are reliable air data.)
UNRELIABLE_FLAGS: Final[frozenset[str]] = frozenset({"sensor_fault", "warmup", "out_of_range"})


def is_unreliable(flags: Iterable[str]) -> bool:
    """Whether a reading with these flags must neither open nor clear an alarm nor enter an average."""
    return not UNRELIABLE_FLAGS.isdisjoint(flags)


# -- HTTP paths -----------------------------------------------------------------------------------------------

API_PREFIX: Final = "/api/v1"
#: a batch in, `{"acked_seq": N}` out, after a durable commit
INGEST_PATH: Final = f"{API_PREFIX}/ingest"
#: a status report in (the HTTP twin of the retained status topic)
STATUS_PATH: Final = f"{API_PREFIX}/agent-status"
#: `{"events": [...]}` in, `{"acked_alarms": [ids]}` out
EDGE_ALARMS_PATH: Final = f"{API_PREFIX}/edge-alarms"


# -- MQTT topics ----------------------------------------------------------------------------------------------

TOPIC_ROOT: Final = "hazmon/v1"
Leaf = Literal["batch", "ack", "status", "alarm"]
#: the leaves the server subscribes to (it publishes `ack`)
AGENT_LEAVES: Final[tuple[Leaf, ...]] = ("batch", "status", "alarm")
LEAVES: Final[tuple[Leaf, ...]] = ("batch", "ack", "status", "alarm")
#: the server publishes here (QoS 1, not retained) each time it has (re)subscribed: an agent resends at once what
#: it has in flight, since batches published while no server listened are gone, instead of after its ack timeout
SERVER_HELLO_TOPIC: Final = f"{TOPIC_ROOT}/_server/hello"

#: every MQTT client's socket (the server's ingest, the agent's uplink): small messages leave at once; with Nagle's
#: algorithm an isolated batch or ack waits for the peer's delayed ACK (~40 ms on Linux)
MQTT_SOCKET_OPTIONS: Final = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)
#: the MQTT 5 user property in which an agent sends its bearer token with every message it publishes (batch,
#: alarm, status, its will): `("authorization", "Bearer hzm_a_...")`, the same token as over HTTP. The server
#: checks it on each message, so a revoked token is refused at the next one.
AUTH_PROPERTY: Final = "authorization"


def bearer(token: str) -> str:
    return f"Bearer {token}"


def token_of(value: str | None) -> str | None:
    """The token in an `authorization` property's value ("Bearer <token>"), or None."""
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def topic(site: str, agent: str, leaf: Leaf) -> str:
    """`hazmon/v1/{site}/{agent}/{leaf}`."""
    return f"{TOPIC_ROOT}/{site}/{agent}/{leaf}"


def topic_filter(leaf: Leaf) -> str:
    """The subscription for `leaf` of every site and agent: `hazmon/v1/+/+/{leaf}`."""
    return f"{TOPIC_ROOT}/+/+/{leaf}"


def parse_topic(name: str) -> tuple[str, str, Leaf] | None:
    """(site, agent, leaf) of a hazmon topic, or None for any other topic."""
    parts = name.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != TOPIC_ROOT or parts[4] not in LEAVES:
        return None
    if not parts[2] or not parts[3]:
        return None
    return parts[2], parts[3], parts[4]  # type: ignore[return-value]


# -- acks -----------------------------------------------------------------------------------------------------

ACKED_SEQ: Final = "acked_seq"
ACKED_ALARMS: Final = "acked_alarms"
#: the key servers before the wire contracts answered edge alarms with over HTTP (`{"acked": [ids]}`); read, never
#: written. Current servers send it beside `acked_alarms` so that older agents keep working.
LEGACY_ACKED_ALARMS: Final = "acked"
#: what the server publishes on an agent's ack topic instead of an ack when it refuses the agent's message (no
#: token, or an unknown, revoked or expired one): `{"refused": "<why>"}`, the MQTT answer to HTTP's 401.
REFUSED: Final = "refused"


def encode_refusal(why: str) -> bytes:
    return json.dumps({REFUSED: why}).encode()


def refusal(payload: bytes | str) -> str | None:
    """Why the server refused, if this ack-topic message is a refusal; None for anything else."""
    try:
        data = _json_object(payload, "a refusal")
    except ValueError:
        return None
    why = data.get(REFUSED)
    return why if isinstance(why, str) and why else None


@dataclass(frozen=True, slots=True)
class Ack:
    """What the server acknowledges: a batch watermark, edge alarm event ids, or both (at least one)."""

    acked_seq: int | None = None
    acked_alarms: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.acked_seq is None and self.acked_alarms is None:
            raise ValueError(f"an ack holds {ACKED_SEQ} or {ACKED_ALARMS}")
        if self.acked_seq is not None and self.acked_seq < 0:
            raise ValueError(f"{ACKED_SEQ}: not negative")
        if self.acked_alarms is not None and not isinstance(self.acked_alarms, tuple):
            object.__setattr__(self, "acked_alarms", tuple(self.acked_alarms))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.acked_seq is not None:
            out[ACKED_SEQ] = self.acked_seq
        if self.acked_alarms is not None:
            out[ACKED_ALARMS] = list(self.acked_alarms)
        return out

    def encode(self) -> bytes:
        return json.dumps(self.to_json()).encode()


def decode_ack(payload: bytes | str | Mapping[str, Any]) -> Ack:
    """An ack from either uplink: `acked_seq`, `acked_alarms` (or, from an older server, `acked`), or both.
    Raises ValueError for anything that is not one."""
    data = _json_object(payload, "an ack")
    seq = data.get(ACKED_SEQ)
    alarms = data.get(ACKED_ALARMS, data.get(LEGACY_ACKED_ALARMS))
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)):
        raise ValueError(f"{ACKED_SEQ}: an integer")
    if alarms is not None and (not isinstance(alarms, list) or not all(isinstance(i, str) for i in alarms)):
        raise ValueError(f"{ACKED_ALARMS}: a list of event ids")
    return Ack(seq, None if alarms is None else tuple(alarms))


def _json_object(payload: bytes | str | Mapping[str, Any], what: str) -> Mapping[str, Any]:
    if isinstance(payload, bytes | str):
        try:
            payload = strict_json.loads(payload)
        except InvalidInput as exc:
            raise ValueError(f"{what}: {exc.reason}") from None
    if not isinstance(payload, Mapping):
        raise ValueError(f"{what} is a JSON object")
    return payload


# -- agent status ---------------------------------------------------------------------------------------------

AgentState = Literal["online", "offline"]


@dataclass(frozen=True, slots=True)
class SensorCalibration:
    """One sensor's calibration as its agent's config states it (`[sources.calibration]`): dates as ISO strings
    (`YYYY-MM-DD`), intervals in days, the certificate's number or URL; None where the config says nothing."""

    last_calibrated: str | None = None
    calibration_interval_days: int | None = None
    last_bump_test: str | None = None
    bump_test_interval_days: int | None = None
    certificate: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in CALIBRATION_FIELDS}


CALIBRATION_FIELDS: Final[tuple[str, ...]] = (
    "last_calibrated", "calibration_interval_days", "last_bump_test", "bump_test_interval_days", "certificate",
)


SourceState = Literal["ok", "failing", "unavailable"]
#: a source's last error as reported: one line, at most this long
SOURCE_ERROR_MAX: Final = 300


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source of the agent as it runs: `ok` (it runs and its latest event is a good frame), `failing` (it
    runs but its latest event is an error: a failed read or a rejected frame), `unavailable` (it does not run: it
    crashed and waits to restart, or it ended). Frame counters count since the agent started; `last_error` is one
    line (at most SOURCE_ERROR_MAX characters), `last_error_ts` when the agent saw it (ms, UTC)."""

    name: str
    state: SourceState
    frames_ok: int = 0
    frames_bad: int = 0
    last_error: str | None = None
    last_error_ts: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in SOURCE_STATUS_FIELDS}


SOURCE_STATUS_FIELDS: Final[tuple[str, ...]] = (
    "name", "state", "frames_ok", "frames_bad", "last_error", "last_error_ts",
)


def one_line(text: str | None) -> str | None:
    """An error message as a source status carries it: its first line, trimmed to SOURCE_ERROR_MAX."""
    lines = (text or "").strip().splitlines()
    return (lines[0].strip()[:SOURCE_ERROR_MAX] or None) if lines else None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """What an agent says about itself. `state` offline is also what the broker publishes as its Last Will
    (`OFFLINE`: only the state is known then)."""

    state: AgentState
    version: str = ""
    ts: int | None = None
    outbox_batches: int | None = None
    outbox_readings: int | None = None
    oldest_unsent_ms: int | None = None
    outbox_full: bool = False
    disk_full: bool | None = None
    dropped_readings: int | None = None
    #: sensor name -> what the agent's config says of its calibration (optional: agents that predate it, or
    #: with no calibration dates in their config, leave it out)
    calibration: Mapping[str, SensorCalibration] | None = None
    #: each source's state and counters (optional: agents that predate it leave it out; the server then keeps
    #: what it had)
    sources: tuple[SourceStatus, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in STATUS_FIELDS if getattr(self, k) is not None}
        if self.calibration is not None:
            out["calibration"] = {name: entry.to_json() for name, entry in self.calibration.items()}
        if self.sources is not None:
            out["sources"] = [s.to_json() for s in self.sources]
        return out

    def encode(self) -> bytes:
        return json.dumps(self.to_json()).encode()


STATUS_FIELDS: Final[tuple[str, ...]] = (
    "state", "version", "ts", "outbox_batches", "outbox_readings", "oldest_unsent_ms", "outbox_full",
    "disk_full", "dropped_readings", "calibration", "sources",
)
#: the Last Will an agent leaves with the broker
OFFLINE: Final = StatusReport(state="offline")

# -- edge alarm events ----------------------------------------------------------------------------------------

AlarmKind = Literal["raised", "cleared"]


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One edge alarm transition, kept on the agent's disk until the server acknowledges its `id`.

    `id` is unique per agent (the server stores each (agent, id) once); `rule` the agent rule's id; `ts` the
    reading time (ms, UTC) of the transition."""

    id: str
    rule: str
    kind: AlarmKind
    sensor: str
    quantity: str
    value: float
    unit: str
    threshold: float
    ts: int
    severity: Severity = "warning"
    metric: str = "value"
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ALARM_EVENT_FIELDS}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlarmEvent:
        """An event as `to_json` wrote it (keys it does not know are ignored). Raises ValueError naming the first
        bad field."""
        event_id = _text(data, "id")
        if not event_id:
            raise ValueError("id: a non-empty string")
        kind = data.get("kind")
        if kind != "raised" and kind != "cleared":
            raise ValueError(f"kind: one of {', '.join(get_args(AlarmKind))}")
        return cls(
            id=event_id, rule=_text(data, "rule"), kind=kind, sensor=_text(data, "sensor"),
            quantity=_text(data, "quantity"), value=_number(data, "value"), unit=_text(data, "unit"),
            threshold=_number(data, "threshold"), ts=_ms(data, "ts"),
            severity=_severity(data.get("severity", "warning")), metric=_text(data, "metric", "value"),
            message=_text(data, "message", ""),
        )


ALARM_EVENT_FIELDS: Final[tuple[str, ...]] = (
    "id", "rule", "kind", "sensor", "quantity", "metric", "severity", "value", "unit", "threshold", "ts", "message",
)
#: the one key of an alarm message (`.../alarm` topic and `POST /api/v1/edge-alarms`): `{"events": [...]}`
EVENTS: Final = "events"


def _text(data: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = data.get(name, default)
    if not isinstance(value, str):
        raise ValueError(f"{name}: a string")
    return value


def _number(data: Mapping[str, Any], name: str) -> float:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ValueError(f"{name}: a number")
    return float(value)


def _ms(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: an integer (ms since the epoch, UTC)")
    return value


def _severity(value: object) -> Severity:
    for severity in SEVERITIES:
        if value == severity:
            return severity
    raise ValueError(f"severity: one of {', '.join(SEVERITIES)}")


def encode_alarm_events(events: Sequence[AlarmEvent]) -> bytes:
    """The body of an alarm message: `{"events": [...]}`."""
    return json.dumps({EVENTS: [e.to_json() for e in events]}).encode()


def decode_alarm_events(payload: bytes | str | Mapping[str, Any]) -> tuple[AlarmEvent, ...]:
    """The events of an alarm message. Raises ValueError naming the first bad event and field."""
    data = _json_object(payload, "an alarm message")
    events = data.get(EVENTS)
    if not isinstance(events, list):
        raise ValueError(f"{EVENTS}: a list of alarm events")
    out = []
    for i, raw in enumerate(events):
        if not isinstance(raw, Mapping):
            raise ValueError(f"{EVENTS}[{i}]: an object")
        try:
            out.append(AlarmEvent.from_json(raw))
        except ValueError as exc:
            raise ValueError(f"{EVENTS}[{i}].{exc}") from None
    return tuple(out)
