"""The results of exposure evaluations: frozen dataclasses that carry the number, its coverage, the limit used
(with its source and verification mark), the ratio to the limit and the verdict.

A verdict is one of:
- ``exceeds``: the measured value is above the limit. Missing data can only add exposure, so this is certain.
- ``within``: the data cover the whole period and the value is at or below the limit.
- ``incomplete``: the value is at or below the limit, but part of the period has no valid data.
- ``no_limit``: no limit was given or found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["exceeds", "within", "incomplete", "no_limit"]
GapReason = Literal["no_data", "flagged"]

#: Coverage at or above this fraction counts as complete (absorbs rounding of ms arithmetic).
COMPLETE = 1.0 - 1e-9


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of the period without valid data. `flagged`: only flagged readings cover it."""

    start_ms: int
    end_ms: int
    reason: GapReason

    @property
    def duration_s(self) -> float:
        return (self.end_ms - self.start_ms) / 1000.0


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of the period [start_ms, end_ms) valid data cover, the gaps, and the readings excluded."""

    start_ms: int
    end_ms: int
    covered_s: float
    gaps: tuple[Gap, ...] = ()
    excluded_readings: int = 0

    @property
    def period_s(self) -> float:
        return (self.end_ms - self.start_ms) / 1000.0

    @property
    def fraction(self) -> float:
        return self.covered_s / self.period_s if self.period_s > 0 else 0.0

    @property
    def complete(self) -> bool:
        return self.fraction >= COMPLETE and self.excluded_readings == 0


@dataclass(frozen=True, slots=True)
class LimitUsed:
    """The limit a result was compared with, expressed in the result's unit, and where it comes from."""

    value: float
    unit: str
    kind: str
    source: str
    clause: str
    mark: str
    substance: str | None = None
    note: str = ""

    @property
    def label(self) -> str:
        where = f"{self.source} {self.clause}".strip()
        return f"{where} [{self.mark}]"


def user_limit(value: float, unit: str, kind: str) -> LimitUsed:
    """A limit typed by the user (calculator, tests): its source says so."""
    return LimitUsed(value=value, unit=unit, kind=kind, source="user-supplied", clause="", mark="user")


def verdict_of(exceeds: bool, limit: LimitUsed | None, coverage: Coverage) -> Verdict:
    if limit is None:
        return "no_limit"
    if exceeds:
        return "exceeds"
    return "within" if coverage.complete else "incomplete"


@dataclass(frozen=True, slots=True)
class TwaResult:
    """Time-weighted average: sum(Ci*Ti) over valid data / reference time."""

    twa: float
    unit: str
    reference_h: float
    coverage: Coverage
    projected_twa: float | None
    limit: LimitUsed | None
    adjustment_factor: float
    ratio: float | None
    exceeds: bool
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class WindowResult:
    """The highest average over a sliding window (STEL: 15 min; NIOSH ceilings: 10 or 15 min)."""

    value: float
    unit: str
    window_s: float
    window_start_ms: int | None
    coverage: Coverage
    limit: LimitUsed | None
    ratio: float | None
    exceeds: bool
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class CeilingResult:
    """The highest valid value (a ceiling / MAC must never be exceeded)."""

    max_value: float | None
    at_ms: int | None
    unit: str
    coverage: Coverage
    limit: LimitUsed | None
    ratio: float | None
    exceeds: bool
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class Episode:
    """A maximal run of time above a threshold."""

    start_ms: int
    end_ms: int
    max_value: float

    @property
    def duration_s(self) -> float:
        return (self.end_ms - self.start_ms) / 1000.0


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    detail: str
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True, slots=True)
class PeakRuleResult:
    """GBZ 2.1-2019 peak exposure rule or OSHA Z-2 acceptable peaks: ok when no rule is broken."""

    rule: str
    ok: bool
    violations: tuple[Violation, ...]
    episodes: tuple[Episode, ...]
    threshold: float
    never_above: float
    unit: str
    coverage: Coverage
    limit: LimitUsed | None


@dataclass(frozen=True, slots=True)
class MixtureTerm:
    concentration: float
    limit: float
    ratio: float


@dataclass(frozen=True, slots=True)
class MixtureResult:
    """Additive mixture index sum(Ci/Li); above 1 exceeds."""

    index: float
    terms: tuple[MixtureTerm, ...]
    exceeds: bool


@dataclass(frozen=True, slots=True)
class ExposureClass:
    """GBZ 2.1-2019 6.5.1 exposure-level class by C/OEL: 0, I, II, III, IV."""

    level: Literal["0", "I", "II", "III", "IV"]
    ratio: float


@dataclass(frozen=True, slots=True)
class NoiseDoseResult:
    """Noise dose (%) and its TWA for a dose criterion (OSHA PEL, OSHA HC, NIOSH)."""

    criterion: str
    dose_percent: float
    twa_db: float | None
    coverage: Coverage
    shift_h: float
    projected_dose_percent: float | None
    projected_twa_db: float | None
    limit: LimitUsed | None
    exceeds: bool
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class LexResult:
    """Daily noise exposure level LEX,8h (ISO 9612, 2003/10/EC, GBZ 2.2) and LAeq over the valid time."""

    criterion: str
    lex_8h_db: float | None
    laeq_db: float | None
    exposure_h: float
    coverage: Coverage
    projected_lex_8h_db: float | None
    limit: LimitUsed | None
    exceeds: bool
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class PeakLevelResult:
    """The highest peak sound level (LCpeak) against the applicable peak limits."""

    max_db: float | None
    at_ms: int | None
    coverage: Coverage
    limits: tuple[LimitUsed, ...]
    exceeded: tuple[LimitUsed, ...]

    @property
    def exceeds(self) -> bool:
        return bool(self.exceeded)
