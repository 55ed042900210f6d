"""Chemicals and dust: TWA, STEL, ceiling, peak rules, mixtures, classes, shift adjustments (standards.md §3.3)."""

from __future__ import annotations

import pytest

from exposure.chemical import (
    brief_scala_factor,
    ceiling,
    exposure_class,
    gbz_peak_rule,
    mixture_index,
    osha_lead_pel_ug,
    osha_z2_peaks,
    stel,
    twa,
)
from exposure.profiles import applicable_limit
from exposure.segments import series_from_durations

H, MIN = 3600.0, 60.0


def conc(*pairs: tuple[float, float], unit: str = "ppm") -> object:
    return series_from_durations(list(pairs), unit=unit)


def test_osha_8h_twa_example() -> None:
    """1910.1000(d)(1)(ii) example (TV-C1 [R40]): 2 h@150, 2 h@75, 4 h@50 ppm -> 81.25 ppm, under a 100 ppm PEL."""
    r = twa(conc((150, 2 * H), (75, 2 * H), (50, 4 * H)), limit=100)
    assert r.twa == pytest.approx(81.25)
    assert r.ratio == pytest.approx(0.8125) and not r.exceeds and r.verdict == "within"
    assert r.limit is not None and r.limit.source == "user-supplied"


def test_osha_mixture_example() -> None:
    """1910.1000(d)(2)(i) example (TV-C2 [R40]): 500/1000 + 45/200 + 40/200 = 0.925 -> acceptable."""
    r = mixture_index([(500, 1000), (45, 200), (40, 200)])
    assert r.index == pytest.approx(0.925) and not r.exceeds


def test_mixture_over_one_exceeds() -> None:
    """GBZ 2.1-2019 3.8 [R18]: a mixture index above 1 needs control even when each term is below 1."""
    r = mixture_index([(0.6, 1), (0.5, 1)])
    assert r.index == pytest.approx(1.1) and r.exceeds


@pytest.mark.parametrize(("hours", "rf"), [(8, 1.0), (10, 0.70), (12, 0.50), (6, 1.0)])
def test_brief_scala_daily_factor(hours: float, rf: float) -> None:
    """Brief & Scala (TV-C3 [R42b][R42c]): RF = (8/h)(24-h)/16; 10 h -> 0.7, 12 h -> 0.5; not for short shifts."""
    assert brief_scala_factor(hours) == pytest.approx(rf)


def test_brief_scala_adjusts_the_limit_only_when_asked() -> None:
    """Brief & Scala is opt-in (ACGIH practice, not OSHA rule [R42a]): a 12-h shift TWA against 0.5 x the limit."""
    s = conc((60, 12 * H))
    plain = twa(s, limit=100, reference_h=12)
    adjusted = twa(s, limit=100, reference_h=12, adjustment="brief-scala")
    assert plain.twa == pytest.approx(60) and not plain.exceeds
    assert adjusted.limit is not None and adjusted.limit.value == pytest.approx(50) and adjusted.exceeds
    assert "Brief & Scala" in adjusted.limit.note


@pytest.mark.parametrize(("hours", "pel"), [(10, 40), (12, 33)])
def test_osha_lead_pel_for_extended_shifts(hours: float, pel: float) -> None:
    """OSHA lead (TV-C4 [R8]): PEL = 400 / hours ug/m3 -> 40 at 10 h, 33 at 12 h."""
    assert osha_lead_pel_ug(hours) == pytest.approx(pel, abs=0.5)


def test_china_ctwa() -> None:
    """China CTWA (TV-C11 [R17c]): 2 h@12 + 6 h@4 mg/m3 -> (24 + 24)/8 = 6.0 mg/m3."""
    assert twa(conc((12, 2 * H), (4, 6 * H), unit="mg/m3")).twa == pytest.approx(6.0)


def test_china_cste_short_exposure_is_averaged_over_15_min() -> None:
    """China CSTE (TV-C10 [R17c]): 5 min @ 30 mg/m3, then nothing -> 10 mg/m3 (15-min average)."""
    assert stel(conc((30, 5 * MIN), unit="mg/m3")).value == pytest.approx(10.0)
    assert stel(conc((30, 5 * MIN), (0, 10 * MIN), unit="mg/m3")).value == pytest.approx(10.0)


def test_stel_is_the_highest_sliding_15_min_average() -> None:
    """ACGIH TLV-STEL / GBZ PC-STEL: the worst 15-min window, wherever it starts (not clock-aligned)."""
    s = conc((0, 10 * MIN), (40, 10 * MIN), (20, 10 * MIN), (0, 30 * MIN))
    r = stel(s, limit=30)
    assert r.value == pytest.approx((40 * 10 + 20 * 5) / 15)
    assert r.window_start_ms == 10 * 60 * 1000 and r.exceeds


def test_stel_against_a_catalogue_limit_names_its_source() -> None:
    """GBZ 2.1-2019 Table 1 (CO PC-STEL 30 mg/m3, secondary [R20b]): the result names the document and the mark."""
    lim = applicable_limit("co", "cn", "stel")
    assert lim is not None
    r = stel(conc((35, 20 * MIN), unit="mg/m3"), limit=lim)
    assert r.exceeds and r.limit is not None
    assert r.limit.source.startswith("GBZ 2.1-2019") and r.limit.mark == "secondary"


def test_twa_converts_the_limit_to_the_series_unit() -> None:
    """OSHA CO PEL 50 ppm (Table Z-1) against mg/m3 data at 24.45 L/mol: 50 ppm = 57.28 mg/m3."""
    lim = applicable_limit("co", "us-osha", "twa")
    assert lim is not None
    r = twa(conc((57.0, 8 * H), unit="mg/m3"), limit=lim)
    assert r.limit is not None and r.limit.value == pytest.approx(50 * 28.01 / 24.45)
    assert not r.exceeds and "converted at 24.45" in r.limit.note


def test_ceiling_is_never_to_be_exceeded() -> None:
    """GBZ 2.1-2019 MAC / OSHA ceiling (1915.1000(a)(1) [R41]): one value above the ceiling exceeds."""
    r = ceiling(conc((5, 7 * H), (12, 60), (5, H - 60)), limit=10)
    assert r.max_value == 12 and r.exceeds


def test_niosh_ceiling_with_averaging_period() -> None:
    """NIOSH REL Cl2 C 0.5 ppm 15-min [R30d]: the ceiling is assessed as the highest 15-min average."""
    lim = applicable_limit("cl2", "us-niosh", "ceiling")
    assert lim is not None and lim.limit.averaging_min == 15
    r = ceiling(conc((1.2, 5 * MIN), (0.3, 2 * H)), limit=lim)
    assert r.max_value == pytest.approx((1.2 * 5 + 0.3 * 10) / 15) and r.exceeds


def test_gbz_peak_rule_passes_four_short_spaced_episodes() -> None:
    """GBZ 2.1-2019 peak rule (TV-C9 [R18]): PC-TWA 10: four episodes of 15 min at 40, 1 h apart, are allowed."""
    pairs: list[tuple[float, float]] = []
    for _ in range(4):
        pairs += [(40, 15 * MIN), (5, H)]
    r = gbz_peak_rule(conc(*pairs, unit="mg/m3"), pc_twa=10)
    assert r.ok and len(r.episodes) == 4 and r.threshold == 30 and r.never_above == 50


@pytest.mark.parametrize(
    ("pairs", "rule"),
    [
        ([(5, H), (51, MIN), (5, H)], "above-5x-pc-twa"),
        ([(5, H), (40, 16 * MIN), (5, H)], "episode-over-15-min"),
        ([(40, MIN), (5, 59 * MIN), (40, MIN)], "episodes-under-1-h-apart"),
        ([(40, MIN), (5, H)] * 5, "more-than-4-episodes"),
    ],
)
def test_gbz_peak_rule_violations(pairs: list[tuple[float, float]], rule: str) -> None:
    """GBZ 2.1-2019 peak rule (TV-C9 [R18]): > 5 x, > 15 min, < 1 h apart and > 4 a day each break it."""
    r = gbz_peak_rule(conc(*pairs, unit="mg/m3"), pc_twa=10)
    assert not r.ok and rule in {v.rule for v in r.violations}


def test_osha_z2_acceptable_peak_for_h2s() -> None:
    """OSHA Table Z-2 H2S [R34b]: C 20 ppm; one period of up to 10 min up to 50 ppm is acceptable, a second is not."""
    c = applicable_limit("h2s", "us-osha", "ceiling")
    p = applicable_limit("h2s", "us-osha", "peak")
    assert c is not None and p is not None
    once = osha_z2_peaks(conc((10, 4 * H), (45, 10 * MIN), (10, 4 * H)), ceiling_limit=c, peak_limit=p)
    assert once.ok
    twice = osha_z2_peaks(conc((10, H), (45, 5 * MIN), (10, H), (45, 5 * MIN)), ceiling_limit=c, peak_limit=p)
    assert not twice.ok and {v.rule for v in twice.violations} == {"too-many-excursions"}
    above = osha_z2_peaks(conc((10, H), (55, MIN)), ceiling_limit=c, peak_limit=p)
    assert {v.rule for v in above.violations} == {"above-peak"}


@pytest.mark.parametrize(("c", "level"), [(0.01, "0"), (0.05, "I"), (0.3, "II"), (1.0, "III"), (1.01, "IV")])
def test_gbz_exposure_classes(c: float, level: str) -> None:
    """GBZ 2.1-2019 6.5.1 [R18]: C/OEL <= 1 % 0; <= 10 % I; <= 50 % II; <= 100 % III; above IV."""
    assert exposure_class(c, 1.0).level == level


def test_twa_with_a_gap_is_incomplete_not_within() -> None:
    """DESIGN §5: time without valid data is reported as coverage, never filled: a short day is 'incomplete'."""
    s = series_from_durations([(50, 6 * H)], unit="ppm", period_s=8 * H)
    r = twa(s, limit=100)
    assert r.twa == pytest.approx(37.5) and r.coverage.fraction == pytest.approx(0.75)
    assert r.verdict == "incomplete" and r.projected_twa == pytest.approx(50)
    assert [g.reason for g in r.coverage.gaps] == ["no_data"]
