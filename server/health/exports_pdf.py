"""PDF documents: a worker's file (with exposure charts) and a zone's monthly monitoring report.

reportlab with `invariant=1` and fixed metadata: the same data always give byte-identical documents (no time of
export is printed; the file says "data as of" its newest computation). Text that is not Latin-1 (Chinese names)
is set in Droid Sans Fallback, packaged in server/health/fonts and embedded (the used glyphs only), so it reads
on any viewer (a CID font such as STSong-Light is not embedded and shows as empty boxes without an Asian font
pack). Every page says "page n of m"; a worker's file ends with a sign-off block.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from server.health.schemas import EventOut, ExposureRecordOut, FileOut
from server.health.zone_report import ZoneMonth

_CJK = "HazmonCJK"
_CJK_FILE = Path(__file__).with_name("fonts") / "DroidSansFallbackFull.ttf"


def _fonts() -> None:
    if _CJK not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_CJK, str(_CJK_FILE)))


class _NumberedCanvas(Canvas):
    """Holds each page until the end so the footer can say "page n of m"."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._pages: list[dict[str, object]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Helvetica", 7)
            self.drawRightString(self._pagesize[0] - 12 * mm, 6 * mm, f"page {self._pageNumber} of {total}")
            title = str(getattr(self, "_doc_title", ""))
            self.setFont("Helvetica" if _latin1(title) else _CJK, 7)
            self.drawString(12 * mm, 6 * mm, title)
            super().showPage()
        super().save()


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def mixed_markup(text: object) -> str:
    """Escaped paragraph markup with each run of characters outside Latin-1 in the CJK font, the rest in the
    base font: Droid Sans Fallback has no Latin glyphs, so a mixed line set wholly in it would lose its digits and
    Latin words ("张伟 ZX-1001")."""
    parts = []
    for cjk, run in groupby("" if text is None else str(text), key=lambda ch: ord(ch) > 0xFF):
        chunk = escape("".join(run))
        parts.append(f'<font name="{_CJK}">{chunk}</font>' if cjk else chunk)
    return "".join(parts)


_t = mixed_markup



def _n(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:.0f}"


def _when(ms: int | None, tz: ZoneInfo) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, tz=tz).strftime("%Y-%m-%d %H:%M")


class Document:
    """A PDF being built: the embedded CJK font, page n of m, headings, paragraphs, tables."""

    def __init__(self, title: str, *, wide: bool = False) -> None:
        _fonts()
        self.buf = io.BytesIO()
        size = landscape(A4) if wide else A4
        self.doc = SimpleDocTemplate(self.buf, pagesize=size, invariant=1, title=title, author="hazmon",
                                     creator="hazmon", producer="hazmon", subject=title,
                                     leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm)
        self.styles = getSampleStyleSheet()
        self.story: list[Flowable] = []
        self.width = size[0] - 24 * mm

    def h(self, text: str, level: int = 1) -> None:
        self.story.append(Paragraph(_t(text), self.styles["Title" if level == 0 else f"Heading{level}"]))

    def p(self, text: str, *, raw: bool = False) -> None:
        self.story.append(Paragraph(text if raw else _t(text), self.styles["BodyText"]))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[float] | None = None,
              size: float = 7.0) -> None:
        style = self.styles["BodyText"].clone("cell", fontSize=size, leading=size + 1.5)
        data = [[Paragraph(f"<b>{_t(h)}</b>", style) for h in header]]
        data += [[Paragraph(_t(c), style) for c in row] for row in rows]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        self.story.append(t)
        self.story.append(Spacer(1, 4 * mm))

    def build(self) -> bytes:
        title = self.doc.title

        def canvas(*args: object, **kwargs: object) -> _NumberedCanvas:
            c = _NumberedCanvas(*args, **kwargs)
            c._doc_title = title  # type: ignore[attr-defined]
            return c

        self.doc.build(self.story, canvasmaker=canvas)
        return self.buf.getvalue()


#: profiles whose noise limit is a dose criterion (29 CFR 1910.95; NIOSH REL): the verdict rests on the dose
_DOSE_PROFILES = ("us-osha", "us-niosh")


def _value(r: ExposureRecordOut) -> tuple[float | None, str]:
    if r.dose_percent is not None and r.profile in _DOSE_PROFILES:
        return r.dose_percent, "Dose %"
    return (r.lex_8h, "LEX,8h") if r.lex_8h is not None or r.quantity == "laeq" else (r.twa, "TWA 8h")


def _exposure_cell(r: ExposureRecordOut) -> str:
    """The figure the verdict rests on first, then the others: a noise record under a dose criterion shows its
    dose and the TWA the criterion derives from it, beside the LEX,8h."""
    if r.quantity != "laeq" and r.lex_8h is None:
        return f"TWA 8h {_n(r.twa, 4)} {r.unit}"
    lex = f"LEX,8h {_n(r.lex_8h, 4)} dB(A)"
    if r.dose_percent is None:
        return lex
    twa_db = r.details.get("dose_twa_db")
    twa = f", TWA {float(twa_db):.1f} dB(A)" if isinstance(twa_db, int | float) else ""
    dose = f"dose {r.dose_percent:.1f} % ({r.dose_criterion}{twa})"
    return f"{dose[0].upper()}{dose[1:]}; {lex}" if r.profile in _DOSE_PROFILES else f"{lex}; {dose}"


def _limit_cell(r: ExposureRecordOut) -> str:
    if r.limit is None:
        return "no limit"
    text = f"{r.limit.value:g} {r.limit.unit} {r.limit.source or ''}"
    if r.dose_percent is not None and r.profile in _DOSE_PROFILES:
        text = f"100 % dose = {r.limit.value:g} {r.limit.unit} 8-h TWA; {r.limit.source or ''}"
    return text


def _bar_chart(title: str, labels: Sequence[str], values: Sequence[float], limit: float | None, unit: str,
               width: float) -> Drawing:
    d = Drawing(width, 150)
    d.add(String(0, 138, f"{title} ({unit})", fontName="Helvetica-Bold", fontSize=8))
    c = VerticalBarChart()
    c.x, c.y, c.width, c.height = 35, 30, width - 50, 100
    c.data = [list(values)]
    c.categoryAxis.categoryNames = list(labels)
    c.categoryAxis.labels.fontSize = 6
    c.categoryAxis.labels.angle = 30
    c.categoryAxis.labels.boxAnchor = "ne"
    c.valueAxis.labels.fontSize = 6
    top = max([*values, limit or 0.0, 1e-9])
    c.valueAxis.valueMin = 0
    c.valueAxis.valueMax = top * 1.15
    c.bars[0].fillColor = colors.HexColor("#4a7ab5")
    d.add(c)
    if limit is not None:
        y = c.y + c.height * limit / c.valueAxis.valueMax
        d.add(Line(c.x, y, c.x + c.width, y, strokeColor=colors.red, strokeDashArray=[3, 2]))
        d.add(String(c.x + c.width - 60, y + 2, f"limit {limit:g}", fontSize=6, fillColor=colors.red))
    return d


def shift_chart(r: ExposureRecordOut, points: Sequence[tuple[int, float | None]], width: float,
                tz: ZoneInfo) -> Drawing:
    """One shift's measured series (time-weighted means, gaps left open) against the record's limit."""
    d = Drawing(width, 120)
    d.add(String(0, 108, f"{r.substance}: shift {_when(r.shift_start_ms, tz)} - {_when(r.shift_end_ms, tz)[11:]} "
                         f"({r.unit})", fontName="Helvetica-Bold", fontSize=7))
    x0, y0, w, h = 40.0, 18.0, width - 55.0, 82.0
    limit = r.limit.value if r.limit and r.limit.unit == r.unit else None
    values = [v for _, v in points if v is not None]
    top = max([*values, limit or 0.0, 1e-9]) * 1.15
    lo = 0.0 if r.quantity != "laeq" else max(0.0, min([*values, limit or 200.0]) - 10.0)
    t0, t1 = r.shift_start_ms, max(r.shift_end_ms, r.shift_start_ms + 1)

    def x(t: int) -> float:
        return x0 + (t - t0) / (t1 - t0) * w

    def y(v: float) -> float:
        return y0 + (v - lo) / (top - lo) * h

    d.add(Line(x0, y0, x0 + w, y0, strokeWidth=0.5))
    d.add(Line(x0, y0, x0, y0 + h, strokeWidth=0.5))
    for i in range(5):
        v = lo + (top - lo) * i / 4
        d.add(String(x0 - 3, y(v) - 2, f"{v:.3g}", fontSize=5.5, textAnchor="end"))
    for t in (t0, (t0 + t1) // 2, t1):
        d.add(String(x(t), y0 - 9, _when(t, tz)[11:], fontSize=5.5, textAnchor="middle"))
    prev: tuple[int, float] | None = None
    for t, v in points:
        if v is None:
            prev = None
            continue
        if prev is not None:
            d.add(Line(x(prev[0]), y(prev[1]), x(t), y(v), strokeColor=colors.HexColor("#4a7ab5"), strokeWidth=0.7))
        prev = (t, v)
    if limit is not None:
        d.add(Line(x0, y(limit), x0 + w, y(limit), strokeColor=colors.red, strokeDashArray=[3, 2]))
        d.add(String(x0 + w, y(limit) + 2, f"limit {limit:g}", fontSize=5.5, fillColor=colors.red, textAnchor="end"))
    return d


def worker_pdf(f: FileOut, *, tz: ZoneInfo, profile: str,
               series: dict[int, list[tuple[int, float | None]]] | None = None) -> bytes:
    """The worker's file; `series` (record id -> downsampled points) adds a chart of each shift's series."""
    w = f.worker
    doc = Document(f"Occupational health file {w.employee_no}", wide=True)
    doc.h(f"Occupational health file: {w.employee_no}", 0)
    doc.table(["Employee no", "Name", "Department", "Job / post", "Status", "Hired", "Left"],
              [[w.employee_no, w.name, w.department, w.job, w.status, w.hire_date or "-", w.leave_date or "-"]])
    doc.p(f"Data as of {_when(f.data_as_of_ms, tz)} ({tz.key}). Limits: jurisdiction profile {profile}. "
          "Each exposure figure is the presence-weighted combination of the zone or personal series; coverage is the "
          "fraction of the shift with valid data; flagged readings are excluded and counted.")

    doc.h("Job history (assignments)", 2)
    doc.table(["From", "To", "Zone", "Post", "Shift", "Source"],
              [[_when(a.start_ms, tz), _when(a.end_ms, tz), a.zone, a.post or "-",
                f"{_when(a.shift_start_ms, tz)} - {_when(a.shift_end_ms, tz)}", a.source] for a in f.assignments]
              or [["-", "-", "-", "-", "-", "-"]])
    if f.personal_sensors:
        doc.table(["Personal sensor", "From", "To"],
                  [[p.sensor, _when(p.start_ms, tz), _when(p.end_ms, tz)] for p in f.personal_sensors])

    doc.h("Exposure records", 2)
    rows = []
    for r in f.exposure_records:
        lim = _limit_cell(r)
        sensors = ", ".join(f"{s.sensor} ({s.role}; calibration {s.calibration})" for s in r.sensors) or "none"
        rows.append([_when(r.shift_start_ms, tz), r.substance, _exposure_cell(r),
                     _n(r.stel_max, 4), _n(r.peak, 4), _n(r.ratio, 3), lim, r.exposure_class or "-",
                     f"{r.coverage * 100:.1f} %", r.flagged_excluded, r.verdict, f"v{r.version}",
                     f"{r.basis}: {sensors}"])
    doc.table(["Shift", "Hazard", "Exposure", "STEL max", "Peak", "Ratio", "Limit (source)", "Class", "Coverage",
               "Flagged excl.", "Verdict", "Ver.", "Basis and sensors"], rows or [["-"] * 13],
              widths=[22 * mm, 16 * mm, 28 * mm, 14 * mm, 12 * mm, 11 * mm, 50 * mm, 11 * mm, 15 * mm, 12 * mm,
                      15 * mm, 9 * mm, 58 * mm])
    gaps = [[_when(r.shift_start_ms, tz), r.substance, _when(g.start_ms, tz), _when(g.end_ms, tz), g.reason,
             f"{(g.end_ms - g.start_ms) / 60000:.1f} min"] for r in f.exposure_records for g in r.gaps]
    if gaps:
        doc.h("Gaps in the records", 3)
        doc.table(["Shift", "Hazard", "From", "To", "Reason", "Length"], gaps)

    for substance in sorted({r.substance for r in f.exposure_records}):
        rs = [r for r in f.exposure_records if r.substance == substance]
        pts = [(r, _value(r)[0]) for r in rs]
        pts = [(r, v) for r, v in pts if v is not None]
        if not pts:
            continue
        metric = _value(rs[0])[1]
        labels = [_when(r.shift_start_ms, tz)[:10] for r, _ in pts]
        dose = metric == "Dose %"
        limit = 100.0 if dose else (rs[-1].limit.value if rs[-1].limit else None)
        doc.story.append(_bar_chart(f"{substance}: {metric} per shift", labels, [v for _, v in pts],
                                    limit, "%" if dose else rs[0].unit, doc.width * 0.6))

    charted = [r for r in f.exposure_records if series and series.get(r.id)]
    if charted:
        doc.h("Each shift's series against its limit", 3)
        doc.p("Time-weighted means of the presence-weighted series, from the data as they are at export; gaps are "
              "left open.")
        for r in charted:
            doc.story.append(shift_chart(r, series[r.id], doc.width * 0.6, tz))  # type: ignore[index]
    if f.samples:
        doc.h("Laboratory personal samples (basis personal_sample)", 2)
        doc.table(["Sample", "Hazard", "From", "To", "Result", "LoQ", "8-h TWA", "Limit (source)", "Ratio", "Verdict",
                   "Laboratory / method"],
                  [[p.sample_id, p.substance, _when(p.start_ms, tz), _when(p.end_ms, tz),
                    "<LoQ" if p.below_loq else f"{_n(p.result, 4)} {p.unit}", _n(p.loq, 3),
                    f"{_n(p.twa_8h, 4)} {p.twa_unit}" if p.twa_8h is not None else f"< {_n(p.loq_8h, 3)}",
                    f"{p.limit.value:g} {p.limit.unit} {p.limit.source or ''}" if p.limit else "no limit",
                    _n(p.ratio, 3), p.verdict, f"{p.laboratory} / {p.method}"] for p in f.samples])

    doc.h("Linked alerts and incidents", 2)
    doc.table(["Event", "Rule / plan", "Zone / via", "Sensor", "Opened", "Ended", "Present", "Worst", "History"],
              [[_event_name(e), e.rule or "-", f"{e.zone or '-'} / {e.via}", e.sensor or "-", _when(e.opened_ts, tz),
                _when(e.end_ts, tz), f"{_when(e.present_from_ms, tz)} - {_when(e.present_until_ms, tz)}",
                _event_worst(e), "; ".join(f"{_when(h.ts_ms, tz)} {h.action} by {h.actor}" for h in e.history)]
               for e in f.events] or [["-"] * 9])

    doc.h("Health surveillance exams", 2)
    if f.exams is None:
        doc.p("Medical exam results are withheld for this reader's role.")
    else:
        doc.table(["Exam", "Type", "Hazard", "Status", "Due", "Done", "Outcome", "Findings", "Attachments"],
                  [[e.id, e.exam_type, e.hazard or "-", e.status, e.due_date or "-", e.exam_date or "-",
                    e.outcome or "-", e.findings or "-", ", ".join(a.filename for a in e.attachments) or "-"]
                   for e in f.exams] or [["-"] * 9])
    _sign_off(doc)
    return doc.build()


def _sign_off(doc: Document) -> None:
    """Who reviewed the file, when, and their signature: filled in by hand on the printed copy."""
    doc.h("Review and sign-off", 2)
    doc.table(["Role", "Name", "Date", "Signature"],
              [["Occupational health professional", "", "", ""], ["Record-keeper", "", "", ""],
               ["Worker (acknowledged receipt)", "", "", ""]],
              widths=[70 * mm, 70 * mm, 35 * mm, 70 * mm], size=9)


def zone_pdf(z: ZoneMonth, *, tz: ZoneInfo) -> bytes:
    doc = Document(f"Monthly monitoring report {z.zone_code} {z.month}", wide=True)
    doc.h(f"Monthly monitoring report: zone {z.zone_code}, {z.month}", 0)
    doc.p(f"{z.zone_name} (site {z.site or '-'}); days in {z.timezone}; limits profile {z.profile}. "
          f"Sensors: {', '.join(z.sensors) or 'none'}. Workers assigned this month: {z.workers_assigned}.")
    for h in z.hazards:
        doc.h(f"{h.substance} ({h.quantity}, {h.unit})", 2)
        doc.table(["Day", "Mean over valid time", "Highest 15-min", "Highest", "Coverage", "Flagged excl."],
                  [[d.day.isoformat(), _n(d.mean, 4), _n(d.stel_max, 4), _n(d.peak, 4), f"{d.coverage * 100:.1f} %",
                    d.flagged] for d in h.days])
        chart = HorizontalLineChart()
        drawing = Drawing(doc.width * 0.7, 150)
        drawing.add(String(0, 138, f"{h.substance}: daily mean and highest ({h.unit})", fontName="Helvetica-Bold",
                           fontSize=8))
        chart.x, chart.y, chart.width, chart.height = 35, 25, doc.width * 0.7 - 50, 100
        chart.data = [[d.mean or 0.0 for d in h.days], [d.peak or 0.0 for d in h.days]]
        chart.categoryAxis.categoryNames = [str(d.day.day) for d in h.days]
        chart.categoryAxis.labels.fontSize = 6
        chart.valueAxis.labels.fontSize = 6
        chart.valueAxis.valueMin = 0
        chart.lines[0].strokeColor = colors.HexColor("#4a7ab5")
        chart.lines[1].strokeColor = colors.red
        drawing.add(chart)
        doc.story.append(drawing)
    doc.h("Alerts", 2)
    doc.table(["Alert", "Rule", "Sensor", "Severity", "Opened", "Resolved", "Worst"],
              [[a.alert_id, a.rule, a.sensor, a.severity, _when(a.opened_ts, tz), _when(a.resolved_ts, tz),
                f"{a.worst_value:g} {a.unit}"] for a in z.alerts] or [["-"] * 7])
    doc.h("Workers' exposure records (current versions, counts)", 2)
    doc.table(["Hazard", "Verdict", "Worker-shifts"], [list(r) for r in z.records_by_verdict] or [["-", "-", "-"]])
    return doc.build()


def _event_name(e: EventOut) -> str:
    if e.kind != "incident":
        return f"alert {e.alert_id}"
    inc = e.incident
    own = inc.own_muster if inc else None
    muster = "" if own is None else (" safe" if own.safe_ms is not None else " not marked safe")
    steps = "" if inc is None else f" steps {sum(1 for s in inc.steps if s.done_ms)}/{len(inc.steps)}"
    return f"{'DRILL ' if e.drill else ''}incident {e.incident_id}{steps}{muster}"


def _event_worst(e: EventOut) -> str:
    if e.worst_value is None:
        return "-"
    limit = "" if e.threshold is None else f" (threshold {e.threshold:g})"
    return f"{e.worst_value:g} {e.unit or ''}{limit}"
