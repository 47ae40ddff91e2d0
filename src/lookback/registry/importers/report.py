"""The error report of a rejected file: an `.xlsx` with the list of errors, the warnings, and a copy
of each faulty sheet where the bad cells are filled red and a last column says what is wrong."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import xlsxwriter
from django.utils.translation import gettext_lazy as _

from lookback.registry.importers.base import Issue
from lookback.registry.importers.headers import SheetPlan, fold_header
from lookback.registry.importers.readers import UnreadableFile, open_sheets

REASON_HEADER = _("错误原因")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(name: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'") or "Sheet"
    base = base[:28]
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{base[:26]}_{n}"
    used.add(candidate.lower())
    return candidate


def write_report(
    target: Path,
    source: Path,
    *,
    errors: list[Issue],
    warnings: list[Issue],
    error_count: int,
    warning_count: int,
    plans: list[SheetPlan],
) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True, "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    bad = workbook.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    reason_format = workbook.add_format({"font_color": "#9C0006", "text_wrap": False})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    used: set[str] = set()

    summary = workbook.add_worksheet(_sheet_name(str(_("错误清单")), used))
    _issue_sheet(summary, errors, error_count, bold, str(_("错误")))
    listing = workbook.add_worksheet(_sheet_name(str(_("警告")), used))
    _issue_sheet(listing, warnings, warning_count, bold, str(_("警告")))

    by_sheet: dict[str, dict[int, list[Issue]]] = defaultdict(lambda: defaultdict(list))
    for issue in errors:
        if issue.row:
            by_sheet[issue.sheet][issue.row].append(issue)
    plans_by_sheet = {p.sheet: p for p in plans}
    try:
        sources = open_sheets(source) if by_sheet else []
    except UnreadableFile:
        sources = []
    for sheet_source in sources:
        issues = by_sheet.get(sheet_source.name)
        if not issues:
            continue
        plan = plans_by_sheet.get(sheet_source.name)
        columns = _column_indexes(plan)
        copy = workbook.add_worksheet(_sheet_name(sheet_source.name, used))
        copy.freeze_panes(plan.header_row if plan else 0, 0)
        width = max((len(h) for h in (plan.headers if plan else [])), default=0)
        pending: list[tuple[int, list[Any]]] = []
        try:
            for number, raw in enumerate(sheet_source.rows(), start=1):
                width = max(width, len(raw))
                pending.append((number, raw))
                if len(pending) >= 1000:
                    _write_rows(
                        copy,
                        pending,
                        width,
                        issues,
                        columns,
                        plan,
                        bad,
                        bold,
                        reason_format,
                        date_format,
                        datetime_format,
                    )
                    pending = []
        except UnreadableFile:
            pass
        _write_rows(copy, pending, width, issues, columns, plan, bad, bold, reason_format, date_format, datetime_format)
    workbook.close()
    return target


def _issue_sheet(sheet: Any, issues: list[Issue], total: int, bold: Any, what: str) -> None:
    headers = [str(_(h)) for h in ("工作表", "行号", "列", "内容", "原因")]
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, bold)
    sheet.set_column(0, 0, 16)
    sheet.set_column(2, 3, 22)
    sheet.set_column(4, 4, 60)
    for row, issue in enumerate(issues, start=1):
        sheet.write_string(row, 0, issue.sheet)
        if issue.row:
            sheet.write_number(row, 1, issue.row)
        sheet.write_string(row, 2, issue.column)
        sheet.write_string(row, 3, issue.value)
        sheet.write_string(row, 4, issue.reason)
    if total > len(issues):
        sheet.write_string(
            len(issues) + 1,
            0,
            str(_("共 %(total)s 条%(what)s，此处列出前 %(n)s 条。")) % {"total": total, "what": what, "n": len(issues)},
        )
    if not issues:
        sheet.write_string(1, 0, str(_("没有%(what)s。")) % {"what": what})


def _column_indexes(plan: SheetPlan | None) -> dict[str, int]:
    """Spec header (as issues name columns) → column index in the sheet."""
    if plan is None:
        return {}
    indexes: dict[str, int] = {}
    for index, column in plan.mapping:
        indexes[column.header] = index
    for index, header in plan.extras:
        indexes.setdefault(header, index)
    for index, header in enumerate(plan.headers):
        indexes.setdefault(fold_header(header), index)
    return indexes


def _write_rows(
    sheet: Any,
    rows: list[tuple[int, list[Any]]],
    width: int,
    issues: dict[int, list[Issue]],
    columns: dict[str, int],
    plan: SheetPlan | None,
    bad: Any,
    bold: Any,
    reason_format: Any,
    date_format: Any,
    datetime_format: Any,
) -> None:
    for number, raw in rows:
        index = number - 1
        row_issues = issues.get(number, [])
        bad_columns = {columns.get(i.column, columns.get(fold_header(i.column), -1)) for i in row_issues}
        header_row = plan is not None and number == plan.header_row
        for col, value in enumerate(raw):
            fmt = bad if col in bad_columns else (bold if header_row else None)
            _write_cell(sheet, index, col, value, fmt, date_format, datetime_format)
        for col in bad_columns:
            if col >= len(raw) and col >= 0:
                sheet.write_blank(index, col, None, bad)
        if header_row:
            sheet.write_string(index, width, str(REASON_HEADER), bold)
        elif row_issues:
            text = "；".join(f"{i.column}：{i.reason}" if i.column else i.reason for i in row_issues)
            sheet.write_string(index, width, text, reason_format)


def _write_cell(sheet: Any, row: int, col: int, value: Any, fmt: Any, date_format: Any, datetime_format: Any) -> None:
    if value is None or value == "":
        if fmt is not None:
            sheet.write_blank(row, col, None, fmt)
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float) and math.isfinite(value) and abs(value) < 1e300:
        sheet.write_number(row, col, value, fmt)
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(row, col, value, fmt or datetime_format)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime(value.year, value.month, value.day), fmt or date_format)
    else:
        sheet.write_string(row, col, str(value)[:32767], fmt)
