"""The department evaluation as a spreadsheet (openpyxl) and a PDF (reportlab).

Both take the dict :func:`apps.cockpit.selectors.department_evaluation` returns and give
bytes; of Django only its translations are used (labels follow the active language). The PDF
uses reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1), which renders Chinese with no
font file to ship.
"""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .evaluation import METRIC_LABELS, METRICS

COLUMNS: list[tuple[str, str]] = [
    ("rank", gettext_lazy("排名")),
    ("department", gettext_lazy("部门")),
    ("total", gettext_lazy("综合得分")),
    ("tasks_received", gettext_lazy("接收预警任务")),
    ("ack_median_min", gettext_lazy("签收时长中位数（分钟）")),
    ("on_time_rate", gettext_lazy("按时率（%）")),
    ("feedback_rate", gettext_lazy("反馈完整率（%）")),
    ("disposal_rate", gettext_lazy("涉案物品处置完成率（%）")),
    ("tips_rate", gettext_lazy("举报线索办结率（%）")),
]

DETAIL_COLUMNS: list[tuple[str, str]] = [
    ("steps_on_time", gettext_lazy("按时环节")),
    ("steps_due", gettext_lazy("应完成环节")),
    ("feedback_done", gettext_lazy("完整反馈")),
    ("feedback_due", gettext_lazy("应反馈")),
    ("disposals_done", gettext_lazy("处置完成")),
    ("disposals_total", gettext_lazy("查扣物品")),
    ("tips_closed", gettext_lazy("举报办结")),
    ("tips_total", gettext_lazy("举报派发")),
]

TITLE = gettext_lazy("反走私综合治理部门绩效评估")


def _cell(value: Any) -> Any:
    return "—" if value is None else value


def evaluation_xlsx(data: dict[str, Any], *, generated_at: datetime | None = None) -> bytes:
    """A workbook: sheet 1 the ranked table (with the counts behind each rate), sheet 2 the weights."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = _("部门排名")
    ws.append([_("%(title)s（%(start)s 至 %(end)s）") % {"title": TITLE, "start": data["start"], "end": data["end"]}])
    ws["A1"].font = Font(bold=True, size=14)
    if generated_at:
        ws.append([_("生成时间：%(time)s") % {"time": f"{generated_at:%Y-%m-%d %H:%M}"}])
    else:
        ws.append([])
    header = [str(label) for _key, label in COLUMNS + DETAIL_COLUMNS]
    ws.append(header)
    head_row = ws.max_row
    fill = PatternFill("solid", fgColor="DDE6F0")
    for col in range(1, len(header) + 1):
        c = ws.cell(row=head_row, column=col)
        c.font = Font(bold=True)
        c.fill = fill
        c.alignment = Alignment(wrap_text=True, vertical="center")
    for row in data["rows"]:
        ws.append([row[k] if row[k] is not None else None for k, _label in COLUMNS + DETAIL_COLUMNS])
    for col in range(1, len(header) + 1):
        ws.column_dimensions[get_column_letter(col)].width = 16 if col != 2 else 22
    ws.freeze_panes = ws.cell(row=head_row + 1, column=3)

    ws2 = wb.create_sheet(_("权重"))
    ws2.append([_("指标"), _("权重")])
    for metric in METRICS:
        ws2.append([str(METRIC_LABELS[metric]), float(data["weights"][metric])])
    ws2.append([_("合计"), float(sum(float(data["weights"][m]) for m in METRICS))])
    ws2.column_dimensions["A"].width = 24
    ws2.append([])
    ws2.append([_("说明：比率类指标直接计分；接收任务数按最多者归一；签收时长按各部门中位数线性归一（越短越好）；"
                  "无可计指标（如无涉案物品）的部门该项不计，按其余指标权重重新归一。")])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def evaluation_pdf(data: dict[str, Any], *, generated_at: datetime | None = None) -> bytes:
    """An A4 landscape PDF of the ranked table and the weights (Chinese via STSong-Light)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    title_style = ParagraphStyle("t", fontName=font, fontSize=16, leading=22)
    body_style = ParagraphStyle("b", fontName=font, fontSize=9, leading=13)
    head_style = ParagraphStyle("h", fontName=font, fontSize=8.5, leading=11)

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm,
        title=str(TITLE), author=_("象山海上反走私综合治理平台"),
    )
    heading = _("%(title)s（%(start)s 至 %(end)s）") % {"title": TITLE, "start": data["start"], "end": data["end"]}
    story: list = [Paragraph(escape(heading), title_style)]
    if generated_at:
        story.append(Paragraph(escape(_("生成时间：%(time)s") % {"time": f"{generated_at:%Y-%m-%d %H:%M}"}), body_style))
    story.append(Spacer(1, 4 * mm))
    table = [[Paragraph(escape(str(label)), head_style) for _key, label in COLUMNS]]
    for row in data["rows"]:
        table.append([_cell(row[k]) for k, _label in COLUMNS])
    t = Table(table, repeatRows=1, colWidths=[14 * mm, 44 * mm] + [29 * mm] * (len(COLUMNS) - 2))
    t.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 1), (-1, -1), 9),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE6F0")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9AA5B1")),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F4F6F9")]),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    story.append(t)
    story.append(Spacer(1, 5 * mm))
    weights = _("；").join(f"{METRIC_LABELS[m]} {float(data['weights'][m]):.3f}" for m in METRICS)
    story.append(Paragraph(escape(_("权重：%(weights)s") % {"weights": weights}), body_style))
    story.append(
        Paragraph(
            escape(_("计分：比率类指标直接计分；接收任务数按最多者归一；签收时长按各部门中位数线性归一（越短越好）；"
                     "无可计指标的部门该项不计，按其余指标权重重新归一；综合得分满分 100。")),
            body_style,
        )
    )
    doc.build(story)
    return out.getvalue()
