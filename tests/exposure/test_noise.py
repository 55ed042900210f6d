"""Noise: dose, TWA, LEX,8h, LEX,w and peaks against the published examples (standards.md §3.1, §3.2)."""

from __future__ import annotations

import math

import pytest

from exposure.noise import (
    dose_to_twa,
    gbz_impulse_limit_db,
    gbz_reference_limit_db,
    lex_8h,
    lex_w,
    noise_dose,
    osha_extended_shift_action_level,
    peak_level,
    reference_duration_h,
)
from exposure.segments import series_from_durations
from exposure.units import db_to_pa, pa_to_db

H = 3600.0


def day(*pairs: tuple[float, float]) -> object:
    return series_from_durations([(level, hours * H) for level, hours in pairs], unit="dB(A)")


G16A = {80: 32, 81: 27.9, 82: 24.3, 84: 18.4, 85: 16, 86: 13.9, 87: 12.1, 88: 10.6, 89: 9.2, 90: 8, 91: 7.0,
        92: 6.1, 93: 5.3, 94: 4.6, 95: 4, 96: 3.5, 97: 3.0, 98: 2.6, 99: 2.3, 100: 2, 101: 1.7, 102: 1.5,
        103: 1.3, 104: 1.1, 105: 1, 106: 0.87, 107: 0.76, 108: 0.66, 109: 0.57, 110: 0.5, 111: 0.44, 112: 0.38,
        113: 0.33, 114: 0.29, 115: 0.25, 116: 0.22, 117: 0.19, 118: 0.16, 119: 0.14, 120: 0.125, 121: 0.11,
        122: 0.095, 123: 0.082, 124: 0.072, 125: 0.063, 126: 0.054, 127: 0.047, 128: 0.041, 129: 0.036,
        130: 0.031}


@pytest.mark.parametrize(("level", "hours"), sorted(G16A.items()))
def test_reference_duration_matches_table_g16a(level: int, hours: float) -> None:
    """OSHA 1910.95 App. A Table G-16a (TV-N16): T = 8/2^((L-90)/5) agrees with the printed table to its rounding."""
    t = reference_duration_h(level, "osha-pel")
    digits = len(str(hours).split(".")[1]) if "." in str(hours) else 0
    assert t == pytest.approx(hours, abs=0.5 * 10 ** -max(digits, 0) + 1e-9 if digits else 0.5)


def test_reference_duration_at_83_db_is_computed_not_looked_up() -> None:
    """OSHA App. A G-16a at 83 dB prints 21.1 (old page) or 21.2 (current page); the formula gives 21.11 (TV-N16)."""
    assert reference_duration_h(83, "osha-pel") == pytest.approx(21.112, abs=1e-3)


@pytest.mark.parametrize(("level", "hours"), [(80, 32), (115, 0.25), (130, 0.03125), (95, 4)])
def test_reference_duration_exact_points(level: float, hours: float) -> None:
    """OSHA App. A footnote formula: TV-N3 (95 dB -> 4 h) and TV-N16 (80 -> 32, 115 -> 0.25, 130 -> 0.03125 h)."""
    assert reference_duration_h(level, "osha-pel") == pytest.approx(hours, rel=1e-12)


def test_osha_appendix_a_worked_example() -> None:
    """TV-N1 (Soundtrace App. A guide [R6]): 4 h@90, 2 h@95, 2 h@85 -> D 112.5 %, TWA 90.85 (80-dB threshold)."""
    r = noise_dose(day((90, 4), (95, 2), (85, 2)), criterion="osha-hc")
    assert r.dose_percent == pytest.approx(112.5, abs=1e-9)
    assert r.twa_db == pytest.approx(90.85, abs=0.005)
    assert r.exceeds and r.limit is not None and r.limit.value == 85


def test_osha_pel_dose_ignores_levels_below_90() -> None:
    """1910.95(b) Table G-16 starts at 90 dBA: the PEL dose of TV-N1's day is 50 % + 50 % = 100 %, not over the PEL."""
    r = noise_dose(day((90, 4), (95, 2), (85, 2)), criterion="osha-pel")
    assert r.dose_percent == pytest.approx(100.0)
    assert r.twa_db == pytest.approx(90.0)
    assert not r.exceeds and r.verdict == "within"


def test_osha_eight_hours_at_92() -> None:
    """TV-N2 (stepo.ai on App. A [R7]): 8 h @ 92 dBA -> D 131.95 % with T from the formula, TWA 92.00."""
    r = noise_dose(day((92, 8)), criterion="osha-pel")
    assert r.dose_percent == pytest.approx(131.95, abs=0.01)
    assert r.twa_db == pytest.approx(92.00, abs=0.005)
    assert r.exceeds


def test_osha_taiwan_exam_day() -> None:
    """TV-N4 [R51]: 4 h@90 (50 %) + measured 40 % + 4 h@85 (25 %) = 115 % -> TWA 91.0 with the 80-dB threshold."""
    measured = 40.0
    d = noise_dose(day((90, 4), (85, 4)), criterion="osha-hc").dose_percent + measured
    assert d == pytest.approx(115.0)
    assert dose_to_twa(d, "osha-hc") == pytest.approx(91.01, abs=0.005)


@pytest.mark.parametrize(("dose", "twa"), [(25, 80.00), (50, 85.00), (91, 89.32), (100, 90.00), (200, 95.00),
                                           (400, 100.00)])
def test_osha_dose_to_twa(dose: float, twa: float) -> None:
    """OSHA App. A: TWA = 16.61 lg(D/100) + 90 (TV-N5 50 % = 85 dBA; TV-N14)."""
    assert dose_to_twa(dose, "osha-pel") == pytest.approx(twa, abs=0.01)


def test_osha_threshold_excludes_79_db() -> None:
    """1910.95(d)(2)(i) integrates 80-130 dB (TV-N17): 8 h @ 79 dBA is a 0 % dose, so no TWA."""
    r = noise_dose(day((79, 8)), criterion="osha-hc")
    assert r.dose_percent == 0 and r.twa_db is None and not r.exceeds


@pytest.mark.parametrize(("level", "seconds"), [(85, 8 * H), (88, 4 * H), (91, 2 * H), (94, 3600), (97, 1800),
                                                (100, 900), (112, 56.25)])
def test_niosh_exchange_rate_table(level: float, seconds: float) -> None:
    """NIOSH 98-126 exchange-rate table (TV-N6, TV-N7, TV-N8 [R9a][R9d]): 3 dB halves the allowed time."""
    assert reference_duration_h(level, "niosh") * H == pytest.approx(seconds, rel=1e-12)


def test_niosh_dose_of_tv_n1_day() -> None:
    """TV-N12 (derived from NIOSH formulas): 4 h@90, 2 h@95, 2 h@85 -> D 435.72 %, TWA 91.39 dBA."""
    r = noise_dose(day((90, 4), (95, 2), (85, 2)), criterion="niosh")
    assert r.dose_percent == pytest.approx(435.72, abs=0.01)
    assert r.twa_db == pytest.approx(91.39, abs=0.005)


def test_niosh_two_hundred_percent() -> None:
    """TV-N13 (derived, NIOSH): 4 h@85, 2 h@91, 2 h@88 -> D 200 %, TWA 88.01 dBA."""
    r = noise_dose(day((85, 4), (91, 2), (88, 2)), criterion="niosh")
    assert r.dose_percent == pytest.approx(200.0)
    assert r.twa_db == pytest.approx(88.01, abs=0.005)


@pytest.mark.parametrize(("dose", "twa"), [(50, 81.99), (100, 85.00), (200, 88.01), (400, 91.02)])
def test_niosh_dose_to_twa(dose: float, twa: float) -> None:
    """NIOSH 98-126 [R9b]: TWA = 10 lg(D/100) + 85 (TV-N15)."""
    assert dose_to_twa(dose, "niosh") == pytest.approx(twa, abs=0.005)


def test_lep_d_hong_kong_example() -> None:
    """TV-N9 (HK Labour Dept, ISO energy sum [R12]): 3 h@88 + 5 h@81 -> LEP,d 85 dB(A) (84.99)."""
    r = lex_8h(day((88, 3), (81, 5)), criterion="iso")
    assert r.lex_8h_db == pytest.approx(84.99, abs=0.01)
    assert not r.exceeds and r.limit is not None and r.limit.value == 87


def test_lex_8h_four_hours_at_90() -> None:
    """TV-N18 (ISO 9612 LEX,8h = LAeq,Te + 10 lg(Te/T0)): 4 h @ 90 dB(A) -> 86.99 dB(A)."""
    r = lex_8h(day((90, 4)), criterion="iso")
    assert r.lex_8h_db == pytest.approx(86.99, abs=0.005)
    assert r.laeq_db == pytest.approx(90.0)


def test_lex_w_one_loud_day() -> None:
    """TV-N19 (ISO 1999 weekly [R11a]): four days at 85 and one at 95 -> LEX,w 89.47 dB(A)."""
    assert lex_w([85, 85, 85, 85, 95]) == pytest.approx(89.47, abs=0.005)


def test_lex_w_four_day_week() -> None:
    """TV-N20 (ISO 1999 weekly): 4 x 10 h @ 88 -> daily LEX,8h 88.97, LEX,w 88.00 dB(A)."""
    daily = lex_8h(day((88, 10)), criterion="iso").lex_8h_db
    assert daily == pytest.approx(88.97, abs=0.005)
    assert lex_w([daily] * 4) == pytest.approx(88.00, abs=0.005)


def test_gbz_lex_8h_against_85() -> None:
    """GBZ 2.2-2007 11.2.1: LEX,8h limit 85 dB(A); 4 h @ 90 gives 86.99 and exceeds."""
    r = lex_8h(day((90, 4)), criterion="gbz")
    assert r.exceeds and r.limit is not None and r.limit.value == 85 and r.limit.mark == "secondary"


@pytest.mark.parametrize(("hours", "limit"), [(8, 85), (4, 88), (2, 91), (1, 94), (0.5, 97), (0.25, 100),
                                              (0.125, 103), (0.005, 115)])
def test_gbz_annex_b_reference_limits(hours: float, limit: float) -> None:
    """GBZ/T 189.8-2007 Annex B (TV-N10 [R14f][R14g]): halve the time, +3 dB(A); never above 115."""
    assert gbz_reference_limit_db(hours) == pytest.approx(limit)


@pytest.mark.parametrize(("hours", "al"), [(10, 83.39), (12, 82.08)])
def test_osha_extended_shift_action_level(hours: float, al: float) -> None:
    """OSHA policy for extended shifts (TV-N11 [R8]): AL = 90 + 16.61 lg(50/(12.5 h))."""
    assert osha_extended_shift_action_level(hours) == pytest.approx(al, abs=0.005)


@pytest.mark.parametrize(("pa", "db"), [(200, 140.0), (140, 136.9), (112, 135.0)])
def test_eu_peak_pressure_pairs(pa: float, db: float) -> None:
    """Directive 2003/10/EC Art. 3 (TV-N21): 200 / 140 / 112 Pa = 140 / 137 / 135 dB(C) re 20 uPa."""
    assert pa_to_db(pa) == pytest.approx(db, abs=0.05)
    assert db_to_pa(pa_to_db(pa)) == pytest.approx(pa)


@pytest.mark.parametrize(("n", "limit"), [(1, 140), (100, 140), (101, 130), (1000, 130), (1001, 120),
                                          (10000, 120), (10001, None)])
def test_gbz_impulse_limits_by_impulses_per_day(n: int, limit: float | None) -> None:
    """GBZ 2.2-2007 impulse noise [R14d]: n <= 100 -> 140; <= 1000 -> 130; <= 10000 -> 120 (unit UNVERIFIED)."""
    assert gbz_impulse_limit_db(n) == limit


def test_eu_peak_level_names_which_values_are_exceeded() -> None:
    """2003/10/EC Art. 3: an LCpeak of 138 dB(C) exceeds the lower (135) and upper (137) action values, not 140."""
    r = peak_level(series_from_durations([(138.0, 1.0)], unit="dB(C)"), profile="eu")
    assert sorted(u.value for u in r.exceeded) == [135, 137]
    assert all(u.mark == "verified" for u in r.limits)


def test_gbz_peak_level_is_marked_unverified() -> None:
    """GBZ 2.2-2007 impulse limits: the unit is unconfirmed, so the limit used carries the mark unverified."""
    r = peak_level(series_from_durations([(135.0, 1.0)], unit="dB(C)"), profile="cn", impulses_per_day=500)
    assert [u.value for u in r.exceeded] == [130] and r.exceeded[0].mark == "unverified"
    assert "UNVERIFIED" in r.exceeded[0].note


def test_projected_dose_for_a_partial_shift() -> None:
    """OSHA App. A dose scales with time at a constant level: 4 h measured at 90 dBA projects to 100 % over 8 h."""
    r = noise_dose(day((90, 4)), criterion="osha-pel")
    assert r.dose_percent == pytest.approx(50.0)
    assert r.projected_dose_percent == pytest.approx(100.0)
    assert r.projected_twa_db == pytest.approx(90.0)


def test_niosh_twa_differs_from_lex_by_the_exchange_rate_convention() -> None:
    """standards.md §1.2 note: NIOSH's exact 3 dB (not 10 lg 2) puts 8 h at 93 dBA at a TWA of 93.03, LEX 93.00."""
    a = noise_dose(day((93, 8)), criterion="niosh").twa_db
    b = lex_8h(day((93, 8))).lex_8h_db
    assert b is not None and math.isclose(b, 93.0, abs_tol=1e-9)
    assert a is not None and math.isclose(a, 85 + 8 * 10 * math.log10(2) / 3, abs_tol=1e-9)
