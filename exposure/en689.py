"""Similar-exposure-group (SEG) statistics on repeated shift results against an OEL: the EN 689:2018 preliminary
and statistical tests, the AIHA exposure category, the exceedance fraction with its confidence interval and the
reassessment interval. Pure: the standard library only (the non-central t distribution is computed here).

Methods (docs/exposure.md "Group assessment (EN 689, AIHA)"):
- y = ln(x); GM = exp(mean y), GSD = exp(sd y) (sample sd, n - 1); P95 = exp(mu + z0.95 s);
  UTL95,70 = exp(mu + K s), K = t'(0.70; n - 1, z0.95 sqrt(n)) / sqrt(n).
- Exceedance fraction F = 1 - Phi((ln OEL - mu) / s); its 95 % confidence interval by the exact non-central t
  method of Hewett & Ganser (1997) (after Johnson & Welch 1940): sqrt(n) (ln OEL - mu) / s follows a non-central t
  with n - 1 degrees of freedom and non-centrality sqrt(n) z_F.
- Results below the LoQ: maximum likelihood for a left-censored lognormal (Newton with EM steps as a fallback);
  sigma rescaled by sqrt(n / (n - 1)) so that it equals the sample sd when nothing is censored. With fewer than
  2 distinct detected values the MLE cannot be fitted: each <LoQ result is replaced by LoQ / sqrt(2) (Hornung &
  Reed 1990), and the result says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from statistics import NormalDist
from types import MappingProxyType
from typing import Final, Literal

from exposure.errors import InvalidInput

Test = Literal["preliminary", "statistical"]
SegVerdict = Literal["compliant", "non_compliant", "inconclusive"]
LoqMethod = Literal["none", "censored_mle", "loq_over_sqrt2"]

_STD = NormalDist()
#: z0.95 = 1.6449 (the "1.645" of the texts; the reference figures use the exact quantile).
Z95: Final = _STD.inv_cdf(0.95)
_SQRT2: Final = math.sqrt(2.0)
_LOG_SQRT_2PI: Final = 0.5 * math.log(2.0 * math.pi)

#: EN 689:2018 preliminary test: n -> every result below this fraction of the OEL -> compliant.
PRELIMINARY_FRACTIONS: Final[Mapping[int, float]] = MappingProxyType({3: 0.10, 4: 0.15, 5: 0.20})


@dataclass(frozen=True, slots=True)
class ReassessmentStep:
    """GM / OEL at or below `gm_ratio_max` -> the next periodic measurement within `months`."""

    gm_ratio_max: float
    months: int


@dataclass(frozen=True, slots=True)
class ReassessmentTable:
    """EN 689:2018 periodic measurements, 12 to 36 months by how far GM is below the OEL.

    The thresholds are NOT verified against the standard's text (shared reference: "unverified here"): every
    result that uses them says `reassessment_basis = "unverified"`.
    """

    steps: tuple[ReassessmentStep, ...]
    source: str
    verified: bool


REASSESSMENT: Final = ReassessmentTable(
    steps=(ReassessmentStep(0.10, 36), ReassessmentStep(0.25, 24), ReassessmentStep(0.50, 18),
           ReassessmentStep(math.inf, 12)),
    source="EN 689:2018 periodic measurements (thresholds from memory, not checked against the text)",
    verified=False,
)


@dataclass(frozen=True, slots=True)
class BelowLoq:
    """A result below the limit of quantification, carrying that limit (same unit as the OEL)."""

    loq: float


#: A shift result: a measured value > 0, or BelowLoq(loq).
ShiftResult = float | BelowLoq


@dataclass(frozen=True, slots=True)
class LognormalFit:
    """mu and sigma of ln(x) and how they were obtained. `sigma` is the one used for GSD, P95 and K."""

    mu: float
    sigma: float
    method: LoqMethod
    iterations: int = 0


@dataclass(frozen=True, slots=True)
class SegAssessment:
    """The exposure profile of a SEG for one agent against one OEL, its EN 689 test and verdict.

    Statistics are None when they cannot be estimated (fewer than 2 distinct values). `reasons` explains the
    verdict in words; `notes` says what else the reader must know (fallbacks, approximations, unverified data).
    """

    n: int
    n_below_loq: int
    oel: float
    test: Test
    verdict: SegVerdict
    preliminary_fraction: float | None
    mu: float | None
    sigma: float | None
    gm: float | None
    gsd: float | None
    am: float | None
    sample_mean: float | None
    p95: float | None
    k: float
    utl95_70: float | None
    exceedance_fraction: float | None
    exceedance_ci95_low: float | None
    exceedance_ci95_high: float | None
    exceedance_ci_method: str
    p95_ratio: float | None
    aiha_category: int | None
    reassessment_months: int | None
    reassessment_basis: Literal["unverified", "verified"]
    loq_method: LoqMethod
    overexposure_risk: float
    bayes_prior: str
    reasons: tuple[str, ...]
    notes: tuple[str, ...]


# -- normal and non-central t --------------------------------------------------------------------------------


def norm_cdf(x: float) -> float:
    """Phi(x) through erfc, accurate in both tails."""
    return 0.5 * math.erfc(-x / _SQRT2)


def log_norm_cdf(x: float) -> float:
    """ln Phi(x), with the asymptotic series where Phi underflows."""
    if x > -30.0:
        return math.log(norm_cdf(x))
    x2 = x * x
    return -0.5 * x2 - math.log(-x) - _LOG_SQRT_2PI + math.log1p(-1.0 / x2 + 3.0 / (x2 * x2))


def _mills(x: float) -> float:
    """phi(x) / Phi(x)."""
    return math.exp(-0.5 * x * x - _LOG_SQRT_2PI - log_norm_cdf(x))


@lru_cache(maxsize=1)
def _gauss_legendre(order: int = 20) -> tuple[tuple[float, float], ...]:
    """Nodes and weights of Gauss-Legendre on [-1, 1] (Newton on P_order)."""
    out = []
    for i in range(1, order + 1):
        x = math.cos(math.pi * (i - 0.25) / (order + 0.5))
        for _ in range(100):
            p0, p1 = 1.0, x
            for k in range(2, order + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            dp = order * (x * p1 - p0) / (x * x - 1.0)
            dx = p1 / dp
            x -= dx
            if abs(dx) < 1e-15:
                break
        out.append((x, 2.0 / ((1.0 - x * x) * dp * dp)))
    return tuple(out)


def _integrate(f: Callable[[float], float], cuts: Sequence[float]) -> float:
    total = 0.0
    nodes = _gauss_legendre()
    for a, b in pairwise(cuts):
        if b <= a:
            continue
        half, mid = 0.5 * (b - a), 0.5 * (a + b)
        total += half * sum(w * f(mid + half * x) for x, w in nodes)
    return total


def nct_cdf(t: float, df: float, nc: float) -> float:
    """P(T <= t) for the non-central t with `df` degrees of freedom and non-centrality `nc`.

    T = (Z + nc) / U with U = sqrt(V / df), V ~ chi2(df): P(T <= t) = E_U[Phi(t U - nc)], integrated over the
    density of U by composite Gauss-Legendre (20 points a panel, panels refined where Phi(t u - nc) turns).
    """
    if df <= 0:
        raise InvalidInput("df", f"must be > 0, got {df}")
    h = df / 2.0
    log_c = math.log(2.0) + h * math.log(h) - math.lgamma(h)  # density of U: c u^(df-1) exp(-df u^2 / 2)

    def density(u: float) -> float:
        return math.exp(log_c + (df - 1.0) * math.log(u) - h * u * u) if u > 0 else 0.0

    spread = 15.0 / math.sqrt(df)
    lo, hi = max(0.0, 1.0 - spread), 1.0 + spread
    cuts = {lo + (hi - lo) * i / 48 for i in range(49)}
    if t != 0.0:
        centre, width = nc / t, 10.0 / abs(t)
        cuts |= {centre + width * (i / 20.0 - 1.0) for i in range(41)}
    edges = sorted(c for c in cuts if lo <= c <= hi)
    mass = _integrate(density, edges)
    p = _integrate(lambda u: density(u) * norm_cdf(t * u - nc), edges)
    return min(1.0, max(0.0, p / mass))


def _solve_increasing(f: Callable[[float], float], target: float, guess: float, step: float) -> float:
    """x with f(x) = target for an increasing f: bracket outwards from `guess`, then bisect to 1e-12."""
    lo, hi = guess - step, guess + step
    while f(lo) > target:
        lo -= step
        step *= 2.0
    while f(hi) < target:
        hi += step
        step *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * max(1.0, abs(mid)):
            break
    return 0.5 * (lo + hi)


def nct_ppf(p: float, df: float, nc: float) -> float:
    """The p quantile of the non-central t (bisection on nct_cdf)."""
    if not 0.0 < p < 1.0:
        raise InvalidInput("p", f"must be in (0, 1), got {p}")
    return _solve_increasing(lambda t: nct_cdf(t, df, nc), p, nc, 1.0 + abs(nc) / math.sqrt(df))


@lru_cache(maxsize=512)
def k_factor(n: int, *, percentile: float = 0.95, confidence: float = 0.70) -> float:
    """K = t'(confidence; n - 1, z_percentile sqrt(n)) / sqrt(n): UTL = exp(mu + K s) (EN 689 U_R for 95/70)."""
    if n < 2:
        raise InvalidInput("n", f"K needs at least 2 results, got {n}")
    root = math.sqrt(n)
    return nct_ppf(confidence, n - 1, _STD.inv_cdf(percentile) * root) / root


def exceedance_fraction(mu: float, sigma: float, oel: float) -> float:
    """F = 1 - Phi((ln OEL - mu) / sigma): the share of shifts above the OEL."""
    return norm_cdf(-(math.log(oel) - mu) / sigma)


def exceedance_ci(mu: float, sigma: float, n: int, oel: float, *, level: float = 0.95) -> tuple[float, float]:
    """Two-sided confidence interval of the exceedance fraction, exact non-central t method (Hewett & Ganser 1997):
    t = sqrt(n) (ln OEL - mu) / sigma; find nc_lo, nc_hi with P(T <= t | nc_lo) = (1 + level)/2 and
    P(T <= t | nc_hi) = (1 - level)/2; the bounds are 1 - Phi(nc_lo / sqrt(n)) (upper), 1 - Phi(nc_hi / sqrt(n))
    (lower). Exact for uncensored lognormal data."""
    root = math.sqrt(n)
    t = root * (math.log(oel) - mu) / sigma
    df = n - 1
    step = 1.0 + abs(t) / math.sqrt(df)

    def minus_cdf(nc: float) -> float:  # increasing in nc
        return -nct_cdf(t, df, nc)

    a = (1.0 + level) / 2.0
    nc_lo = _solve_increasing(minus_cdf, -a, t, step)
    nc_hi = _solve_increasing(minus_cdf, -(1.0 - a), t, step)
    return norm_cdf(-nc_hi / root), norm_cdf(-nc_lo / root)


# -- fitting -------------------------------------------------------------------------------------------------


def _loglik(mu: float, sigma: float, ys: Sequence[float], cs: Sequence[float]) -> float:
    ll = -len(ys) * math.log(sigma) - 0.5 * sum(((y - mu) / sigma) ** 2 for y in ys)
    return ll + sum(log_norm_cdf((c - mu) / sigma) for c in cs)


def censored_lognormal_mle(
    detected: Sequence[float], loqs: Sequence[float], *, tol: float = 1e-12, max_iter: int = 10_000
) -> tuple[float, float, int]:
    """Maximum likelihood (mu, sigma) of ln(x) for a lognormal sample with left-censored results.

    `detected` are the measured values, `loqs` the LoQs of the results below them. Log-likelihood:
    sum over detected of ln phi((ln x - mu) / sigma) - ln sigma, plus sum over censored of ln Phi((ln LoQ - mu)
    / sigma). Newton steps with the analytic Hessian when it is negative definite and the step increases the
    likelihood, an EM step otherwise. Returns (mu, sigma_mle, iterations); sigma_mle divides by n, not n - 1.
    Needs at least 2 distinct detected values.
    """
    ys = [math.log(x) for x in detected]
    cs = [math.log(q) for q in loqs]
    if len(set(ys)) < 2:
        raise InvalidInput("results", "the censored MLE needs at least 2 distinct detected values")
    n = len(ys) + len(cs)
    mu = sum(ys) / len(ys)
    sigma = math.sqrt(sum((y - mu) ** 2 for y in ys) / len(ys))
    ll = _loglik(mu, sigma, ys, cs)
    for it in range(1, max_iter + 1):
        g_mu = g_s = h_mm = h_ms = h_ss = 0.0
        s2 = sigma * sigma
        for y in ys:
            z = (y - mu) / sigma
            g_mu += z / sigma
            g_s += (z * z - 1.0) / sigma
            h_mm -= 1.0 / s2
            h_ms -= 2.0 * z / s2
            h_ss += (1.0 - 3.0 * z * z) / s2
        for c0 in cs:
            c = (c0 - mu) / sigma
            lam = _mills(c)
            dlam = -lam * (c + lam)
            g_mu -= lam / sigma
            g_s -= lam * c / sigma
            h_mm += dlam / s2
            h_ms += (dlam * c + lam) / s2
            h_ss += (dlam * c * c + 2.0 * lam * c) / s2
        det = h_mm * h_ss - h_ms * h_ms
        new: tuple[float, float] | None = None
        if h_mm < 0 and det > 0:
            d_mu = -(h_ss * g_mu - h_ms * g_s) / det
            d_s = -(-h_ms * g_mu + h_mm * g_s) / det
            for scale in (1.0, 0.5, 0.25, 0.125):
                cand = (mu + scale * d_mu, sigma + scale * d_s)
                if cand[1] > 0 and _loglik(cand[0], cand[1], ys, cs) >= ll - 1e-14 * abs(ll):
                    new = cand
                    break
        if new is None:  # EM: expected ln x and (ln x)^2 of each censored result given the current fit
            e1 = list(ys)
            e2 = [y * y for y in ys]
            for c0 in cs:
                lam = _mills((c0 - mu) / sigma)
                e1.append(mu - sigma * lam)
                e2.append(mu * mu + sigma * sigma - sigma * lam * (c0 + mu))
            m = sum(e1) / n
            new = (m, math.sqrt(max(sum(e2) / n - m * m, 1e-300)))
        moved = abs(new[0] - mu) + abs(new[1] - sigma)
        mu, sigma = new
        ll = _loglik(mu, sigma, ys, cs)
        if moved <= tol * max(1.0, abs(mu)):
            return mu, sigma, it
    raise InvalidInput("results", f"the censored MLE did not converge in {max_iter} iterations")


def fit_lognormal(results: Sequence[ShiftResult]) -> LognormalFit:
    """mu and sigma (n - 1 scale) of ln(x): sample statistics, the censored MLE, or the LoQ / sqrt(2) fallback."""
    detected = [r for r in results if not isinstance(r, BelowLoq)]
    loqs = [r.loq for r in results if isinstance(r, BelowLoq)]
    n = len(results)
    if not loqs:
        ys = [math.log(x) for x in detected]
        mu = sum(ys) / n
        return LognormalFit(mu, math.sqrt(sum((y - mu) ** 2 for y in ys) / (n - 1)), "none")
    if len(set(detected)) >= 2:
        mu, s_mle, it = censored_lognormal_mle(detected, loqs)
        return LognormalFit(mu, s_mle * math.sqrt(n / (n - 1)), "censored_mle", it)
    ys = [math.log(x) for x in detected] + [math.log(q / _SQRT2) for q in loqs]
    mu = sum(ys) / n
    return LognormalFit(mu, math.sqrt(max(0.0, sum((y - mu) ** 2 for y in ys) / (n - 1))), "loq_over_sqrt2")


# -- Bayesian overexposure risk ------------------------------------------------------------------------------

#: Expostats-like uninformative prior: mu uniform on [-20, 20], sigma uniform on (0.095, 2.3] (GSD 1.1 to 10).
BAYES_PRIOR: Final = "uniform mu on [-20, 20], uniform sigma on (0.095, 2.3]; midpoint grid, no sampling"


def overexposure_risk(
    results: Sequence[ShiftResult], oel: float, *, mu_bounds: tuple[float, float] = (-20.0, 20.0),
    sigma_bounds: tuple[float, float] = (0.095, 2.3), sigma_points: int = 150, mu_points: int = 200,
) -> float:
    """Posterior probability that P95 = exp(mu + z0.95 sigma) exceeds the OEL, for a lognormal model with the
    censored likelihood and the prior `BAYES_PRIOR`, by deterministic midpoint integration on a grid.

    For each sigma the mu grid spans the detected results' mean +- 12 sigma / sqrt(n_detected) (clipped to the
    prior bounds; the likelihood outside is below e^-72 of its envelope), or the whole prior range when nothing
    was detected. Deterministic: no random sampling.
    """
    ys = [math.log(r) for r in results if not isinstance(r, BelowLoq)]
    cs = [math.log(r.loq) for r in results if isinstance(r, BelowLoq)]
    n_d = len(ys)
    y_bar = sum(ys) / n_d if n_d else 0.0
    ss = sum((y - y_bar) ** 2 for y in ys)
    target = math.log(oel)
    s_lo, s_hi = sigma_bounds
    ds = (s_hi - s_lo) / sigma_points
    cells: list[tuple[float, float, float]] = []  # (log weight, mu, sigma)
    for i in range(sigma_points):
        sigma = s_lo + (i + 0.5) * ds
        if n_d:
            half = 12.0 * sigma / math.sqrt(n_d)
            lo, hi = max(mu_bounds[0], y_bar - half), min(mu_bounds[1], y_bar + half)
        else:
            lo, hi = mu_bounds
        if hi <= lo:
            continue
        dm = (hi - lo) / mu_points
        for j in range(mu_points):
            mu = lo + (j + 0.5) * dm
            ll = -n_d * math.log(sigma) - (ss + n_d * (mu - y_bar) ** 2) / (2.0 * sigma * sigma)
            ll += sum(log_norm_cdf((c - mu) / sigma) for c in cs)
            cells.append((ll + math.log(dm * ds), mu, sigma))
    top = max(w for w, _, _ in cells)
    total = over = 0.0
    for w, mu, sigma in cells:
        p = math.exp(w - top)
        total += p
        if mu + Z95 * sigma > target:
            over += p
    return over / total


# -- categories and tests ------------------------------------------------------------------------------------


def aiha_category(p95: float, oel: float) -> int:
    """AIHA exposure category from P95 / OEL: 0 <= 1 %; 1 > 1-10 %; 2 > 10-50 %; 3 > 50-100 %; 4 > 100 %."""
    r = p95 / oel
    for cat, upper in enumerate((0.01, 0.10, 0.50, 1.00)):
        if r <= upper:
            return cat
    return 4


def reassessment_months(gm: float, oel: float, table: ReassessmentTable = REASSESSMENT) -> int:
    """Months to the next periodic measurement from GM / OEL (see `REASSESSMENT`: unverified thresholds)."""
    r = gm / oel
    return next(step.months for step in table.steps if r <= step.gm_ratio_max)


def _validate(results: Sequence[ShiftResult], oel: float | None) -> float:
    if oel is None:
        raise InvalidInput("oel", "an OEL is needed")
    if not math.isfinite(oel) or oel <= 0:
        raise InvalidInput("oel", f"must be a positive number, got {oel}")
    if len(results) < 3:
        raise InvalidInput("results", f"EN 689 needs at least 3 results, got {len(results)}")
    for i, r in enumerate(results):
        if isinstance(r, BelowLoq):
            if not math.isfinite(r.loq) or r.loq <= 0:
                raise InvalidInput(f"results[{i}].loq", f"a LoQ must be a positive number, got {r.loq}")
        elif isinstance(r, bool) or not isinstance(r, int | float):
            raise InvalidInput(f"results[{i}]", f"must be a number or BelowLoq, got {r!r}")
        elif not math.isfinite(r) or r <= 0:
            raise InvalidInput(f"results[{i}]", f"a result must be a positive number, got {r}")
    return float(oel)


def _g(x: float) -> str:
    return f"{x:.4g}"


def _preliminary(results: Sequence[ShiftResult], oel: float) -> tuple[SegVerdict, float, str]:
    n = len(results)
    frac = PRELIMINARY_FRACTIONS[n]
    bound = frac * oel
    over = [r for r in results if not isinstance(r, BelowLoq) and r > oel]
    if over:
        return "non_compliant", frac, (f"preliminary test, n={n}: {len(over)} result(s) above the OEL "
                                       f"{_g(oel)} (highest {_g(max(over))})")
    level = [r.loq if isinstance(r, BelowLoq) else r for r in results]
    if all(x < bound for x in level):
        return "compliant", frac, (f"preliminary test, n={n}: all results below {frac:.2f} x OEL = {_g(bound)}"
                                   + (" (a <LoQ result counts by its LoQ)" if any(
                                       isinstance(r, BelowLoq) for r in results) else ""))
    return "inconclusive", frac, (f"preliminary test, n={n}: not all results below {frac:.2f} x OEL = "
                                  f"{_g(bound)} (highest {_g(max(level))}) and none above the OEL: collect at "
                                  "least 6 results for the statistical test")


def assess_seg(results: Sequence[ShiftResult], *, oel: float | None) -> SegAssessment:
    """EN 689:2018 assessment of a SEG's shift results (same agent, reference period and unit as `oel`).

    3 to 5 results: preliminary test; 6 or more: statistical test (compliant if UTL95,70 < OEL). The descriptive
    statistics are computed in both cases when the results hold at least 2 distinct values.
    """
    oel = _validate(results, oel)
    n = len(results)
    n_below = sum(isinstance(r, BelowLoq) for r in results)
    test: Test = "preliminary" if n <= 5 else "statistical"
    k = k_factor(n)
    reasons: list[str] = []
    notes: list[str] = []
    frac: float | None = None
    if test == "preliminary":
        verdict, frac, why = _preliminary(results, oel)
        reasons.append(why)

    fit = fit_lognormal(results)
    detected = [r for r in results if not isinstance(r, BelowLoq)]
    sample_mean = sum(detected) / len(detected) if n_below == 0 else None
    if fit.method == "censored_mle":
        notes.append(f"{n_below} of {n} results below the LoQ: mu and sigma by maximum likelihood for a "
                     "left-censored lognormal (sigma x sqrt(n/(n-1))); UTL and the exceedance interval are "
                     "approximate for censored data")
    elif fit.method == "loq_over_sqrt2":
        notes.append(f"{n_below} of {n} results below the LoQ and fewer than 2 distinct detected values: the "
                     "censored MLE cannot be fitted, each <LoQ result replaced by LoQ/sqrt(2) (fallback)")

    mu, sigma = fit.mu, fit.sigma
    spread = sigma > 1e-12
    gm = math.exp(mu)
    gsd = math.exp(sigma) if spread else None
    am = math.exp(mu + sigma * sigma / 2.0) if spread else None
    p95 = math.exp(mu + Z95 * sigma) if spread else None
    utl = math.exp(mu + k * sigma) if spread else None
    ef = exceedance_fraction(mu, sigma, oel) if spread else None
    ci = exceedance_ci(mu, sigma, n, oel) if spread else None
    if not spread:
        notes.append("fewer than 2 distinct values: GSD, P95, UTL and the exceedance fraction cannot be estimated")

    if test == "statistical":
        if utl is None:
            verdict = "compliant" if gm < oel else "non_compliant"
            reasons.append(f"statistical test, n={n}: no spread, every result {_g(gm)} "
                           f"{'<' if gm < oel else '>='} OEL {_g(oel)}")
        elif utl < oel:
            verdict = "compliant"
            reasons.append(f"statistical test, n={n}: UTL95,70 = {_g(utl)} < OEL {_g(oel)} (K = {k:.3f})")
        else:
            verdict = "non_compliant"
            reasons.append(f"statistical test, n={n}: UTL95,70 = {_g(utl)} >= OEL {_g(oel)} (K = {k:.3f})")
    elif utl is not None:
        notes.append(f"UTL95,70 = {_g(utl)} shown for information: the preliminary test decides with n={n}")

    risk = overexposure_risk(results, oel)
    notes.append(f"Bayesian overexposure risk P(P95 > OEL) = {100 * risk:.3g} % ({BAYES_PRIOR})")
    cat = aiha_category(p95, oel) if p95 is not None else None
    if cat is not None and p95 is not None:
        reasons.append(f"AIHA category {cat}: P95 = {_g(p95)} is {100 * p95 / oel:.3g} % of the OEL")
    months: int | None = None
    if verdict == "compliant":
        months = reassessment_months(gm, oel)
        basis = "verified" if REASSESSMENT.verified else "unverified"
        notes.append(f"next periodic measurement within {months} months (GM/OEL = {gm / oel:.3g}); thresholds "
                     f"{basis}: {REASSESSMENT.source}")
    elif verdict == "non_compliant":
        notes.append("non-compliant: no reassessment interval; act on the exposure, then assess again")
    else:
        notes.append("inconclusive: no reassessment interval; measure more shifts now")
    return SegAssessment(
        n=n, n_below_loq=n_below, oel=oel, test=test, verdict=verdict, preliminary_fraction=frac,
        mu=mu, sigma=sigma, gm=gm, gsd=gsd, am=am, sample_mean=sample_mean, p95=p95, k=k, utl95_70=utl,
        exceedance_fraction=ef, exceedance_ci95_low=ci[0] if ci else None,
        exceedance_ci95_high=ci[1] if ci else None,
        exceedance_ci_method="non-central t, Hewett & Ganser 1997" + (
            " (plug-in, approximate with censored results)" if n_below else ""),
        p95_ratio=p95 / oel if p95 is not None else None, aiha_category=cat, reassessment_months=months,
        reassessment_basis="verified" if REASSESSMENT.verified else "unverified", loq_method=fit.method,
        overexposure_risk=risk, bayes_prior=BAYES_PRIOR,
        reasons=tuple(reasons), notes=tuple(notes),
    )


__all__ = [
    "BAYES_PRIOR",
    "PRELIMINARY_FRACTIONS",
    "REASSESSMENT",
    "Z95",
    "BelowLoq",
    "LognormalFit",
    "ReassessmentStep",
    "ReassessmentTable",
    "SegAssessment",
    "ShiftResult",
    "aiha_category",
    "assess_seg",
    "censored_lognormal_mle",
    "exceedance_ci",
    "exceedance_fraction",
    "fit_lognormal",
    "k_factor",
    "nct_cdf",
    "nct_ppf",
    "overexposure_risk",
    "reassessment_months",
]
