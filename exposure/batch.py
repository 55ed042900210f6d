"""The batch codec: agent -> server, JSON (DESIGN §4.2).

`(agent, seq)` is the idempotency key. `seq` is fixed when the batch is written to the outbox; only `sent_ms`
(and `first_seq`) change on a resend.

Two optional fields keep the edge honest:
- `first_seq`: the oldest batch the agent still holds; every earlier one was acknowledged by a server. A server
  that has never heard from the agent counts the seqs from `first_seq` up to the first batch it sees as missing
  (gaps), instead of taking that batch as its baseline and acknowledging batches it never stored.
- `gaps`: readings the agent could not keep (its disk was full), per sensor: the interval, the count and why.
  They become gaps with a reason on the server, never a silent loss.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exposure import strict_json
from exposure.errors import InvalidInput
from exposure.readings import MAX_FUTURE_MS, Reading, validate_reading

BATCH_SCHEMA = "hazmon.batch/1"
MAX_READINGS_PER_BATCH = 10_000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ENVELOPE = frozenset({"schema", "site", "agent", "seq", "sent_ms", "readings", "first_seq", "gaps"})
_GAP_FIELDS = frozenset({"sensor", "from_ts", "to_ts", "dropped", "reason"})
#: why an agent dropped readings: its disk was full, or the outbox failed to write for another reason
GAP_REASONS = frozenset({"disk_full", "write_failed"})
MAX_GAPS_PER_BATCH = 1000


@dataclass(frozen=True, slots=True)
class EdgeGap:
    """`dropped` readings of `sensor` between `from_ts` and `to_ts` (inclusive, ms) that the agent could not keep."""

    sensor: str
    from_ts: int
    to_ts: int
    dropped: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"sensor": self.sensor, "from_ts": self.from_ts, "to_ts": self.to_ts, "dropped": self.dropped,
                "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Batch:
    site: str
    agent: str
    seq: int
    sent_ms: int
    readings: tuple[Reading, ...]
    first_seq: int | None = None
    gaps: tuple[EdgeGap, ...] = ()


def encode_batch(batch: Batch) -> bytes:
    return encode_envelope(batch.site, batch.agent, batch.seq, batch.sent_ms, encode_readings(batch.readings),
                           first_seq=batch.first_seq, gaps_json=encode_gaps(batch.gaps))


def encode_gaps(gaps: tuple[EdgeGap, ...] | list[EdgeGap]) -> str:
    """The gaps array as JSON text, as the outbox stores it ('' when there are none)."""
    return json.dumps([g.to_dict() for g in gaps], separators=(",", ":")) if gaps else ""


def encode_readings(readings: tuple[Reading, ...] | list[Reading]) -> str:
    """The readings array as JSON text, as the outbox stores it."""
    return json.dumps([r.to_dict() for r in readings], separators=(",", ":"), allow_nan=False)


def encode_envelope(site: str, agent: str, seq: int, sent_ms: int, readings_json: str, *,
                    first_seq: int | None = None, gaps_json: str = "") -> bytes:
    """Wrap an already-encoded readings array (and gaps array, from the outbox) without decoding it again."""
    envelope: dict[str, Any] = {"schema": BATCH_SCHEMA, "site": site, "agent": agent, "seq": seq, "sent_ms": sent_ms}
    if first_seq is not None:
        envelope["first_seq"] = first_seq
    head = json.dumps(envelope, separators=(",", ":"))
    gaps = f',"gaps":{gaps_json}' if gaps_json else ""
    return f'{head[:-1]},"readings":{readings_json}{gaps}}}'.encode()


#: the most readings one gap can count (a 32-bit column)
MAX_DROPPED = 2**31 - 1
#: a batch is an object of lists of objects of lists: nothing deeper is a batch
BATCH_MAX_DEPTH = 8


def decode_batch(data: bytes | str | Mapping[str, Any], *, now_ms: int, max_future_ms: int = MAX_FUTURE_MS) -> Batch:
    """Parse and validate a batch. Raises InvalidInput naming the first bad field; nothing partial."""
    if isinstance(data, bytes | str):
        # non-finite numbers reach the field checks, which name the field (readings[0].value ...)
        raw = strict_json.loads(data, max_depth=BATCH_MAX_DEPTH, non_finite=True)
    else:
        raw = data
        strict_json.check(raw, max_depth=BATCH_MAX_DEPTH)
    if not isinstance(raw, Mapping):
        raise InvalidInput("", "a batch must be a JSON object")
    if raw.get("schema") != BATCH_SCHEMA:
        raise InvalidInput("schema", f"expected {BATCH_SCHEMA!r}, got {raw.get('schema')!r}")
    for name in ("site", "agent", "seq", "sent_ms", "readings"):
        if name not in raw:
            raise InvalidInput(name, "missing field")
    unknown = set(raw) - _ENVELOPE
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "unknown field")
    for name in ("site", "agent"):
        if not isinstance(raw[name], str) or not _ID.match(raw[name]):
            raise InvalidInput(name, "must be 1-64 letters, digits, '.', '_' or '-'")
    seq = raw["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise InvalidInput("seq", "must be a positive integer")
    sent_ms = raw["sent_ms"]
    if isinstance(sent_ms, bool) or not isinstance(sent_ms, int) or sent_ms < 0:
        raise InvalidInput("sent_ms", "must be a non-negative integer (ms since the Unix epoch)")
    items = raw["readings"]
    if not isinstance(items, list):
        raise InvalidInput("readings", "must be a list")
    if len(items) > MAX_READINGS_PER_BATCH:
        raise InvalidInput("readings", f"at most {MAX_READINGS_PER_BATCH} readings per batch")
    readings = tuple(
        validate_reading(item, now_ms=now_ms, path=f"readings[{i}]", max_future_ms=max_future_ms)
        for i, item in enumerate(items)
    )
    first_seq = raw.get("first_seq")
    if first_seq is not None and (isinstance(first_seq, bool) or not isinstance(first_seq, int)
                                  or not 1 <= first_seq <= seq):
        raise InvalidInput("first_seq", "must be an integer from 1 to seq (the oldest batch the agent holds)")
    return Batch(raw["site"], raw["agent"], seq, sent_ms, readings, first_seq, _gaps(raw.get("gaps", [])))


def _gaps(items: Any) -> tuple[EdgeGap, ...]:
    if not isinstance(items, list):
        raise InvalidInput("gaps", "must be a list")
    if len(items) > MAX_GAPS_PER_BATCH:
        raise InvalidInput("gaps", f"at most {MAX_GAPS_PER_BATCH} gaps per batch")
    out = []
    for i, item in enumerate(items):
        path = f"gaps[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidInput(path, "must be an object")
        if set(item) != _GAP_FIELDS:
            wrong = sorted(set(item) ^ _GAP_FIELDS)[0]
            raise InvalidInput(f"{path}.{wrong}", "unknown field" if wrong in item else "missing field")
        sensor = item["sensor"]
        if not isinstance(sensor, str) or not sensor.strip() or len(sensor) > 128:
            raise InvalidInput(f"{path}.sensor", "must be a non-empty string of at most 128 characters")
        for name in ("from_ts", "to_ts", "dropped"):
            value = item[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"{path}.{name}", "must be a non-negative integer")
        if item["dropped"] > MAX_DROPPED:
            raise InvalidInput(f"{path}.dropped", f"must be at most {MAX_DROPPED}")
        if item["to_ts"] < item["from_ts"]:
            raise InvalidInput(f"{path}.to_ts", "is before from_ts")
        if item["reason"] not in GAP_REASONS:
            raise InvalidInput(f"{path}.reason", f"unknown reason {item['reason']!r} (known: {sorted(GAP_REASONS)})")
        out.append(EdgeGap(sensor, item["from_ts"], item["to_ts"], item["dropped"], item["reason"]))
    return tuple(out)
