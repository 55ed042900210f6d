"""Noise: dose and TWA (OSHA 1910.95 App. A PEL and hearing conservation; NIOSH), LEX,8h and LEX,w (ISO 9612,
2003/10/EC, GBZ 2.2-2007 / GBZ/T 189.8), peaks (LCpeak), and projections for a partial shift.
Formulas and sources: docs/exposure.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Final, Literal

from exposure.catalogue import Catalogue, Kind
from exposure.errors import InvalidInput
from exposure.profiles import AppliedLimit, applicable_limit, applicable_limits
from exposure.results import Coverage, LexResult, LimitUsed, NoiseDoseResult, PeakLevelResult, verdict_of
from exposure.segments import Segment, Series


@dataclass(frozen=True, slots=True)
class DoseCriterion:
    """A dose rule: T(L) = 8 / 2^((L - criterion)/exchange) h; levels below `threshold_db` add nothing;
    TWA = twa_factor x lg(D/100) + criterion (the factor as published: 16.61 for OSHA, 10 for NIOSH)."""

    name: str
    criterion_db: float
    exchange_db: float
    threshold_db: float | None
    twa_factor: float
    profile: str
    limit_kind: Kind
    trigger: Literal[">", ">="]
    title: str


@dataclass(frozen=True, slots=True)
class LexCriterion:
    name: str
    profile: str
    limit_kind: Kind
    title: str


DOSE_CRITERIA: Final[Mapping[str, DoseCriterion]] = MappingProxyType(
    {
        "osha-pel": DoseCriterion("osha-pel", 90.0, 5.0, 90.0, 16.61, "us-osha", "twa", ">",
                                  "OSHA 1910.95 PEL: 90 dBA criterion, 5 dB exchange, 90 dB threshold"),
        "osha-hc": DoseCriterion("osha-hc", 90.0, 5.0, 80.0, 16.61, "us-osha", "action_level", ">=",
                                 "OSHA 1910.95(c) hearing conservation: 80 dB threshold, action level 85 dBA (50 %)"),
        "niosh": DoseCriterion("niosh", 85.0, 3.0, None, 10.0, "us-niosh", "twa", ">",
                               "NIOSH REL: 85 dBA criterion, 3 dB exchange, no threshold"),
    }
)
LEX_CRITERIA: Final[Mapping[str, LexCriterion]] = MappingProxyType(
    {
        "iso": LexCriterion("iso", "eu", "twa", "ISO 9612 / 2003/10/EC: LEX,8h, exposure limit value 87 dB(A)"),
        "gbz": LexCriterion("gbz", "cn", "twa", "GBZ 2.2-2007 / GBZ/T 189.8: LEX,8h, limit 85 dB(A)"),
    }
)
CRITERIA: Final = (*DOSE_CRITERIA, *LEX_CRITERIA)


def dose_criterion(name: str) -> DoseCriterion:
    try:
        return DOSE_CRITERIA[name]
    except KeyError:
        known = ", ".join(DOSE_CRITERIA)
        raise InvalidInput("criterion", f"unknown dose criterion {name!r} (known: {known})") from None


def reference_duration_h(level_db: float, criterion: DoseCriterion | str = "osha-pel") -> float:
    """T = 8 / 2^((L - criterion)/exchange) hours (1910.95 Table G-16a footnote; NIOSH 98-126)."""
    c = dose_criterion(criterion) if isinstance(criterion, str) else criterion
    return float(8.0 / 2.0 ** ((level_db - c.criterion_db) / c.exchange_db))


def dose_contribution(level_db: float, seconds: float, criterion: DoseCriterion) -> float:
    """Dose fraction (1 = 100 %) of `seconds` at `level_db`: C/T, or 0 below the threshold."""
    if criterion.threshold_db is not None and level_db < criterion.threshold_db:
        return 0.0
    return seconds / 3600.0 / reference_duration_h(level_db, criterion)


def dose_to_twa(dose_percent: float, criterion: DoseCriterion | str = "osha-pel") -> float | None:
    """TWA = factor x lg(D/100) + criterion (OSHA App. A: 16.61; NIOSH: 10). None for a zero dose."""
    c = dose_criterion(criterion) if isinstance(criterion, str) else criterion
    if dose_percent <= 0:
        return None
    return c.twa_factor * math.log10(dose_percent / 100.0) + c.criterion_db


def _limit(profile: str, kind: Kind, substance: str, catalogue: Catalogue | None) -> AppliedLimit | None:
    if catalogue is None:
        return _packaged_limit(profile, kind, substance)
    return applicable_limit(substance, profile, kind, catalogue=catalogue)


@lru_cache(maxsize=256)
def _packaged_limit(profile: str, kind: Kind, substance: str) -> AppliedLimit | None:
    """The packaged catalogue never changes in a process: look each limit up once (streaming callers ask for
    it on every reading)."""
    return applicable_limit(substance, profile, kind)


def noise_dose(
    series: Series,
    *,
    criterion: str = "osha-pel",
    shift_h: float = 8.0,
    catalogue: Catalogue | None = None,
) -> NoiseDoseResult:
    """Dose D = 100 x sum(Cn/Tn) over valid LAeq segments and its TWA; the limit comes from the catalogue
    (OSHA PEL 90, OSHA action level 85, NIOSH REL 85 dBA). The projected dose scales the measured dose to the
    whole `shift_h` as if the uncovered time were like the covered time (for a partial shift; an estimate)."""
    c = dose_criterion(criterion)
    return dose_result(series.coverage, dose_fraction_of(series.segments, c), c, shift_h=shift_h,
                       catalogue=catalogue)


def dose_fraction_of(segments: Sequence[Segment], c: DoseCriterion) -> float:
    return math.fsum(dose_contribution(s.value, (s.end_ms - s.start_ms) / 1000.0, c) for s in segments)


def dose_result(
    cov: Coverage, dose: float, c: DoseCriterion, *, shift_h: float, catalogue: Catalogue | None = None
) -> NoiseDoseResult:
    if not math.isfinite(shift_h) or shift_h <= 0:
        raise InvalidInput("shift_h", "must be a positive number of hours")
    dose_pct = 100.0 * dose
    twa_db = dose_to_twa(dose_pct, c)
    projected = dose_pct * shift_h * 3600.0 / cov.covered_s if cov.covered_s > 0 else None
    projected_twa = dose_to_twa(projected, c) if projected is not None else None
    applied = _limit(c.profile, c.limit_kind, "noise", catalogue)
    used = applied.used() if applied else None
    if used is None or twa_db is None:
        exceeds = False
    else:
        exceeds = twa_db >= used.value if c.trigger == ">=" else twa_db > used.value
        # the dose is exact; the TWA is rounded through a published factor: decide on the dose
        limit_dose = 100.0 * 2.0 ** ((used.value - c.criterion_db) / (c.twa_factor * math.log10(2.0)))
        exceeds = dose_pct >= limit_dose - 1e-9 if c.trigger == ">=" else dose_pct > limit_dose + 1e-9
    return NoiseDoseResult(c.name, dose_pct, twa_db, cov, shift_h, projected, projected_twa, used, exceeds,
                           verdict_of(exceeds, used, cov))


def energy_h(segments: Sequence[Segment]) -> float:
    """sum(ti x 10^(0.1 Li)), ti in hours."""
    return math.fsum((s.end_ms - s.start_ms) / 3.6e6 * 10.0 ** (0.1 * s.value) for s in segments)


def lex_8h(
    series: Series, *, criterion: str = "iso", shift_h: float = 8.0, catalogue: Catalogue | None = None
) -> LexResult:
    """LEX,8h = 10 lg[(1/8) sum(ti x 10^(0.1 LAeq,i))] (ISO 9612:2009; 2003/10/EC Art. 2; GBZ 2.2-2007 11.1.7)."""
    if criterion not in LEX_CRITERIA:
        raise InvalidInput("criterion", f"unknown LEX criterion {criterion!r} (known: {', '.join(LEX_CRITERIA)})")
    return lex_result(series.coverage, energy_h(series.segments), LEX_CRITERIA[criterion], shift_h=shift_h,
                      catalogue=catalogue)


def lex_result(
    cov: Coverage, energy: float, c: LexCriterion, *, shift_h: float, catalogue: Catalogue | None = None
) -> LexResult:
    covered_h = cov.covered_s / 3600.0
    lex = 10.0 * math.log10(energy / 8.0) if energy > 0 else None
    laeq = 10.0 * math.log10(energy / covered_h) if energy > 0 and covered_h > 0 else None
    projected = 10.0 * math.log10(energy * shift_h / covered_h / 8.0) if energy > 0 and covered_h > 0 else None
    applied = applicable_limits("noise", c.profile, kind=c.limit_kind, catalogue=catalogue)
    daily = [a for a in applied if a.limit.averaging_min in (None, 480.0)]
    used: LimitUsed | None = daily[0].used() if daily else None
    exceeds = used is not None and lex is not None and lex > used.value
    return LexResult(c.name, lex, laeq, covered_h, cov, projected, used, exceeds, verdict_of(exceeds, used, cov))


def lex_w(daily_lex_db: Sequence[float]) -> float:
    """LEX,w = 10 lg[(1/5) sum_k 10^(0.1 LEX,8h,k)] over the m working days of the week (ISO 1999) [R11a].
    GBZ LEX,W (40-h equivalent) is the same quantity."""
    if not daily_lex_db:
        raise InvalidInput("daily_lex_db", "at least one day is needed")
    return 10.0 * math.log10(math.fsum(10.0 ** (0.1 * v) for v in daily_lex_db) / 5.0)


def laeq(segments: Sequence[tuple[float, float]]) -> float:
    """LAeq,T = 10 lg[(1/T) sum(ti x 10^(0.1 Li))] for (level, seconds) pairs."""
    total = math.fsum(t for _, t in segments)
    if total <= 0:
        raise InvalidInput("segments", "total duration must be positive")
    return 10.0 * math.log10(math.fsum(t * 10.0 ** (0.1 * v) for v, t in segments) / total)


def gbz_reference_limit_db(hours_per_day: float) -> float:
    """GBZ/T 189.8-2007 Annex B (informative): 85 dB(A) at 8 h, +3 dB(A) per halving, never above 115 [R14f]."""
    if not math.isfinite(hours_per_day) or hours_per_day <= 0:
        raise InvalidInput("hours_per_day", "must be a positive number of hours")
    if hours_per_day >= 8.0:
        return 85.0
    return min(115.0, 85.0 + 3.0 * math.log2(8.0 / hours_per_day))


def osha_extended_shift_action_level(shift_h: float) -> float:
    """OSHA policy for shifts over 8 h: AL = 90 + 16.61 lg[50 / (12.5 h)] (10 h: 83.4; 12 h: 82.1) [R8]."""
    if shift_h <= 0:
        raise InvalidInput("shift_h", "must be positive")
    return 90.0 + 16.61 * math.log10(50.0 / (12.5 * shift_h))


def gbz_impulse_limit_db(impulses_per_day: int) -> float | None:
    """GBZ 2.2-2007 impulse noise peak limit by impulses per day: <=100: 140; <=1000: 130; <=10000: 120;
    more: no limit published (None) [R14d]. The unit (dB, dB(A) or dB(C)) is UNVERIFIED."""
    if impulses_per_day < 0:
        raise InvalidInput("impulses_per_day", "must not be negative")
    if impulses_per_day <= 100:
        return 140.0
    if impulses_per_day <= 1000:
        return 130.0
    if impulses_per_day <= 10000:
        return 120.0
    return None


def _impulse_variant(n: int) -> str | None:
    if n <= 100:
        return "impulses-up-to-100"
    if n <= 1000:
        return "impulses-up-to-1000"
    if n <= 10000:
        return "impulses-up-to-10000"
    return None


def peak_level(
    series: Series,
    *,
    profile: str = "eu",
    impulses_per_day: int | None = None,
    catalogue: Catalogue | None = None,
) -> PeakLevelResult:
    """The highest LCpeak against the profile's peak limits (EU 135/137/140 dB(C); OSHA 140 dB; GBZ by impulses
    per day, which must then be given)."""
    if series.segments:
        top = max(series.segments, key=lambda s: s.value)
        max_db: float | None = top.value
        at: int | None = top.start_ms
    else:
        max_db, at = None, None
    variant = None
    if profile == "cn":
        if impulses_per_day is None:
            raise InvalidInput("impulses_per_day", "GBZ 2.2 impulse limits depend on the impulses per day")
        variant = _impulse_variant(impulses_per_day)
    applied = applicable_limits("noise_peak", profile, variant=variant, catalogue=catalogue)
    limits = tuple(a.used() for a in applied)
    exceeded = tuple(u for u in limits if max_db is not None and max_db > u.value)
    return PeakLevelResult(max_db, at, series.coverage, limits, exceeded)
