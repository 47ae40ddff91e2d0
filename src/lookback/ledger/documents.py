"""The township's written self-check report (书面材料, seed 三(二)) as a .docx, built with python-docx from
the ledger's figures and the officer's narrative; and its .xlsx ledger attachment."""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from lookback.core.i18n import in_site_language
from lookback.ledger import exports
from lookback.ledger.models import Problem, TownshipReport

FONT = "SimSun"  # 宋体: what county offices expect; Word substitutes when it is missing


def report_title(report: TownshipReport) -> str:
    return _("%(place)s稳定脱贫“回头看”自查报告") % {"place": report.township.full_name()}


@in_site_language
def suggested_text(counts: dict[str, Any], report: TownshipReport) -> dict[str, str]:
    """First drafts of the narrative parts; the officer rewrites them before submitting."""
    return {
        "basic_situation": _(
            "按照《福州市稳定脱贫“回头看”工作方案》要求，%(township)s组织扶贫专干、驻村工作队和帮扶责任人，"
            "对全镇%(villages)d个行政村、%(households)d户%(members)d人脱贫户开展了“回头看”自查。"
        )
        % {
            "township": report.township.name,
            "villages": counts["villages"],
            "households": counts["households"],
            "members": counts["members"],
        },
        "rectification_summary": _(
            "对自查发现的问题逐一建立台帐，明确整改措施、责任人和整改时限，边查边改、立行立改。"
        ),
        "next_steps": _("继续推进未销号问题的整改，逐项核验销号；巩固脱贫成效，防止返贫。"),
    }


def _set_font(document: Any) -> None:
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)


def _paragraphs(document: Any, text: str) -> None:
    for line in (text or "").splitlines():
        if line.strip():
            paragraph = document.add_paragraph(line.strip())
            paragraph.paragraph_format.first_line_indent = Pt(24)


@in_site_language
def build_docx(report: TownshipReport, counts: dict[str, Any], *, submitted_at: Any = None) -> bytes:
    document = Document()
    _set_font(document)
    heading = document.add_heading(report_title(report), level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    when = timezone.localtime(submitted_at) if submitted_at else timezone.localtime()
    meta = document.add_paragraph(
        _("活动：%(campaign)s　报送单位：%(unit)s　日期：%(date)s")
        % {"campaign": report.campaign.name, "unit": report.township.name, "date": when.strftime("%Y年%m月%d日")}
    )
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER

    document.add_heading(_("一、基本情况"), level=1)
    _paragraphs(document, report.basic_situation)
    document.add_paragraph(
        _("全镇共有行政村%(villages)d个，脱贫户%(households)d户%(members)d人。")
        % {"villages": counts["villages"], "households": counts["households"], "members": counts["members"]}
    )

    document.add_heading(_("二、发现的问题"), level=1)
    document.add_paragraph(_("本次“回头看”共发现问题%(total)d个，按六个维度分列如下：") % {"total": counts["total"]})
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, (_("维度"), _("问题数"), _("已销号"), _("未销号")), strict=True):
        cell.text = text
    for row in counts["dimensions"]:
        cells = table.add_row().cells
        cells[0].text = row["label"]
        cells[1].text = str(row["total"])
        cells[2].text = str(row["closed"])
        cells[3].text = str(row["in_progress"])
    total_cells = table.add_row().cells
    total_cells[0].text = _("合计")
    total_cells[1].text = str(counts["total"])
    total_cells[2].text = str(counts["closed"])
    total_cells[3].text = str(counts["open"])

    document.add_heading(_("三、整改情况"), level=1)
    document.add_paragraph(
        _(
            "已整改销号%(closed)d个，整改销号率%(rate)s%%；其中立行立改%(spot)d个。尚未销号%(open)d个，"
            "其中超过整改时限%(overdue)d个。"
        )
        % {
            "closed": counts["closed"],
            "rate": counts["closed_rate"],
            "spot": counts["on_the_spot"],
            "open": counts["open"],
            "overdue": counts["overdue"],
        }
    )
    states = "，".join(f"{label}{n}个" for label, n in counts["states"].items())
    document.add_paragraph(_("按整改状态：%(states)s。") % {"states": states})
    _paragraphs(document, report.rectification_summary)

    document.add_heading(_("四、下一步工作"), level=1)
    _paragraphs(document, report.next_steps)

    document.add_paragraph(_("附件：%(township)s问题台帐（xlsx）") % {"township": report.township.name})
    output = io.BytesIO()
    document.save(output)
    return output.getvalue()


def report_problems(report: TownshipReport) -> Any:
    return exports.ledger_queryset(
        Problem.objects.filter(campaign=report.campaign, division_code__startswith=report.township.prefix)
    ).order_by("division_code", "found_on", "id")


@in_site_language
def build_xlsx(report: TownshipReport) -> bytes:
    title = _("%(township)s稳定脱贫“回头看”问题台帐") % {"township": report.township.full_name()}
    return exports.write_ledger(report_problems(report), title=title)
