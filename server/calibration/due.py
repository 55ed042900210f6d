"""When a sensor's calibration and bump test fall due, and whether they are overdue. Pure: today is an argument.

Due = last + interval (days), unless a due date was given directly (in the API). Overdue when today (UTC) is
after the due date: the due day itself is not overdue. An interval with neither a recorded date nor a due date
counts as overdue, as on the agent (agent/calibration.py): nobody can show when it was last done.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

#: the longest interval the register takes (ten years): beyond is a typo
MAX_INTERVAL_DAYS = 3660

Check = Literal["calibration", "bump test"]


@dataclass(frozen=True)
class Register:
    """A sensor's entry in the calibration register."""

    last_calibrated: date | None = None
    calibration_interval_days: int | None = None
    calibration_due: date | None = None
    last_bump_test: date | None = None
    bump_test_interval_days: int | None = None
    bump_test_due: date | None = None
    certificate: str | None = None


@dataclass(frozen=True)
class Overdue:
    """A check past its due date (`due` None: an interval is set but none was ever recorded)."""

    check: Check
    due: date | None
    interval_days: int | None

    @property
    def since(self) -> date | None:
        """The first day it is overdue."""
        return None if self.due is None else self.due + timedelta(days=1)

    def describe(self) -> str:
        if self.due is None:
            return f"{self.check} overdue: due every {self.interval_days} days and none is recorded"
        return f"{self.check} overdue since {self.since} (due {self.due})"


def utc_date(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date()


def start_of_day_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def due_date(last: date | None, interval_days: int | None) -> date | None:
    if last is None or interval_days is None:
        return None
    return last + timedelta(days=interval_days)


def with_dues(reg: Register) -> Register:
    """The entry with each due date not given directly computed as last + interval."""
    return dataclasses.replace(
        reg,
        calibration_due=reg.calibration_due or due_date(reg.last_calibrated, reg.calibration_interval_days),
        bump_test_due=reg.bump_test_due or due_date(reg.last_bump_test, reg.bump_test_interval_days),
    )


def overdue(reg: Register, today: date) -> tuple[Overdue, ...]:
    """The checks of `reg` that are overdue on `today` (UTC), calibration first."""
    reg = with_dues(reg)
    checks: tuple[tuple[Check, date | None, int | None], ...] = (
        ("calibration", reg.calibration_due, reg.calibration_interval_days),
        ("bump test", reg.bump_test_due, reg.bump_test_interval_days),
    )
    out = []
    for check, due, interval in checks:
        if (due is not None and today > due) or (due is None and interval is not None):
            out.append(Overdue(check, due, interval))
    return tuple(out)


def problem(reg: Register, today: date) -> str | None:
    """What makes an entry given in the API unusable, as `field: reason`, or None."""
    for name, last in (("last_calibrated", reg.last_calibrated), ("last_bump_test", reg.last_bump_test)):
        if last is not None and last > today:
            return f"{name}: {last} is in the future (today is {today}, UTC)"
    pairs = (
        ("calibration_due", reg.calibration_due, "last_calibrated", "calibration_interval_days",
         due_date(reg.last_calibrated, reg.calibration_interval_days)),
        ("bump_test_due", reg.bump_test_due, "last_bump_test", "bump_test_interval_days",
         due_date(reg.last_bump_test, reg.bump_test_interval_days)),
    )
    for name, given, last_name, interval_name, computed in pairs:
        if given is not None and computed is not None and given != computed:
            return (f"{name}: {given} is not {last_name} + {interval_name} ({computed}); give the due date or the "
                    "interval, not both")
    return None
