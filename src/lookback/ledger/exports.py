"""The ledger as an .xlsx in the common layout (序号 … 问责情况), written with xlsxwriter.

Spreadsheet formula injection is handled by `core.xlsx.write_cell` (text never as a formula, with the
quote-prefix style where it starts like one).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _

from lookback.core.i18n import in_site_language
from lookback.core.xlsx import write_cell
from lookback.ledger.models import Problem


def columns() -> list[tuple[str, int]]:
    """(header, width) of the common ledger layout, in order."""
    return [
        (_("序号"), 6),
        (_("乡镇"), 12),
        (_("村"), 14),
        (_("户编号"), 20),
        (_("户主"), 8),
        (_("维度"), 8),
        (_("问题类别"), 16),
        (_("问题描述"), 40),
        (_("发现层级"), 9),
        (_("发现日期"), 11),
        (_("整改措施"), 36),
        (_("责任单位"), 16),
        (_("责任人"), 9),
        (_("整改时限"), 11),
        (_("整改状态"), 9),
        (_("销号日期"), 11),
        (_("佐证材料"), 24),
        (_("问责情况"), 20),
    ]


def place_names(problem: Problem) -> tuple[str, str]:
    """(township, village) names of a problem's place."""
    division = problem.division
    if division.level == "village":
        return (division.parent.name if division.parent_id else "", division.name)
    if division.level == "township":
        return (division.name, "")
    return ("", "")


def row_values(number: int, problem: Problem) -> list[Any]:
    township, village = place_names(problem)
    household = problem.household
    evidence = [e.original_name for e in problem.evidence.all()]
    accountability = [
        f"{a.get_kind_display()}（{a.person_name}，{a.decided_on:%Y-%m-%d}）" for a in problem.accountabilities.all()
    ]
    state = problem.get_state_display()
    return [
        number,
        township,
        village,
        household.household_no if household else "",
        household.head_name if household else "",
        problem.get_dimension_display(),
        problem.category,
        problem.description,
        problem.get_found_level_display(),
        problem.found_on,
        problem.measures,
        problem.responsible_unit,
        problem.responsible_person,
        problem.deadline,
        state + (_("（立行立改）") if problem.on_the_spot else ""),
        timezone.localdate(problem.closed_at) if problem.closed_at else None,
        "；".join(evidence) if evidence else "",
        "；".join(accountability),
    ]


def ledger_queryset(qs: Any) -> Any:
    return qs.select_related("division", "division__parent", "household").prefetch_related(
        "evidence", "accountabilities"
    )


@in_site_language
def write_ledger(problems: Iterable[Problem], *, title: str, exported_by: str = "") -> bytes:
    """The workbook: a title row, the header row, one row per problem; A4 landscape, header repeated."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(
        output,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    sheet = book.add_worksheet(_("问题台帐"))
    title_format = book.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
    header_format = book.add_format(
        {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True, "bg_color": "#DDEBF7"}
    )
    cell = book.add_format({"border": 1, "valign": "top", "text_wrap": True})
    quoted = book.add_format({"border": 1, "valign": "top", "text_wrap": True, "quote_prefix": True})
    date_format = book.add_format({"border": 1, "valign": "top", "num_format": "yyyy-mm-dd"})
    cols = columns()
    sheet.merge_range(0, 0, 0, len(cols) - 1, title, title_format)
    sheet.set_row(0, 28)
    for index, (header, width) in enumerate(cols):
        sheet.write_string(1, index, header, header_format)
        sheet.set_column(index, index, width)
    row = 2
    for number, problem in enumerate(problems, start=1):
        for col, value in enumerate(row_values(number, problem)):
            write_cell(sheet, row, col, value, cell=cell, quoted=quoted, date_format=date_format)
        row += 1
    if exported_by:
        note = _("导出：%(who)s，%(when)s") % {
            "who": exported_by,
            "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        }
        write_cell(sheet, row + 1, 0, note, cell=book.add_format(), quoted=book.add_format({"quote_prefix": True}))
    sheet.freeze_panes(2, 0)
    sheet.autofilter(1, 0, max(row - 1, 1), len(cols) - 1)
    sheet.repeat_rows(0, 1)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    book.close()
    return output.getvalue()
