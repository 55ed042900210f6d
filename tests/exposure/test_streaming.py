"""Coverage, gaps and streaming == batch (DESIGN §5), as properties (hypothesis) and as examples."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exposure.chemical import ceiling, stel, twa
from exposure.noise import lex_8h, noise_dose
from exposure.readings import Reading
from exposure.segments import parse_duration, series_from_durations, series_from_readings
from exposure.streaming import ChemicalEvaluator, NoiseEvaluator, PeakLevelEvaluator

T0 = 1_764_400_000_000
H_MS = 3_600_000

levels = st.floats(min_value=60, max_value=120, allow_nan=False)
concs = st.floats(min_value=0, max_value=500, allow_nan=False)
durations = st.integers(min_value=1, max_value=240 * 60).map(lambda k: k * 0.06)  # whole ms after splitting in 2-5


@st.composite
def readings(draw: st.DrawFn, quantity: str = "co", unit: str = "ppm", averaged: bool = False) -> list[Reading]:
    n = draw(st.integers(min_value=0, max_value=60))
    t = T0 + draw(st.integers(min_value=-120_000, max_value=120_000))
    out = []
    for _ in range(n):
        t += draw(st.integers(min_value=1, max_value=180_000))
        value = draw(st.floats(min_value=0, max_value=200, allow_nan=False))
        flags = ("warmup",) if draw(st.integers(0, 9)) == 0 else ()
        interval = draw(st.sampled_from([1.0, 30.0, 90.0])) if averaged else None
        out.append(Reading("s1", quantity, value, unit, t, interval, flags))
    if out and draw(st.booleans()):
        out.append(out[draw(st.integers(0, len(out) - 1))])  # a replayed duplicate
    return out


@given(readings(), st.randoms(use_true_random=False), st.booleans())
@settings(max_examples=150, deadline=None)
def test_streaming_chemical_equals_batch(rs: list[Reading], rnd: object, shuffle: bool) -> None:
    """DESIGN §5: streaming evaluators give the batch result, for any arrival order (late, out-of-order, replays)."""
    end = T0 + H_MS
    batch = series_from_readings(rs, start_ms=T0, end_ms=end, unit="ppm", max_gap_s=60)
    arrive = list(rs)
    if shuffle:
        rnd.shuffle(arrive)  # type: ignore[attr-defined]
    ev = ChemicalEvaluator(start_ms=T0, end_ms=end, unit="ppm", max_gap_s=60)
    ev.add_all(arrive)
    assert ev.coverage() == batch.coverage
    assert ev.twa(limit=10).twa == pytest.approx(twa(batch).twa, rel=1e-9, abs=1e-9)
    assert ev.stel().value == pytest.approx(stel(batch).value, rel=1e-9, abs=1e-9)
    assert ev.ceiling().max_value == ceiling(batch).max_value


@given(readings("laeq", "dB(A)", averaged=True), st.randoms(use_true_random=False))
@settings(max_examples=100, deadline=None)
def test_streaming_noise_equals_batch(rs: list[Reading], rnd: object) -> None:
    """DESIGN §5: streaming dose and LEX,8h equal the batch values on the same LAeq readings, in any order."""
    end = T0 + H_MS
    batch = series_from_readings(rs, start_ms=T0, end_ms=end, unit="dB(A)", max_gap_s=60)
    arrive = list(rs)
    rnd.shuffle(arrive)  # type: ignore[attr-defined]
    ev = NoiseEvaluator(start_ms=T0, end_ms=end, max_gap_s=60)
    ev.add_all(arrive)
    for c in ("osha-pel", "osha-hc", "niosh"):
        assert ev.dose(criterion=c).dose_percent == pytest.approx(noise_dose(batch, criterion=c).dose_percent,
                                                                  rel=1e-9, abs=1e-12)
    a, b = ev.lex_8h().lex_8h_db, lex_8h(batch).lex_8h_db
    assert (a is None) == (b is None) and (a is None or a == pytest.approx(b, abs=1e-9))
    assert ev.coverage() == batch.coverage


@given(st.lists(st.tuples(levels, durations), min_size=1, max_size=8), st.integers(2, 5), st.integers(0, 7))
def test_splitting_a_segment_changes_nothing(segs: list[tuple[float, float]], parts: int, which: int) -> None:
    """OSHA App. A D = 100 sum(C/T) and TWA = sum(CiTi)/8 are additive in time: splitting a segment changes nothing."""
    i = which % len(segs)
    level, dur = segs[i]
    split = [*segs[:i], *[(level, dur / parts)] * parts, *segs[i + 1:]]
    a, b = series_from_durations(segs, unit="dB(A)"), series_from_durations(split, unit="dB(A)")
    assert noise_dose(b).dose_percent == pytest.approx(noise_dose(a).dose_percent, rel=1e-6, abs=1e-9)
    assert noise_dose(b, criterion="niosh").dose_percent == pytest.approx(
        noise_dose(a, criterion="niosh").dose_percent, rel=1e-6)
    assert twa(b).twa == pytest.approx(twa(a).twa, rel=1e-6)


@given(st.lists(st.tuples(levels, durations), min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_reordering_segments_leaves_dose_unchanged(segs: list[tuple[float, float]], rnd: object) -> None:
    """OSHA App. A / NIOSH: dose is a sum over periods, so the order of the periods does not matter."""
    shuffled = list(segs)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = series_from_durations(segs, unit="dB(A)"), series_from_durations(shuffled, unit="dB(A)")
    for c in ("osha-pel", "osha-hc", "niosh"):
        assert noise_dose(b, criterion=c).dose_percent == pytest.approx(
            noise_dose(a, criterion=c).dose_percent, rel=1e-9, abs=1e-12)
    assert lex_8h(b).lex_8h_db == pytest.approx(lex_8h(a).lex_8h_db, abs=1e-9)


@given(readings(), st.data())
@settings(max_examples=100, deadline=None)
def test_a_gap_lowers_coverage_and_never_adds_exposure(rs: list[Reading], data: st.DataObject) -> None:
    """DESIGN §5: dropping readings (a failed read) lowers coverage and never adds exposure (no zero, no hold-over)."""
    if not rs:
        return
    drop = data.draw(st.sets(st.integers(0, len(rs) - 1), max_size=len(rs)))
    kept = [r for i, r in enumerate(rs) if i not in drop]
    full = series_from_readings(rs, start_ms=T0, end_ms=T0 + H_MS, unit="ppm")
    part = series_from_readings(kept, start_ms=T0, end_ms=T0 + H_MS, unit="ppm")
    # each kept instantaneous sample covers no more time than before, so neither coverage nor the sum can grow
    # unless a dropped sample had cut a later hold short: the hold is capped at max_gap_s, so compare per sample
    assert part.coverage.covered_s <= full.coverage.covered_s + 60.0 * len(drop) + 1e-9
    full_twa, part_twa = twa(full).twa, twa(part).twa
    cap = max((r.value for r in rs), default=0.0) * 60.0 * len(drop) / (8 * 3600)
    assert part_twa <= full_twa + cap + 1e-9


@given(st.lists(st.tuples(concs, durations), min_size=1, max_size=6), durations)
def test_a_trailing_gap_lowers_coverage_and_never_adds_exposure(segs: list[tuple[float, float]], gap: float) -> None:
    """DESIGN §5: time without data lowers coverage and adds nothing to TWA, STEL or dose."""
    total = sum(d for _, d in segs)
    a = series_from_durations(segs, unit="ppm")
    b = series_from_durations(segs, unit="ppm", period_s=total + gap)
    assert b.coverage.fraction < a.coverage.fraction == 1.0
    assert twa(b).twa == pytest.approx(twa(a).twa) and stel(b).value == pytest.approx(stel(a).value)
    assert twa(b).verdict in ("incomplete", "no_limit", "exceeds") and b.coverage.gaps[-1].reason == "no_data"


def test_instantaneous_samples_hold_until_the_next_sample_capped_by_max_gap() -> None:
    """docs/exposure.md 'Coverage': a sample covers time until the next one, at most max_gap_s; beyond is a gap."""
    rs = [Reading("s", "co", 10.0, "ppm", T0, None), Reading("s", "co", 20.0, "ppm", T0 + 30_000, None),
          Reading("s", "co", 30.0, "ppm", T0 + 300_000, None)]
    s = series_from_readings(rs, start_ms=T0, end_ms=T0 + 400_000, unit="ppm", max_gap_s=60)
    assert [(x.start_ms - T0, x.end_ms - T0, x.value) for x in s.segments] == [
        (0, 30_000, 10.0), (30_000, 90_000, 20.0), (300_000, 360_000, 30.0)]
    assert [(g.start_ms - T0, g.end_ms - T0, g.reason) for g in s.coverage.gaps] == [
        (90_000, 300_000, "no_data"), (360_000, 400_000, "no_data")]


def test_flagged_readings_are_excluded_and_counted() -> None:
    """DESIGN §4.1: a flagged reading is not valid for compliance: its time is a 'flagged' gap and it is counted."""
    rs = [Reading("s", "co", 10.0, "ppm", T0 + i * 1000, 1.0, ("warmup",) if i <= 5 else ()) for i in range(1, 11)]
    s = series_from_readings(rs, start_ms=T0, end_ms=T0 + 10_000, unit="ppm")
    assert s.coverage.excluded_readings == 5 and s.coverage.covered_s == 5.0
    assert [g.reason for g in s.coverage.gaps] == ["flagged"]
    assert twa(s).twa == pytest.approx(10.0 * 5 / (8 * 3600))


def test_peak_level_evaluator_tracks_the_highest_valid_peak() -> None:
    """2003/10/EC Art. 3: the highest valid LCpeak is compared with 135/137/140 dB(C); a flagged one is ignored."""
    ev = PeakLevelEvaluator(start_ms=T0, end_ms=T0 + H_MS)
    ev.add(Reading("m", "lcpeak", 150.0, "dB(C)", T0 + 5000, None, ("sensor_fault",)))
    ev.add(Reading("m", "lcpeak", 136.0, "dB(C)", T0 + 1000, None))
    r = ev.peak_level(profile="eu")
    assert r.max_db == 136.0 and [u.value for u in r.exceeded] == [135.0]


def test_readings_in_mg_are_converted_with_the_molar_volume() -> None:
    """standards.md §2.4: readings in mg/m3 are converted to the evaluation unit with the given MW and Vm."""
    ev = ChemicalEvaluator(start_ms=T0, end_ms=T0 + 8 * H_MS, unit="ppm", mw=28.01, molar_volume=24.45,
                           max_gap_s=8 * 3600)
    ev.add(Reading("s", "co", 57.28, "mg/m3", T0, None))
    assert ev.twa().twa == pytest.approx(50.0, rel=1e-3)


@pytest.mark.parametrize(("text", "seconds"), [("4h", 14400), ("30min", 1800), ("90s", 90), ("1.5h", 5400)])
def test_durations(text: str, seconds: float) -> None:
    """Brief §5: durations take h, min or s."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["-4h", "4", "h", "0s", "4 days", ""])
def test_bad_durations_are_refused(text: str) -> None:
    """Brief §5: a negative or malformed duration is bad input."""
    from exposure.errors import InvalidInput

    with pytest.raises(InvalidInput):
        parse_duration(text)
