"""The printable A4 hazard notification card of a zone (职业病危害告知卡): the board's content, a page in English
and a page in Chinese, written with the worker record's PDF machinery (server/health/exports_pdf.py: reportlab,
the embedded Droid Sans Fallback for Chinese)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, Spacer, Table, TableStyle

from server.health.exports_pdf import Document, mixed_markup
from server.web.board_view import Board, Results
from server.web.templating import num

_EN = {"title": "Hazard notification card", "zone": "Zone", "site": "site", "hazards": "Hazards in this zone",
       "hazard": "Hazard", "effects": "Health effects", "ppe": "Required protection", "levels": "Current levels",
       "sensor": "Sensor", "value": "Value", "action": "Action level", "limit": "Limit", "state": "State",
       "results": "Latest monitoring results (zone series, per shift and per day)", "window": "Shift or day",
       "mean": "Mean",
       "stel": "Highest 15-min", "peak": "Highest", "coverage": "Coverage", "emergency": "In an emergency",
       "team": "Alert the emergency team (contact group)", "step": "Step", "who": "Who",
       "none": "none", "asof": "Data as of", "source": "Sources",
       "noplan": "Leave the zone upwind, raise the alarm and tell your supervisor."}
_ZH = {"title": "职业病危害告知卡", "zone": "区域", "site": "厂区", "hazards": "本区域职业病危害因素",
       "hazard": "危害因素", "effects": "健康危害", "ppe": "防护措施", "levels": "当前浓度（强度）",
       "sensor": "监测点", "value": "当前值", "action": "行动值", "limit": "限值", "state": "状态",
       "results": "最新监测结果（区域，按班次和日）", "window": "班次或日期", "mean": "平均值", "stel": "最高15分钟",
       "peak": "最高值", "coverage": "覆盖率", "emergency": "应急处置", "team": "通知应急小组（联系组）",
       "step": "步骤", "who": "责任人", "none": "无", "asof": "数据截至", "source": "依据",
       "noplan": "撤离至上风向，报警并报告主管。"}
_STATE_ZH = {"ok": "正常", "warning": "预警", "critical": "超标", "emergency": "紧急", "stale": "无最新数据"}


_CJK = "HazmonCJK"  # registered by Document (server/health/exports_pdf.py)




class _Card:
    """Headings, paragraphs and tables of a card page, in mixed Latin and Chinese text."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.width = doc.width

    def h(self, text: str, level: int = 1) -> None:
        style = self.doc.styles["Title" if level == 0 else f"Heading{level}"]
        self.doc.story.append(Paragraph(mixed_markup(text), style))

    def p(self, text: str) -> None:
        self.doc.story.append(Paragraph(mixed_markup(text), self.doc.styles["BodyText"]))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[float] | None = None,
              size: float = 10.0) -> None:
        style = self.doc.styles["BodyText"].clone("card-cell", fontSize=size, leading=size + 2)
        data = [[Paragraph(f"<b>{mixed_markup(h)}</b>", style) for h in header]]
        data += [[Paragraph(mixed_markup(c), style) for c in row] for row in rows]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        self.doc.story.append(t)
        self.doc.story.append(Spacer(1, 3 * mm))


def _page(doc: _Card, b: Board, results: Results, words: dict[str, str], *, zh: bool, asof: str) -> None:
    w = doc.width
    doc.h(f"{words['title']}: {b.name} ({b.code})", 0)
    doc.p(f"{words['zone']} {b.code} · {words['site']} {b.site or '-'} · {words['asof']} {asof}")
    doc.h(words["hazards"], 2)
    doc.table([words["hazard"], words["effects"], words["ppe"]],
              [[f"{h.name_zh if zh else h.name_en} ({h.substance})", h.effects_zh if zh else h.effects_en,
                h.declared_ppe or (h.ppe_zh if zh else h.ppe_en)] for h in b.hazards] or [[words["none"], "", ""]],
              widths=[0.2 * w, 0.45 * w, 0.35 * w])
    doc.h(words["levels"], 2)
    doc.table([words["sensor"], words["value"], words["action"], words["limit"], words["state"]],
              [[f"{v.sensor} · {v.quantity}", f"{num(v.value)} {v.unit}",
                f"{num(v.action.threshold)}" if v.action else "-", f"{num(v.limit.threshold)}" if v.limit else "-",
                _STATE_ZH.get(v.state, v.state) if zh else v.state] for v in b.values]
              or [[words["none"], "", "", "", ""]],
              widths=[0.34 * w, 0.18 * w, 0.16 * w, 0.16 * w, 0.16 * w])
    doc.h(words["results"], 2)
    doc.table([words["window"], words["hazard"], words["mean"], words["stel"], words["peak"], words["coverage"]],
              [[r.label, f"{r.substance} ({r.unit})", num(r.row.mean), num(r.row.stel_max), num(r.row.peak),
                f"{r.row.coverage * 100:.0f} %"] for r in (*results.shifts, *results.days)]
              or [[words["none"], "", "", "", "", ""]])
    doc.h(words["emergency"], 2)
    for plan in b.plans:
        doc.h(plan.title, 3)
        doc.table([words["step"], words["who"]], [[f"{i}. {what}", who] for i, (what, who) in enumerate(plan.steps, 1)],
                  widths=[0.7 * w, 0.3 * w])
        if plan.team_group:
            doc.p(f"{words['team']}: {plan.team_group}")
    if not b.plans:
        doc.p(words["noplan"])
    doc.p(f"{words['source']}: {b.source}")


def card_pdf(b: Board, results: Results, *, tz: ZoneInfo, now_ms: int) -> bytes:
    """Two A4 pages, English then Chinese, with the same content."""
    asof = dt.datetime.fromtimestamp(now_ms / 1000, tz).strftime("%Y-%m-%d %H:%M")
    doc = Document(f"Hazard notification card {b.code}")
    doc.doc.topMargin = 15 * mm
    card = _Card(doc)
    _page(card, b, results, _EN, zh=False, asof=asof)
    doc.story.append(PageBreak())
    _page(card, b, results, _ZH, zh=True, asof=asof)
    return doc.build()
