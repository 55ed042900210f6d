"""The SEG report: the exposure profile of a similar exposure group for one hazard, as PDF (a log-probability
plot, the results in time order against the OEL, the verdict and how it was reached, every result with its basis,
the sources) and as CSV (the data behind it). Byte-identical for the same data, like the health-file PDF."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Sequence
from statistics import NormalDist

from reportlab.graphics.shapes import Circle, Drawing, Line, String
from reportlab.lib import colors

from server.health.exports_data import iso
from server.health.exports_pdf import Document
from server.health.schemas import SegAssessmentOut, SegProfileOut, SegResultOut

_Z = NormalDist()
_BLUE = colors.HexColor("#4a7ab5")


def _g(v: object, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def _frame(d: Drawing, x0: float, y0: float, w: float, h: float) -> None:
    d.add(Line(x0, y0, x0 + w, y0, strokeColor=colors.black, strokeWidth=0.5))
    d.add(Line(x0, y0, x0, y0 + h, strokeColor=colors.black, strokeWidth=0.5))


def _log_ticks(lo: float, hi: float) -> list[float]:
    ticks = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**e
            if lo <= v <= hi:
                ticks.append(v)
    return ticks


def probability_plot(p: SegProfileOut, oel: float | None, unit: str, width: float) -> Drawing:
    """ln(result) against the normal quantile of its rank (Hazen plotting positions (i - 0.5) / n; results below
    the LoQ drawn hollow at their LoQ), the fitted lognormal line and the OEL: points on a straight line support
    the lognormal model the EN 689 test assumes."""
    d = Drawing(width, 190)
    d.add(String(0, 178, f"Log-probability plot ({unit}, log scale) - {p.basis}", fontName="Helvetica-Bold",
                 fontSize=8))
    pts = sorted(((r.value if r.value is not None else r.loq or 0.0), r.below_loq) for r in p.results)
    pts = [(v, c) for v, c in pts if v > 0]
    if not pts:
        d.add(String(40, 90, "no results", fontSize=8))
        return d
    n = len(pts)
    zs = [_Z.inv_cdf((i + 0.5) / n) for i in range(n)]
    values = [v for v, _ in pts] + ([oel] if oel else [])
    a = p.assessment or {}
    mu, sigma = a.get("mu"), a.get("sigma")
    lo, hi = min(values) / 1.5, max(values) * 1.5
    x0, y0, w, h = 45.0, 25.0, width - 60.0, 140.0
    zmin, zmax = -2.5, 2.5

    def x(z: float) -> float:
        return x0 + (max(zmin, min(zmax, z)) - zmin) / (zmax - zmin) * w

    def y(v: float) -> float:
        return y0 + (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo)) * h

    _frame(d, x0, y0, w, h)
    for v in _log_ticks(lo, hi):
        d.add(Line(x0 - 3, y(v), x0, y(v), strokeWidth=0.5))
        d.add(String(x0 - 5, y(v) - 2, f"{v:g}", fontSize=6, textAnchor="end"))
    for pct in (1, 5, 16, 50, 84, 95, 99):
        z = _Z.inv_cdf(pct / 100)
        d.add(Line(x(z), y0 - 3, x(z), y0, strokeWidth=0.5))
        d.add(String(x(z), y0 - 11, f"{pct} %", fontSize=6, textAnchor="middle"))
    if isinstance(mu, float) and isinstance(sigma, float):
        za, zb = zmin, zmax
        d.add(Line(x(za), y(max(lo, min(hi, math.exp(mu + sigma * za)))), x(zb),
                   y(max(lo, min(hi, math.exp(mu + sigma * zb)))), strokeColor=_BLUE, strokeWidth=0.8))
    if oel:
        d.add(Line(x0, y(oel), x0 + w, y(oel), strokeColor=colors.red, strokeDashArray=[3, 2]))
        d.add(String(x0 + w - 2, y(oel) + 2, f"OEL {oel:g}", fontSize=6, fillColor=colors.red, textAnchor="end"))
    for (v, censored), z in zip(pts, zs, strict=True):
        d.add(Circle(x(z), y(v), 2.2, fillColor=colors.white if censored else _BLUE, strokeColor=_BLUE,
                     strokeWidth=0.6))
    d.add(String(x0 + w / 2, 2, "cumulative probability (normal quantile)", fontSize=6, textAnchor="middle"))
    return d


def time_chart(results: Sequence[SegResultOut], oel: float | None, unit: str, width: float,
               tz: dt.tzinfo) -> Drawing:
    """Each result at its date against the OEL (hollow: below the LoQ, drawn at its LoQ)."""
    d = Drawing(width, 170)
    d.add(String(0, 158, f"Results in time order ({unit})", fontName="Helvetica-Bold", fontSize=8))
    pts = [(r.start_ms, r.value if r.value is not None else (r.loq or 0.0), r.below_loq) for r in results]
    if not pts:
        d.add(String(40, 80, "no results", fontSize=8))
        return d
    x0, y0, w, h = 45.0, 25.0, width - 60.0, 120.0
    t_lo, t_hi = min(p[0] for p in pts), max(p[0] for p in pts)
    span = max(t_hi - t_lo, 86_400_000)
    top = max([p[1] for p in pts] + [oel or 0.0]) * 1.15 or 1.0

    def x(t: int) -> float:
        return x0 + (t - t_lo) / span * w

    def y(v: float) -> float:
        return y0 + v / top * h

    _frame(d, x0, y0, w, h)
    for i in range(5):
        v = top * i / 4
        d.add(String(x0 - 5, y(v) - 2, f"{v:.3g}", fontSize=6, textAnchor="end"))
    for t in sorted({t_lo, t_hi, t_lo + span // 2}):
        d.add(String(x(t), y0 - 11, dt.datetime.fromtimestamp(t / 1000, tz).strftime("%Y-%m-%d"), fontSize=6,
                     textAnchor="middle"))
    if oel:
        d.add(Line(x0, y(oel), x0 + w, y(oel), strokeColor=colors.red, strokeDashArray=[3, 2]))
        d.add(String(x0 + w - 2, y(oel) + 2, f"OEL {oel:g}", fontSize=6, fillColor=colors.red, textAnchor="end"))
    for t, v, censored in pts:
        d.add(Circle(x(t), y(v), 2.2, fillColor=colors.white if censored else _BLUE, strokeColor=_BLUE,
                     strokeWidth=0.6))
    return d


_FIELDS = (("n", "results"), ("n_below_loq", "below the LoQ"), ("test", "EN 689 test"), ("verdict", "verdict"),
           ("gm", "GM"), ("gsd", "GSD"), ("am", "AM (lognormal)"), ("sample_mean", "sample mean"), ("p95", "P95"),
           ("k", "K (UTL95,70 factor)"), ("utl95_70", "UTL95,70"), ("exceedance_fraction", "exceedance fraction"),
           ("exceedance_ci95_low", "exceedance 95 % CI low"), ("exceedance_ci95_high", "exceedance 95 % CI high"),
           ("aiha_category", "AIHA category"), ("reassessment_months", "reassess within (months)"),
           ("reassessment_basis", "reassessment table"), ("loq_method", "below-LoQ method"))


def _profile_section(doc: Document, p: SegProfileOut, out: SegAssessmentOut, tz: dt.tzinfo) -> None:
    title = "Personal samples" if p.basis == "personal_sample" else "Area-derived results (screening)"
    doc.h(f"{title}: n = {p.n}", 2)
    if p.screening:
        doc.p("Screening data: fixed-point monitors weighted by each worker's presence (or a worn direct-reading "
              "sensor), not laboratory personal samples. EN 689 rests on personal measurements; this profile is "
              "shown beside them and never replaces them.")
    oel = out.oel.value if out.oel else None
    a = p.assessment
    if a is None:
        doc.p(f"No assessment: {p.reason}")
    else:
        doc.p(f"<b>Verdict: {a['verdict']}</b> ({a['test']} test).", raw=True)
        for reason in a.get("reasons", []):  # type: ignore[union-attr]
            doc.p(str(reason))
        doc.table(["Statistic", "Value"], [[label, _g(a.get(key))] for key, label in _FIELDS], size=8)
        if p.next_reassessment:
            doc.p(f"Next reassessment by {p.next_reassessment.isoformat()} (table marked "
                  f"{a.get('reassessment_basis')}).")
        for note in a.get("notes", []):  # type: ignore[union-attr]
            doc.p(f"Note: {note}")
    doc.story.append(probability_plot(p, oel, out.unit, doc.width * 0.62))
    doc.story.append(time_chart(p.results, oel, out.unit, doc.width * 0.62, tz))
    doc.table(["Worker", "From", "To", f"8-h TWA ({out.unit})", "Below LoQ", "LoQ (8-h)", "Basis", "Reference"],
              [[r.employee_no, iso(r.start_ms), iso(r.end_ms), _g(r.value), "yes" if r.below_loq else "",
                _g(r.loq), r.basis, r.ref] for r in p.results] or [["-"] * 8])


def seg_pdf(out: SegAssessmentOut, *, tz: dt.tzinfo) -> bytes:
    seg = out.seg
    doc = Document(f"SEG assessment {seg.name} {out.hazard}")
    doc.h(f"Similar exposure group assessment: {seg.name}", 0)
    period = f"{out.period_from or 'all'} to {out.period_to or 'now'}"
    oel = f"{out.oel.value:g} {out.oel.unit} ({out.oel.source})" if out.oel else "none in this profile"
    doc.p(f"Hazard {out.hazard}; OEL (8-h TWA) {oel}; jurisdiction profile {out.profile}; period {period}.")
    doc.p(f"Members ({len(seg.members)}): {', '.join(seg.members) or '-'}. Defined by zones "
          f"{', '.join(seg.zones) or '-'}, posts {', '.join(seg.posts) or '-'}, jobs {', '.join(seg.jobs) or '-'}, "
          f"picked {', '.join(seg.workers) or '-'}. {seg.description}")
    for p in (out.assessment, *out.other):
        _profile_section(doc, p, out, tz)
    doc.h("How the verdict is reached", 2)
    doc.p("3 to 5 results: the EN 689 preliminary test (compliant when every result is below 0.10, 0.15 or 0.20 x "
          "OEL for n = 3, 4, 5; non-compliant when any exceeds the OEL; otherwise inconclusive). 6 or more: the "
          "statistical test, compliant when UTL95,70 = exp(mu + K s) < OEL, K = t'(0.70; n - 1, z0.95 sqrt(n)) / "
          "sqrt(n). The AIHA category comes from P95 / OEL (0: <= 1 %, 1: <= 10 %, 2: <= 50 %, 3: <= 100 %, "
          "4: > 100 %). Results below the LoQ are censored values (maximum likelihood), never zeros.")
    doc.h("Sources", 2)
    for s in out.sources:
        doc.p(s)
    return doc.build()


def seg_csv(out: SegAssessmentOut) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("seg", "hazard", "profile_basis", "screening", "verdict", "employee_no", "start", "end",
                "twa_8h", "unit", "below_loq", "loq_8h", "basis", "ref"))
    for p in (out.assessment, *out.other):
        verdict = p.assessment["verdict"] if p.assessment else ""
        for r in p.results:
            w.writerow((out.seg.name, out.hazard, p.basis, "yes" if p.screening else "", verdict, r.employee_no,
                        iso(r.start_ms), iso(r.end_ms), "" if r.value is None else repr(r.value), out.unit,
                        "yes" if r.below_loq else "", "" if r.loq is None else repr(r.loq), r.basis, r.ref))
    return buf.getvalue()
