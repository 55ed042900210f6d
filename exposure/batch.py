"""The batch codec: agent -> server, JSON (DESIGN §4.2).

`(agent, seq)` is the idempotency key. `seq` is fixed when the batch is written to the outbox; only `sent_ms`
changes on a resend.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exposure.errors import InvalidInput
from exposure.readings import MAX_FUTURE_MS, Reading, validate_reading

BATCH_SCHEMA = "hazmon.batch/1"
MAX_READINGS_PER_BATCH = 10_000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ENVELOPE = frozenset({"schema", "site", "agent", "seq", "sent_ms", "readings"})


@dataclass(frozen=True, slots=True)
class Batch:
    site: str
    agent: str
    seq: int
    sent_ms: int
    readings: tuple[Reading, ...]


def encode_batch(batch: Batch) -> bytes:
    return encode_envelope(batch.site, batch.agent, batch.seq, batch.sent_ms, encode_readings(batch.readings))


def encode_readings(readings: tuple[Reading, ...] | list[Reading]) -> str:
    """The readings array as JSON text, as the outbox stores it."""
    return json.dumps([r.to_dict() for r in readings], separators=(",", ":"), allow_nan=False)


def encode_envelope(site: str, agent: str, seq: int, sent_ms: int, readings_json: str) -> bytes:
    """Wrap an already-encoded readings array (from the outbox) without decoding it again."""
    head = json.dumps(
        {"schema": BATCH_SCHEMA, "site": site, "agent": agent, "seq": seq, "sent_ms": sent_ms},
        separators=(",", ":"),
    )
    return f'{head[:-1]},"readings":{readings_json}}}'.encode()


def decode_batch(data: bytes | str | Mapping[str, Any], *, now_ms: int, max_future_ms: int = MAX_FUTURE_MS) -> Batch:
    """Parse and validate a batch. Raises InvalidInput naming the first bad field; nothing partial."""
    if isinstance(data, bytes | str):
        try:
            raw = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput("", f"not valid JSON: {exc}") from None
    else:
        raw = data
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
    return Batch(raw["site"], raw["agent"], seq, sent_ms, readings)
