"""Per-sensor calibration and validity: zero/span correction and overdue calibration or bump tests.

`calibrate()` is pure: it takes the time as an argument. The correction is
`corrected = (raw - zero_offset) * span_factor`, with `zero_offset` the reading in zero air (or the acoustic
calibrator offset for a noise meter) and `span_factor` = reference gas value / reading at span. A per-quantity
entry overrides the sensor-wide values for that quantity. The result is not clamped: a slightly negative
corrected value is shown as measured, never turned into 0.

Validity: a sensor is overdue when the UTC date of the reading is after `last + interval_days`. A configured
interval without a recorded date counts as overdue (nobody can show when it was last done).

The dates, intervals and `certificate` also go to the server's calibration register with every status report
(`register_entry()`, `exposure.wire.SensorCalibration`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from exposure import Reading
from exposure.wire import SensorCalibration


class QuantityCalibration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    zero_offset: float = Field(default=0.0, description="subtracted from the raw value")
    span_factor: float = Field(default=1.0, gt=0, description="multiplies the zero-corrected value")


class CalibrationConfig(BaseModel):
    """The `calibration` table of a `[[sources]]` entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zero_offset: float = Field(default=0.0, description="subtracted from every raw value")
    span_factor: float = Field(default=1.0, gt=0, description="multiplies every zero-corrected value")
    quantities: dict[str, QuantityCalibration] = Field(
        default_factory=dict, description="per-quantity zero/span, overriding the sensor-wide values"
    )
    last_calibrated: date | None = None
    calibration_interval_days: int | None = Field(default=None, gt=0)
    last_bump_test: date | None = None
    bump_test_interval_days: int | None = Field(default=None, gt=0)
    certificate: str | None = Field(default=None, min_length=1, max_length=256,
                                    description="the calibration certificate: its number or URL")


def _overdue(last: date | None, interval_days: int | None, today: date) -> bool:
    if interval_days is None:
        return False
    if last is None:
        return True
    return today > last + timedelta(days=interval_days)


def register_entry(cal: CalibrationConfig) -> SensorCalibration | None:
    """What the server's calibration register should hold for the sensor, from its config: None when the
    table states no date, interval or certificate (zero/span only)."""
    entry = SensorCalibration(
        last_calibrated=cal.last_calibrated.isoformat() if cal.last_calibrated else None,
        calibration_interval_days=cal.calibration_interval_days,
        last_bump_test=cal.last_bump_test.isoformat() if cal.last_bump_test else None,
        bump_test_interval_days=cal.bump_test_interval_days,
        certificate=cal.certificate,
    )
    return None if entry == SensorCalibration() else entry


def calibrate(reading: Reading, cal: CalibrationConfig | None, *, now_ms: int) -> Reading:
    """The reading with zero/span applied and `calibration_overdue` / `bump_test_overdue` flags added."""
    if cal is None:
        return reading
    per = cal.quantities.get(reading.quantity)
    zero = per.zero_offset if per is not None else cal.zero_offset
    span = per.span_factor if per is not None else cal.span_factor
    value = reading.value
    if zero != 0.0 or span != 1.0:
        value = round((value - zero) * span, 6)
    today = datetime.fromtimestamp(now_ms / 1000, tz=UTC).date()
    flags = list(reading.flags)
    checks = (
        ("calibration_overdue", cal.last_calibrated, cal.calibration_interval_days),
        ("bump_test_overdue", cal.last_bump_test, cal.bump_test_interval_days),
    )
    for flag, last, interval in checks:
        if _overdue(last, interval, today) and flag not in flags:
            flags.append(flag)
    return dataclasses.replace(reading, value=value, flags=tuple(flags))
