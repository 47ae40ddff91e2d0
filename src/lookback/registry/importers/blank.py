"""Blank `.xlsx` templates, one per sheet kind, that people fill by hand.

The code lists are drop-downs (data validation against a hidden `代码表` sheet, since Excel limits an
inline list to 255 characters), yes/no columns offer 是/否, date columns accept dates only, and the
columns that hold long numbers (ID numbers, 户编号, phones) are formatted as text so that the
spreadsheet cannot turn them into `3.50125E+17`. A template imports as it is (title row, header row).
"""

from __future__ import annotations

import io

import xlsxwriter
from django.utils.translation import gettext
from xlsxwriter.utility import xl_col_to_name

from lookback.registry.importers import cells, deptlists
from lookback.registry.importers.engine import DEPT_KINDS, SHEET_SPECS
from lookback.registry.importers.headers import Column, KindSpec

ROWS = 5000  # rows that get the drop-downs and formats
_TEXT_PARSERS = (cells.id_number,)
MULTI = {"其他致贫原因", "健康状况"}


def template_kinds() -> list[tuple[str, str]]:
    """(code, label) of every template: the five registry sheets and each department list."""
    return [(s.code, s.label) for s in SHEET_SPECS] + list(DEPT_KINDS.items())


def _spec(code: str) -> KindSpec:
    for spec in SHEET_SPECS:
        if spec.code == code:
            return spec
    if code in DEPT_KINDS:
        return deptlists.spec_for(code)
    raise KeyError(code)


_TEXT_HEADERS = {"户编号", "人编号", "联系电话", "行政区划代码", "项目编号"}


def _is_text(column: Column) -> bool:
    return column.parser in _TEXT_PARSERS or column.header in _TEXT_HEADERS


def _is_date(column: Column) -> bool:
    return column.parser in (cells.date,)


def write_template(code: str) -> bytes:
    """The template of a sheet kind (`households` …) or a department list (`dibao` …) as bytes."""
    spec = _spec(code)
    columns = [c for c in spec.columns if c.header != "名单类型"]
    dept_label = DEPT_KINDS.get(code)
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    title = workbook.add_format({"bold": True, "font_size": 14})
    required = workbook.add_format({"bold": True, "font_color": "#C00000", "bg_color": "#FCE4D6", "border": 1})
    optional = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    text = workbook.add_format({"num_format": "@"})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})

    sheet = workbook.add_worksheet(spec.label[:31])
    lists = workbook.add_worksheet("代码表")
    heading = gettext("%(label)s（导入模板：红色列必填；第 2 行是表头，请从第 3 行起填写）") % {"label": spec.label}
    sheet.write_string(0, 0, heading, title)
    list_col = 0
    for index, column in enumerate(columns):
        sheet.write_string(1, index, column.header, required if column.required else optional)
        sheet.set_column(index, index, max(10, len(column.header) * 2 + 2), text if _is_text(column) else None)
        note = _note(column)
        if note:
            sheet.write_comment(1, index, note, {"x_scale": 2, "y_scale": 1.5})
        if _is_date(column):
            sheet.set_column(index, index, 12, date)
            sheet.data_validation(
                2, index, ROWS + 1, index,
                {"validate": "date", "criteria": "between", "minimum": _d("1900-01-01"), "maximum": _d("2100-12-31"),
                 "error_title": gettext("日期"), "error_message": gettext("请填写日期，如 2018-12-05")},
            )  # fmt: skip
        elif column.choices:
            lists.write_string(0, list_col, column.header)
            for row, choice in enumerate(column.choices, start=1):
                lists.write_string(row, list_col, choice)
            letter = xl_col_to_name(list_col)
            multi = column.header in MULTI
            sheet.data_validation(
                2, index, ROWS + 1, index,
                {"validate": "list", "source": f"='代码表'!${letter}$2:${letter}${len(column.choices) + 1}",
                 "error_type": "warning" if multi else "stop",
                 "error_title": column.header,
                 "error_message": gettext("可填多个，用逗号分隔") if multi else gettext("请从下拉列表中选择")},
            )  # fmt: skip
            list_col += 1
    if dept_label:
        index = len(columns)
        sheet.write_string(1, index, "名单类型", required)
        sheet.set_column(index, index, 22)
        note = gettext("必填列：填“%(kind)s”（导入时选择了名单类型则可不填）") % {"kind": dept_label}
        sheet.write_comment(1, index, note)
        sheet.data_validation(
            2, index, ROWS + 1, index, {"validate": "list", "source": [dept_label], "error_message": "名单类型"}
        )
    sheet.freeze_panes(2, 0)
    lists.hide()
    workbook.close()
    return buffer.getvalue()


def _d(text: str):  # noqa: ANN202 - a date for xlsxwriter
    import datetime as dt

    return dt.date.fromisoformat(text)


def _note(column: Column) -> str:
    parts = []
    if column.required:
        parts.append(gettext("必填列"))
    aliases = [a for a in column.aliases if "(" not in a and "（" not in a]
    if aliases:
        parts.append(gettext("也可写作：") + "、".join(aliases))
    if column.choices and len(column.choices) <= 30:
        parts.append(gettext("可填：") + "、".join(column.choices))
    if column.note:
        parts.append(column.note)
    return "\n".join(parts)
