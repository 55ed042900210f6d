"""The calibration register at the HTTP and MQTT edge: an agent's entry (mirrors `exposure.wire.SensorCalibration`),
the body of `PUT /api/v1/sensors/{sensor}/calibration`, the entry as the API shows it, and the state shown with
each sensor in `GET /api/v1/sensors`."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.calibration.due import MAX_INTERVAL_DAYS, Register, overdue

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATES = ("last_calibrated", "calibration_due", "last_bump_test", "bump_test_due")
Interval = Field(default=None, gt=0, le=MAX_INTERVAL_DAYS, description="days")
Certificate = Field(default=None, min_length=1, max_length=256, description="the certificate's number or URL")


def _iso_date(value: Any) -> Any:
    if value is not None and not (isinstance(value, str) and _ISO_DATE.match(value)):
        raise ValueError("a date as YYYY-MM-DD")
    return value


class CalibrationReport(BaseModel):
    """One sensor's entry in an agent's status report, from its config (`[sources.calibration]`)."""

    model_config = ConfigDict(extra="ignore")

    last_calibrated: date | None = None
    calibration_interval_days: int | None = Interval
    last_bump_test: date | None = None
    bump_test_interval_days: int | None = Interval
    certificate: str | None = Certificate

    _dates = field_validator("last_calibrated", "last_bump_test", mode="before")(_iso_date)

    def register(self) -> Register:
        return Register(last_calibrated=self.last_calibrated, calibration_interval_days=self.calibration_interval_days,
                        last_bump_test=self.last_bump_test, bump_test_interval_days=self.bump_test_interval_days,
                        certificate=self.certificate)


class CalibrationIn(BaseModel):
    """The whole entry: what is left out is cleared. A due date is given directly or computed as last + interval
    (not both, unless they agree)."""

    model_config = ConfigDict(extra="forbid")

    last_calibrated: date | None = None
    calibration_interval_days: int | None = Interval
    calibration_due: date | None = None
    last_bump_test: date | None = None
    bump_test_interval_days: int | None = Interval
    bump_test_due: date | None = None
    certificate: str | None = Certificate

    _dates = field_validator(*_DATES, mode="before")(_iso_date)

    def register(self) -> Register:
        return Register(**self.model_dump())


class CalibrationOut(BaseModel):
    sensor: str
    site: str
    last_calibrated: date | None
    calibration_interval_days: int | None
    calibration_due: date | None
    last_bump_test: date | None
    bump_test_interval_days: int | None
    bump_test_due: date | None
    certificate: str | None
    source: str | None = Field(description="who set it last: `agent` (its config) or `api`; null while the sensor "
                                           "has no entry")
    updated_at_ms: int | None
    updated_by: str | None
    calibration_overdue: bool
    bump_test_overdue: bool
    overdue: bool
    overdue_reasons: list[str] = Field(description="e.g. 'calibration overdue since 2025-11-20 (due 2025-11-19)'")


class CalibrationState(BaseModel):
    """What `GET /api/v1/sensors` shows of a sensor's calibration (today, UTC, on the server's clock)."""

    calibration_due: date | None
    bump_test_due: date | None
    certificate: str | None
    overdue: bool


def calibration_state(reg: Register, *, today: date) -> CalibrationState:
    return CalibrationState(calibration_due=reg.calibration_due, bump_test_due=reg.bump_test_due,
                            certificate=reg.certificate, overdue=bool(overdue(reg, today)))
