"""The 一户一档核查表: the spreadsheet in which a township records many households' archive checks at once.

This module is the file format only: writing the sheet (xlsxwriter) and reading it back (the importers'
readers, header recogniser and cell parsers, used as they are). Whether a row may be recorded, and the
recording, are `services.record_archive_sheet`'s business.

Layout: one sheet, the header row first, one row per household: 县、乡镇、行政村、户编号、户主姓名 (grey:
for finding the household, not read back except 户编号), 核查日期, one 是/否 column per item of the
campaign's `archive_items`, 核查人, 备注. A second sheet explains how to fill it in. The sheet comes
pre-filled with each household's latest check, so that a sheet uploaded unchanged records nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _

from lookback.core.xlsx import write_cell
from lookback.registry.importers import cells
from lookback.registry.importers.headers import HEADER_SCAN_ROWS, Column, KindSpec, recognise
from lookback.registry.importers.readers import UnreadableFile, open_sheets, read_head
from lookback.registry.models import ArchiveCheck, Household

CHECKER_NAME_MAX = ArchiveCheck._meta.get_field("checker_name").max_length
NOTE_MAX = ArchiveCheck._meta.get_field("note").max_length
YES, NO = "是", "否"
# The column headers are data, not UI text: the sheet is read back by them whatever language the user
# reads, so they stay Chinese (as the import templates' headers do).
PLACE_HEADERS = ("县", "乡镇", "行政村", "户编号", "户主姓名")
HOUSEHOLD_NO = "户编号"
CHECKED_ON = "核查日期"
CHECKER = "核查人"
NOTE = "备注"
ITEM_PREFIX = "item:"


class SheetUnusable(Exception):
    """The file as a whole cannot be read as a 一户一档核查表; `message` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SheetIssue:
    """One bad cell or row: the row number as the spreadsheet shows it, the column header, the value."""

    row: int
    column: str
    value: str
    reason: str


@dataclass
class SheetRow:
    """A data row as read: None for an empty date; `present`/`absent` the items marked 是/否."""

    number: int
    household_no: str
    checked_on: date | None = None
    present: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    checker_name: str = ""
    note: str = ""
    raw_date: str = ""

    @property
    def has_answers(self) -> bool:
        return bool(self.present or self.absent or self.checker_name or self.note)


@dataclass
class ReadSheet:
    sheet: str
    rows: list[SheetRow]
    issues: list[SheetIssue]


def sheet_kind(items: list[str]) -> KindSpec:
    """The sheet as the header recogniser sees it: 户编号, 核查日期 and every item column are required."""
    columns = [
        Column(HOUSEHOLD_NO, "household_no", cells.key_text(40), required=True, repeats=False),
        Column(CHECKED_ON, "checked_on", cells.date, required=True),
        *(Column(item, ITEM_PREFIX + item, cells.yes_no, required=True, choices=(YES, NO)) for item in items),
        Column(CHECKER, "checker_name", cells.text(CHECKER_NAME_MAX)),
        Column(NOTE, "note", cells.text(NOTE_MAX), repeats=False),
        *(Column(header, None, cells.text(200)) for header in PLACE_HEADERS if header != HOUSEHOLD_NO),
    ]
    return KindSpec(code="archive_checks", label=_("一户一档核查表"), columns=tuple(columns), order=0)


# --- writing -----------------------------------------------------------------------------------------


def write_archive_sheet(
    households: Iterable[Household], latest: dict[int, ArchiveCheck], items: list[str], *, exported_by: str
) -> bytes:
    """The workbook for `households` (with `village__parent__parent` loaded), pre-filled from `latest`."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(
        output,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    sheet = book.add_worksheet(str(_("一户一档核查表")))
    header = book.add_format(
        {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True, "bg_color": "#DDEBF7"}
    )
    header_grey = book.add_format(
        {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True, "bg_color": "#D9D9D9"}
    )
    grey = {"border": 1, "bg_color": "#F2F2F2", "font_color": "#595959"}
    grey_cell, grey_quoted = book.add_format(grey), book.add_format({**grey, "quote_prefix": True})
    cell = book.add_format({"border": 1})
    quoted = book.add_format({"border": 1, "quote_prefix": True})
    centred = book.add_format({"border": 1, "align": "center"})
    date_format = book.add_format({"border": 1, "num_format": "yyyy-mm-dd", "align": "center"})

    headers = [*PLACE_HEADERS, CHECKED_ON, *items, CHECKER, NOTE]
    first_item, date_col = len(PLACE_HEADERS) + 1, len(PLACE_HEADERS)
    checker_col, note_col = first_item + len(items), first_item + len(items) + 1
    widths = [10, 12, 14, 22, 10, 12, *(max(6, len(item) * 2 + 2) for item in items), 10, 30]
    for col, (text, width) in enumerate(zip(headers, widths, strict=True)):
        sheet.write_string(0, col, text, header_grey if col < len(PLACE_HEADERS) else header)
        sheet.set_column(col, col, width)
    sheet.set_row(0, 42)

    row = 0
    for row, household in enumerate(households, start=1):
        village = household.village
        township = village.parent if village else None
        county = township.parent if township else None
        place = [county.name if county else "", township.name if township else "", village.name if village else ""]
        for col, value in enumerate([*place, household.household_no, household.head_name]):
            write_cell(sheet, row, col, value, cell=grey_cell, quoted=grey_quoted)
        check = latest.get(household.pk)
        present = set(check.present_items or []) if check else set()
        checked_on = check.checked_on if check else None
        write_cell(sheet, row, date_col, checked_on, cell=cell, quoted=quoted, date_format=date_format)
        for offset, item in enumerate(items):
            value = (YES if item in present else NO) if check else None
            write_cell(sheet, row, first_item + offset, value, cell=centred, quoted=quoted)
        write_cell(sheet, row, checker_col, check.checker_name if check else None, cell=cell, quoted=quoted)
        write_cell(sheet, row, note_col, check.note if check else None, cell=cell, quoted=quoted)

    # Drop-downs and limits for the rows there are and some spare ones (a household added by hand).
    last = max(row, 1) + 200
    sheet.data_validation(
        1,
        first_item,
        last,
        first_item + len(items) - 1,
        {
            "validate": "list",
            "source": [YES, NO],
            "error_title": str(_("请选择 是 或 否")),
            "error_message": str(_("该材料在档案中找到填“是”，没有找到填“否”。")),
        },
    )
    sheet.data_validation(
        1,
        date_col,
        last,
        date_col,
        {
            "validate": "date",
            "criteria": "between",
            "minimum": datetime(2014, 1, 1),
            "maximum": datetime.combine(timezone.localdate(), datetime.min.time()),
            "error_title": str(_("核查日期")),
            "error_message": str(_("请填写 2014 年以后、不晚于今天的日期，如 2018-12-05。")),
        },
    )
    sheet.freeze_panes(1, len(PLACE_HEADERS))
    sheet.autofilter(0, 0, max(row, 1), len(headers) - 1)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    _write_instructions(book, items, exported_by)
    book.close()
    return output.getvalue()


def _write_instructions(book: Any, items: list[str], exported_by: str) -> None:
    sheet = book.add_worksheet(str(_("填表说明")))
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    quoted = book.add_format({"text_wrap": True, "valign": "top", "quote_prefix": True})
    bold = book.add_format({"bold": True, "font_size": 13})
    sheet.set_column(0, 0, 100)
    lines = [
        _("1. 每行一户。灰色列（县、乡镇、行政村、户编号、户主姓名）用于查找该户，请勿修改户编号。"),
        _(
            "2. 核查某户时填写核查日期，并在每项材料下选择“是”（档案中有）或“否”（档案中没有）；"
            "核查人不填时记为上传人。"
        ),
        _("3. 已有核查记录的户已按最近一次核查填好；不改动的行上传后不会重复登记。"),
        _("4. 没有填写核查日期的行视为未核查，上传时跳过。"),
        _("5. 上传时只要有一行有误，整个文件都不会保存；请按提示的行号和列名改正后重新上传。"),
        _("材料清单：%(items)s") % {"items": "、".join(items)},
        _("导出：%(who)s，%(when)s") % {"who": exported_by, "when": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
    ]
    sheet.write_string(0, 0, str(_("一户一档核查表 填表说明")), bold)
    for index, line in enumerate(lines, start=2):
        write_cell(sheet, index, 0, str(line), cell=wrap, quoted=quoted)


# --- reading -----------------------------------------------------------------------------------------


def read_archive_sheet(path: Path, items: list[str]) -> ReadSheet:
    """The rows of the first sheet of `path` whose header row holds 户编号, 核查日期 and every item.

    Cell errors (a date that is no date, a 是/否 cell that is neither, a repeated 户编号) come back as
    issues, all of them, so that the user can fix the file in one go; a file that is no such sheet at all
    raises `SheetUnusable`.
    """
    kind = sheet_kind(items)
    try:
        sources = open_sheets(path)
        chosen = None
        near = None
        all_empty = True
        for source in sources:
            plan = recognise(source.name, read_head(source, HEADER_SCAN_ROWS), [kind])
            all_empty = all_empty and plan.empty
            if plan.recognised:
                chosen = (source, plan)
                break
            if plan.kind is not None and near is None:
                near = plan
        if chosen is None:
            if near is not None:
                raise SheetUnusable(
                    _("工作表“%(sheet)s”缺少以下列：%(columns)s。材料清单可能已调整，请重新下载核查表后填写。")
                    % {"sheet": near.sheet, "columns": "、".join(near.missing)}
                )
            if all_empty:
                raise SheetUnusable(_("文件中没有内容。"))
            raise SheetUnusable(
                _(
                    "文件中没有一户一档核查表：找不到同时含有“户编号”“核查日期”和各项材料的表头行。请使用本页下载的核查表。"
                )
            )
        source, plan = chosen
        return _read_rows(source, plan)
    except UnreadableFile as exc:
        raise SheetUnusable(str(exc)) from exc


def _read_rows(source: Any, plan: Any) -> ReadSheet:
    issues: list[SheetIssue] = []
    rows: list[SheetRow] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(source.rows()):
        number = index + 1
        if number <= plan.header_row or all(cells.is_empty(v) for v in raw):
            continue
        values: dict[str, Any] = {}
        unanswered: list[str] = []
        row_issues: list[SheetIssue] = []
        for col, column in plan.mapping:
            if column.field is None:
                continue
            raw_value = raw[col] if col < len(raw) else None
            try:
                value = column.parser(raw_value)
            except cells.CellError as exc:
                row_issues.append(SheetIssue(number, column.header, cells.display(raw_value), exc.reason))
                continue
            if value is None and column.field.startswith(ITEM_PREFIX):
                unanswered.append(column.header)
            values[column.field] = value
            if column.field == "checked_on":
                values["raw_date"] = cells.display(raw_value)
        household_no = values.get("household_no") or ""
        row = SheetRow(
            number=number,
            household_no=household_no,
            checked_on=values.get("checked_on"),
            present=[f[len(ITEM_PREFIX) :] for f, v in values.items() if f.startswith(ITEM_PREFIX) and v is True],
            absent=[f[len(ITEM_PREFIX) :] for f, v in values.items() if f.startswith(ITEM_PREFIX) and v is False],
            checker_name=values.get("checker_name") or "",
            note=values.get("note") or "",
            raw_date=values.get("raw_date", ""),
        )
        has_date = row.checked_on is not None or any(i.column == CHECKED_ON for i in row_issues)
        if not household_no and not any(i.column == HOUSEHOLD_NO for i in row_issues):
            if has_date or row.has_answers:
                row_issues.append(SheetIssue(number, HOUSEHOLD_NO, "", _("请填写户编号")))
            else:
                continue  # a row with only place names or the head's name: nothing to record
        elif household_no in seen:
            repeated = _("与第 %(n)d 行的户编号重复") % {"n": seen[household_no]}
            row_issues.append(SheetIssue(number, HOUSEHOLD_NO, household_no, repeated))
        elif household_no:
            seen[household_no] = number
        if has_date:
            # An empty item cell is "not known", not "missing": a check says yes or no for every item.
            row_issues += [SheetIssue(number, header, "", _("请填写“是”或“否”")) for header in unanswered]
        elif row.has_answers:
            row_issues.append(SheetIssue(number, CHECKED_ON, "", _("填写了核查结果，但没有填写核查日期")))
        issues += row_issues
        rows.append(row)
    return ReadSheet(sheet=source.name, rows=rows, issues=issues)
