"""The wire contracts between agent and server, in one pure place (DESIGN §4.2-4.3).

The batch itself is `exposure.batch`; this module holds everything else both sides must agree on:
- MQTT topic names: `hazmon/v1/{site}/{agent}/{leaf}` with leaf `batch`, `ack`, `status` or `alarm`;
- the ack message, one shape on both uplinks: `{"acked_seq": N}` for batches (every batch <= N is stored) and
  `{"acked_alarms": [ids]}` for edge alarm events (the agent may delete those events);
- the agent status report (retained on the status topic, or `POST /api/v1/agents/status`);
- the edge alarm event (`.../alarm` topic as `{"events": [...]}`, or `POST /api/v1/edge-alarms`);
- the severity scale, lowest first, and the flags that make a reading unreliable for alarms and rollups.

No I/O, no framework: frozen dataclasses and functions. The server's pydantic models at the HTTP edge mirror these
field names; a test keeps the two in step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, Literal

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


def is_unreliable(flags: tuple[str, ...] | list[str]) -> bool:
    return not UNRELIABLE_FLAGS.isdisjoint(flags)


# -- MQTT topics ----------------------------------------------------------------------------------------------

TOPIC_ROOT: Final = "hazmon/v1"
Leaf = Literal["batch", "ack", "status", "alarm"]
#: the leaves the server subscribes to (it publishes `ack`)
AGENT_LEAVES: Final[tuple[Leaf, ...]] = ("batch", "status", "alarm")
LEAVES: Final[tuple[Leaf, ...]] = ("batch", "ack", "status", "alarm")


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


@dataclass(frozen=True, slots=True)
class Ack:
    """What the server acknowledges: a batch watermark, edge alarm event ids, or both."""

    acked_seq: int | None = None
    acked_alarms: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.acked_seq is not None:
            out[ACKED_SEQ] = self.acked_seq
        if self.acked_alarms is not None:
            out[ACKED_ALARMS] = list(self.acked_alarms)
        return out

    def encode(self) -> bytes:
        return json.dumps(self.to_json()).encode()


def decode_ack(payload: bytes | str | dict[str, Any]) -> Ack:
    """An ack from either uplink. Raises ValueError for anything that is not one."""
    data = json.loads(payload) if isinstance(payload, (bytes, str)) else payload
    if not isinstance(data, dict):
        raise ValueError("an ack is a JSON object")
    seq = data.get(ACKED_SEQ)
    alarms = data.get(ACKED_ALARMS)
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)):
        raise ValueError(f"{ACKED_SEQ}: an integer")
    if alarms is not None and (not isinstance(alarms, list) or not all(isinstance(i, str) for i in alarms)):
        raise ValueError(f"{ACKED_ALARMS}: a list of event ids")
    if seq is None and alarms is None:
        raise ValueError(f"an ack holds {ACKED_SEQ} or {ACKED_ALARMS}")
    return Ack(seq, None if alarms is None else tuple(alarms))


# -- agent status ---------------------------------------------------------------------------------------------

AgentState = Literal["online", "offline"]


@dataclass(frozen=True, slots=True)
class StatusReport:
    """What an agent says about itself. `state` offline is also what the broker publishes as its Last Will
    (then with no other field)."""

    state: AgentState
    version: str = ""
    ts: int | None = None
    outbox_batches: int | None = None
    outbox_readings: int | None = None
    oldest_unsent_ms: int | None = None
    outbox_full: bool = False

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in STATUS_FIELDS if getattr(self, k) is not None}


STATUS_FIELDS: Final[tuple[str, ...]] = (
    "state", "version", "ts", "outbox_batches", "outbox_readings", "oldest_unsent_ms", "outbox_full",
)

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


ALARM_EVENT_FIELDS: Final[tuple[str, ...]] = (
    "id", "rule", "kind", "sensor", "quantity", "metric", "severity", "value", "unit", "threshold", "ts", "message",
)
