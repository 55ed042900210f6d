"""EN 689 / AIHA group assessment: the worked examples of shared/reference/exposure-assessment.md, the K table,
and properties against an independent implementation with scipy (test-only dependency)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy.stats import nct, norm

from exposure.en689 import (
    REASSESSMENT,
    BelowLoq,
    aiha_category,
    assess_seg,
    censored_lognormal_mle,
    exceedance_ci,
    exceedance_fraction,
    k_factor,
    nct_cdf,
    overexposure_risk,
    reassessment_months,
)
from exposure.errors import InvalidInput

EX1 = [0.3, 0.5, 0.8, 1.2, 0.6, 0.9]
EX3 = [12, 25, 8, 30, 18, 15, 22, 9]
EX4 = [1.1, 0.4, 2.5, 0.9, 1.6, 3.2, 0.7, 1.3, 2.0, 0.5]

K_TABLE = {6: 2.187, 7: 2.120, 8: 2.072, 9: 2.035, 10: 2.005, 11: 1.981, 12: 1.961, 13: 1.944, 14: 1.929,
           15: 1.917}


@pytest.mark.parametrize(("n", "k"), sorted(K_TABLE.items()))
def test_k_factor_matches_en689_table(n: int, k: float) -> None:
    """K = U_R for n = 6..15 agrees with the standard's table to 3 decimals."""
    assert round(k_factor(n), 3) == k


@pytest.mark.parametrize("n", [3, 4, 5, 6, 10, 15, 25, 60, 200])
def test_k_factor_equals_scipy_nct_ppf_to_1e6(n: int) -> None:
    """K agrees with scipy's nct.ppf(0.70, n-1, z0.95 sqrt n) / sqrt n to 1e-6."""
    ref = nct.ppf(0.70, n - 1, norm.ppf(0.95) * math.sqrt(n)) / math.sqrt(n)
    assert k_factor(n) == pytest.approx(ref, abs=1e-6)


@pytest.mark.parametrize(
    ("results", "oel", "gm", "gsd", "p95", "k", "utl", "verdict"),
    [
        (EX1, 5, 0.6533, 1.6314, 1.4614, 2.187, 1.9053, "compliant"),
        (EX1, 2, 0.6533, 1.6314, 1.4614, 2.187, 1.9053, "compliant"),
        (EX3, 50, 15.782, 1.6146, 34.705, 2.072, 42.579, "compliant"),
        (EX4, 4, 1.1652, 1.9795, 3.5825, 2.005, 4.5822, "non_compliant"),
    ],
)
def test_statistical_test_worked_examples(
    results: list[float], oel: float, gm: float, gsd: float, p95: float, k: float, utl: float, verdict: str
) -> None:
    """Reference worked examples: GM, GSD, P95, K, UTL95,70 and the verdict of the statistical test."""
    a = assess_seg(results, oel=oel)
    assert a.test == "statistical" and a.n == len(results) and a.n_below_loq == 0 and a.loq_method == "none"
    assert a.gm == pytest.approx(gm, rel=5e-5) and a.gsd == pytest.approx(gsd, rel=5e-5)
    assert a.p95 == pytest.approx(p95, rel=5e-5) and round(a.k, 3) == k
    assert a.utl95_70 == pytest.approx(utl, rel=5e-5)
    assert a.verdict == verdict
    assert a.reasons[0].startswith(f"statistical test, n={len(results)}: UTL95,70")


@pytest.mark.parametrize(
    ("results", "verdict", "reason"),
    [
        ([0.2, 0.4, 0.3], "compliant", "all results below 0.10 x OEL = 0.5"),
        ([0.2, 0.6, 0.3], "inconclusive", "not all results below 0.10 x OEL"),
        ([0.2, 5.5, 0.3], "non_compliant", "above the OEL 5"),
    ],
)
def test_preliminary_test_worked_examples(results: list[float], verdict: str, reason: str) -> None:
    """Reference preliminary examples, OEL 5: compliant / inconclusive / non-compliant, with the reason in words."""
    a = assess_seg(results, oel=5)
    assert a.test == "preliminary" and a.verdict == verdict and a.preliminary_fraction == 0.10
    assert reason in a.reasons[0]
    assert a.gm is not None and a.gsd is not None and a.p95 is not None  # descriptive statistics still given


@pytest.mark.parametrize(("n", "frac"), [(3, 0.10), (4, 0.15), (5, 0.20)])
def test_preliminary_fraction_by_n(n: int, frac: float) -> None:
    """EN 689 table: all below 0.10/0.15/0.20 x OEL for n = 3/4/5 is compliant; just above it is inconclusive."""
    below = [frac * 100 * 0.99] * (n - 1) + [frac * 100 * 0.5]
    assert assess_seg(below, oel=100).verdict == "compliant"
    assert assess_seg([*below[:-1], frac * 100 * 1.01], oel=100).verdict == "inconclusive"


def test_preliminary_below_loq_counts_by_its_loq() -> None:
    """A <LoQ result compares its LoQ with the fraction: LoQ 0.4 < 0.5 passes, LoQ 0.6 does not."""
    assert assess_seg([0.2, BelowLoq(0.4), 0.3], oel=5).verdict == "compliant"
    assert assess_seg([0.2, BelowLoq(0.6), 0.3], oel=5).verdict == "inconclusive"
    assert assess_seg([0.2, BelowLoq(6.0), 0.3], oel=5).verdict == "inconclusive"  # never "above" the OEL


def test_exceedance_fraction_and_aiha_category_of_example() -> None:
    """EX1, OEL 2: F = 1 - Phi((ln 2 - mu)/s) = 1.113 %, P95/OEL 73 % -> AIHA category 3."""
    a = assess_seg(EX1, oel=2)
    assert a.exceedance_fraction == pytest.approx(0.011130, rel=1e-4)
    assert a.aiha_category == 3 and a.p95_ratio == pytest.approx(1.4614 / 2, rel=1e-4)
    assert a.exceedance_ci95_low is not None and a.exceedance_ci95_high is not None
    assert a.exceedance_ci95_low < a.exceedance_fraction < a.exceedance_ci95_high


@pytest.mark.parametrize(("ratio", "cat"), [(0.01, 0), (0.0101, 1), (0.1, 1), (0.5, 2), (0.51, 3), (1.0, 3),
                                            (1.01, 4)])
def test_aiha_category_bounds(ratio: float, cat: int) -> None:
    """AIHA: 0 <= 1 %; 1 > 1-10 %; 2 > 10-50 %; 3 > 50-100 %; 4 > 100 % of the OEL."""
    assert aiha_category(ratio * 10, 10) == cat


def test_reassessment_is_unverified_data_and_only_for_compliant() -> None:
    """The interval table is shipped marked unverified; non-compliant and inconclusive give no interval."""
    assert REASSESSMENT.verified is False
    assert [reassessment_months(r, 1) for r in (0.05, 0.2, 0.4, 0.9)] == [36, 24, 18, 12]
    a = assess_seg(EX1, oel=5)
    assert a.reassessment_months == 24 and a.reassessment_basis == "unverified"  # GM/OEL = 0.13
    assert any("unverified" in note for note in a.notes)
    assert assess_seg(EX4, oel=4).reassessment_months is None


@pytest.mark.parametrize(
    ("results", "oel", "path"),
    [
        ([1.0, 2.0], 5, "results"),
        ([1.0, -2.0, 3.0], 5, "results[1]"),
        ([1.0, 0.0, 3.0], 5, "results[1]"),
        ([1.0, math.nan, 3.0], 5, "results[1]"),
        ([1.0, BelowLoq(0.0), 3.0], 5, "results[1].loq"),
        ([1.0, 2.0, 3.0], None, "oel"),
        ([1.0, 2.0, 3.0], 0, "oel"),
        ([1.0, 2.0, 3.0], math.inf, "oel"),
    ],
)
def test_bad_input_is_invalid_input(results: list[float | BelowLoq], oel: float | None, path: str) -> None:
    """Fewer than 3 results, a non-positive or non-finite value or LoQ, a missing or bad OEL -> InvalidInput."""
    with pytest.raises(InvalidInput) as err:
        assess_seg(results, oel=oel)
    assert err.value.path == path and err.value.reason


def test_censored_results_use_mle_and_say_so() -> None:
    """<LoQ results are fitted by censored MLE, never substituted, and the result names the method."""
    a = assess_seg([0.3, BelowLoq(0.2), 0.8, 1.2, BelowLoq(0.4), 0.9], oel=2)
    assert a.loq_method == "censored_mle" and a.n_below_loq == 2 and a.sample_mean is None
    assert any("maximum likelihood" in note for note in a.notes)


def test_fewer_than_two_detected_falls_back_to_loq_over_sqrt2() -> None:
    """With 1 detected value the MLE cannot be fitted: LoQ/sqrt(2) substitution, documented in the result."""
    a = assess_seg([BelowLoq(0.2), BelowLoq(0.4), 0.8], oel=10)
    assert a.loq_method == "loq_over_sqrt2" and any("fallback" in note for note in a.notes)
    expected = math.exp((math.log(0.2 / math.sqrt(2)) + math.log(0.4 / math.sqrt(2)) + math.log(0.8)) / 3)
    assert a.gm == pytest.approx(expected)


def test_identical_results_give_no_spread_statistics() -> None:
    """All results equal: GM is the value, GSD/P95/UTL cannot be estimated (None), the verdict still follows."""
    a = assess_seg([1.0] * 6, oel=2)
    assert a.gm == pytest.approx(1.0) and a.gsd is None and a.p95 is None and a.verdict == "compliant"


# -- properties against scipy --------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(t=st.floats(-8, 12), df=st.integers(2, 60), nc=st.floats(-5, 10))
def test_nct_cdf_matches_scipy(t: float, df: int, nc: float) -> None:
    """The pure-Python non-central t CDF agrees with scipy.stats.nct.cdf."""
    ref = nct.cdf(t, df, nc)
    assume(math.isfinite(ref))  # scipy returns nan in some far tails
    assert nct_cdf(t, df, nc) == pytest.approx(ref, abs=1e-8)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 120))
def test_k_factor_property_matches_scipy(n: int) -> None:
    """K(n) equals scipy's nct.ppf-based K to 1e-6 for any n."""
    ref = nct.ppf(0.70, n - 1, norm.ppf(0.95) * math.sqrt(n)) / math.sqrt(n)
    assert k_factor(n) == pytest.approx(ref, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(mu=st.floats(-4, 4), sigma=st.floats(0.05, 3), oel=st.floats(0.01, 100))
def test_exceedance_fraction_matches_scipy_norm(mu: float, sigma: float, oel: float) -> None:
    """F = 1 - Phi((ln OEL - mu)/sigma) equals scipy.stats.norm.sf."""
    assert exceedance_fraction(mu, sigma, oel) == pytest.approx(norm.sf((math.log(oel) - mu) / sigma),
                                                                rel=1e-9, abs=1e-300)


def _scipy_ci(mu: float, sigma: float, n: int, oel: float) -> tuple[float, float]:
    t = math.sqrt(n) * (math.log(oel) - mu) / sigma
    df = n - 1

    def cdf(d: float) -> float:  # scipy gives nan in far tails, where the cdf is 0 (d >> t) or 1 (d << t)
        v = float(nct.cdf(t, df, d))
        return v if math.isfinite(v) else (0.0 if d > t else 1.0)

    def root(p: float) -> float:
        lo, hi = t - 1.0, t + 1.0
        while cdf(lo) < p:
            lo -= 1.0
        while cdf(hi) > p:
            hi += 1.0
        return float(optimize.brentq(lambda d: cdf(d) - p, lo, hi, xtol=1e-12))

    return norm.sf(root(0.025) / math.sqrt(n)), norm.sf(root(0.975) / math.sqrt(n))


@settings(max_examples=8, deadline=None)
@given(mu=st.floats(-1, 1), sigma=st.floats(0.2, 1.5), n=st.integers(3, 20), z=st.floats(-2, 2))
def test_exceedance_ci_matches_scipy_nct(mu: float, sigma: float, n: int, z: float) -> None:
    """The 95 % CI of the exceedance fraction equals the one solved with scipy's nct.cdf and brentq."""
    oel = math.exp(mu + z * sigma)
    lo, hi = exceedance_ci(mu, sigma, n, oel)
    ref_lo, ref_hi = _scipy_ci(mu, sigma, n, oel)
    assert lo == pytest.approx(ref_lo, rel=1e-5, abs=1e-9) and hi == pytest.approx(ref_hi, rel=1e-5, abs=1e-9)


def _scipy_censored_fit(detected: list[float], loqs: list[float]) -> tuple[float, float]:
    ys = [math.log(x) for x in detected]
    cs = [math.log(q) for q in loqs]

    def nll(theta: list[float]) -> float:
        mu, log_s = theta
        s = math.exp(log_s)
        return float(-(sum(norm.logpdf(y, mu, s) for y in ys) + sum(norm.logcdf(c, mu, s) for c in cs)))

    m0 = sum(ys) / len(ys)
    res = optimize.minimize(nll, [m0, 0.0], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000})
    return float(res.x[0]), math.exp(float(res.x[1]))


@settings(max_examples=15, deadline=None)
@given(
    detected=st.lists(st.floats(0.01, 100), min_size=2, max_size=10, unique=True),
    loqs=st.lists(st.floats(0.01, 100), min_size=1, max_size=6),
)
def test_censored_mle_matches_scipy_optimize(detected: list[float], loqs: list[float]) -> None:
    """The censored lognormal MLE equals a scipy.optimize fit of the same likelihood."""
    if max(detected) / min(detected) < 1.01:
        return
    mu, sigma, _ = censored_lognormal_mle(detected, loqs)
    ref_mu, ref_sigma = _scipy_censored_fit(detected, loqs)
    assert mu == pytest.approx(ref_mu, abs=1e-4) and sigma == pytest.approx(ref_sigma, rel=1e-4, abs=1e-4)


def test_censored_mle_without_censoring_is_the_sample_fit() -> None:
    """With no censored result the MLE is the sample mean and the n-divisor sd of ln x."""
    mu, sigma, _ = censored_lognormal_mle(EX1, [])
    ys = [math.log(x) for x in EX1]
    m = sum(ys) / len(ys)
    assert mu == pytest.approx(m) and sigma == pytest.approx(math.sqrt(sum((y - m) ** 2 for y in ys) / 6))


def _numpy_risk(results: list[float | BelowLoq], oel: float) -> float:
    """Independent: the whole prior box on a fine numpy grid, with scipy's norm."""
    mu, sigma = np.meshgrid(np.linspace(-20, 20, 8001), np.linspace(0.095, 2.3, 400)[1:], indexing="ij")
    ll = np.zeros_like(mu)
    for r in results:
        if isinstance(r, BelowLoq):
            ll += norm.logcdf((math.log(r.loq) - mu) / sigma)
        else:
            ll += norm.logpdf(math.log(r), mu, sigma)
    w = np.exp(ll - ll.max())
    return float(w[mu + norm.ppf(0.95) * sigma > math.log(oel)].sum() / w.sum())


@pytest.mark.parametrize(("results", "oel"), [(EX1, 2), (EX3, 50), (EX4, 4),
                                              ([0.12, 0.25, BelowLoq(0.05), 0.31, 0.18, 0.09, 0.22, 0.15], 1)])
def test_overexposure_risk_matches_an_independent_grid(results: list[float | BelowLoq], oel: float) -> None:
    """Posterior P(P95 > OEL) under the uniform prior equals a fine numpy/scipy grid over the whole prior box."""
    assert overexposure_risk(results, oel) == pytest.approx(_numpy_risk(results, oel), abs=0.005)


def test_overexposure_risk_is_deterministic_and_in_the_result() -> None:
    """No random sampling: the same data give the same risk; the prior is named in the result."""
    a, b = assess_seg(EX4, oel=4), assess_seg(EX4, oel=4)
    assert a.overexposure_risk == b.overexposure_risk and 0.4 < a.overexposure_risk < 0.6
    assert "uniform mu on [-20, 20]" in a.bayes_prior
    assert assess_seg(EX1, oel=50).overexposure_risk < 0.01  # P95 = 1.46, 3 % of the OEL
