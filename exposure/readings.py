"""The Reading: one measured value of one quantity from one sensor (DESIGN §4.1)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exposure.errors import InvalidInput
from exposure.quantities import PHYSICAL_RANGE, implausible, unit_for

#: Flags a reading may carry. A flagged reading is stored and shown, and is not valid for compliance.
FLAGS = frozenset(
    {"warmup", "calibration_overdue", "out_of_range", "sensor_fault", "late", "simulated", "bump_test_overdue"}
)

#: Flags that describe how a reading travelled, not what it measured: they do not make it invalid for
#: compliance (a reading that arrived late still counts in the exposure record).
INFORMATIONAL_FLAGS = frozenset({"late"})

#: How far in the future a reading's timestamp may lie (clock skew between agent and server).
MAX_FUTURE_MS = 5 * 60 * 1000
_MIN_TS_MS = 946_684_800_000  # 2000-01-01: anything older is a broken clock, not a measurement
_MAX_SENSOR_ID = 128


@dataclass(frozen=True, slots=True)
class Reading:
    """A measurement. `ts` is the end of the interval, ms since the epoch (UTC); `interval_s` is the
    integration time for averaged quantities (LAeq), None for an instantaneous sample."""

    sensor: str
    quantity: str
    value: float
    unit: str
    ts: int
    interval_s: float | None = None
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "sensor": self.sensor,
            "quantity": self.quantity,
            "value": self.value,
            "unit": self.unit,
            "ts": self.ts,
            "interval_s": self.interval_s,
            "flags": list(self.flags),
        }

    @property
    def valid_for_compliance(self) -> bool:
        return all(flag in INFORMATIONAL_FLAGS for flag in self.flags)


_FIELDS = ("sensor", "quantity", "value", "unit", "ts")
_ALLOWED = frozenset((*_FIELDS, "interval_s", "flags"))


def validate_reading(raw: Any, *, now_ms: int, path: str = "reading", max_future_ms: int = MAX_FUTURE_MS) -> Reading:
    """Check a decoded JSON object and build a Reading, or raise InvalidInput naming the bad field.

    The unit is normalised to its canonical spelling; the value is kept in the unit given.
    """
    if not isinstance(raw, Mapping):
        raise InvalidInput(path, "must be an object")
    for name in _FIELDS:
        if name not in raw:
            raise InvalidInput(f"{path}.{name}", "missing field")
    unknown = set(raw) - _ALLOWED
    if unknown:
        raise InvalidInput(f"{path}.{sorted(unknown)[0]}", "unknown field")

    sensor = raw["sensor"]
    if not isinstance(sensor, str) or not sensor.strip() or len(sensor) > _MAX_SENSOR_ID:
        raise InvalidInput(f"{path}.sensor", f"must be a non-empty string of at most {_MAX_SENSOR_ID} characters")

    quantity_id, unit_raw = raw["quantity"], raw["unit"]
    if not isinstance(quantity_id, str):
        raise InvalidInput(f"{path}.quantity", f"unknown quantity {quantity_id!r}")
    if not isinstance(unit_raw, str):
        raise InvalidInput(f"{path}.unit", f"unit {unit_raw!r} is not a string")
    try:
        unit = unit_for(quantity_id, unit_raw)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}.{exc.path}", exc.reason) from None

    value = raw["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{path}.value", "must be a number")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidInput(f"{path}.value", "must be finite (NaN and infinity are not measurements)")
    if implausible(value, unit):
        low, high = PHYSICAL_RANGE[unit]
        raise InvalidInput(f"{path}.value", f"{value:g} {unit} is outside the physical range [{low:g}, {high:g}]")

    ts = raw["ts"]
    if isinstance(ts, bool) or not isinstance(ts, int):
        raise InvalidInput(f"{path}.ts", "must be an integer (ms since the Unix epoch, UTC)")
    if ts < _MIN_TS_MS:
        raise InvalidInput(f"{path}.ts", "is before the year 2000: a broken clock or seconds instead of ms")
    if ts > now_ms + max_future_ms:
        raise InvalidInput(f"{path}.ts", f"is {(ts - now_ms) / 1000:.0f} s in the future")

    interval = raw.get("interval_s")
    if interval is not None:
        if isinstance(interval, bool) or not isinstance(interval, int | float):
            raise InvalidInput(f"{path}.interval_s", "must be a number of seconds or null")
        interval = float(interval)
        if not math.isfinite(interval) or interval <= 0:
            raise InvalidInput(f"{path}.interval_s", "must be a positive, finite number of seconds")

    flags = raw.get("flags", ())
    if flags is None:
        flags = ()
    if not isinstance(flags, list | tuple) or not all(isinstance(f, str) for f in flags):
        raise InvalidInput(f"{path}.flags", "must be a list of strings")
    bad = [f for f in flags if f not in FLAGS]
    if bad:
        raise InvalidInput(f"{path}.flags", f"unknown flag {bad[0]!r}")

    return Reading(sensor, quantity_id, value, unit, ts, interval, tuple(flags))
