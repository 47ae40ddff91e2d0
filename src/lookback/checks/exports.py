"""Findings as jsonl, csv or xlsx, with the fields `spec/import-format.md` lists for a findings line.

Rows stream from the database (`iterator`), so an export of hundreds of thousands of findings keeps a
flat memory profile; xlsx uses xlsxwriter's constant-memory mode.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

import xlsxwriter
from django.db.models import QuerySet

from lookback.checks.catalogue import get_rule
from lookback.checks.models import Finding
from lookback.core.masking import mask_id_number

FORMATS = ("jsonl", "csv", "xlsx")
FIELDS = (
    "rule",
    "topic",
    "dimension",
    "household_no",
    "member_no",
    "id_number",
    "division_code",
    "detail",
    "clause",
    "title",
    "severity",
    "status",
    "opened_on",
    "fixed_on",
)
HEADERS = {
    "rule": "规则",
    "topic": "问题类别",
    "dimension": "维度",
    "household_no": "户编号",
    "member_no": "人编号",
    "id_number": "证件号码",
    "division_code": "行政区划代码",
    "detail": "问题描述",
    "clause": "条款",
    "title": "规则名称",
    "severity": "严重程度",
    "status": "状态",
    "opened_on": "发现日期",
    "fixed_on": "整改日期",
}
CONTENT_TYPES = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def rows(findings: QuerySet[Finding], *, show_pii: bool = True) -> Iterator[dict[str, Any]]:
    values = findings.order_by("rule_code", "division_code", "id").values_list(
        "rule_code",
        "topic",
        "dimension",
        "household_no",
        "member__member_no",
        "member__id_number",
        "division_code",
        "detail",
        "status",
        "opened_on",
        "fixed_on",
    )
    for (
        code,
        topic,
        dimension,
        household_no,
        member_no,
        id_number,
        division,
        detail,
        status,
        opened,
        fixed,
    ) in values.iterator(chunk_size=5000):
        rule = get_rule(code)
        yield {
            "rule": code,
            "topic": topic,
            "dimension": dimension,
            "household_no": household_no or None,
            "member_no": member_no,
            "id_number": (id_number if show_pii else mask_id_number(id_number)) if id_number else None,
            "division_code": division,
            "detail": detail,
            "clause": rule.clause if rule else "",
            "title": str(rule.title) if rule else "",
            "severity": rule.severity if rule else "",
            "status": status,
            "opened_on": opened.isoformat() if opened else None,
            "fixed_on": fixed.isoformat() if fixed else None,
        }


def iter_jsonl(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    for item in items:
        yield json.dumps(item, ensure_ascii=False) + "\n"


def iter_csv(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # A BOM so that Excel opens the Chinese text as UTF-8.
    writer.writerow([HEADERS[f] for f in FIELDS])
    yield "\ufeff" + buffer.getvalue()
    for item in items:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["" if item[f] is None else item[f] for f in FIELDS])
        yield buffer.getvalue()


def write_xlsx(items: Iterable[dict[str, Any]], target: str | IO[bytes]) -> int:
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True, "in_memory": False})
    sheet = workbook.add_worksheet("问题线索")
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7"})
    widths = {"detail": 60, "title": 30, "household_no": 22, "id_number": 20, "division_code": 14}
    for col, name in enumerate(FIELDS):
        sheet.set_column(col, col, widths.get(name, 10))
        sheet.write(0, col, HEADERS[name], bold)
    count = 0
    for count, item in enumerate(items, start=1):
        for col, name in enumerate(FIELDS):
            value = item[name]
            if value is None:
                continue
            if isinstance(value, int):
                sheet.write_number(count, col, value)
            else:
                sheet.write_string(count, col, str(value))
    sheet.freeze_panes(1, 0)
    workbook.close()
    return count
