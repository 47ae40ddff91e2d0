"""Builders for import tests: spreadsheet files written the way exports and people write them.

(No tests here; the module is named so that it sits with the import tests it serves.)
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
from pathlib import Path
from typing import Any

import xlsxwriter
from stdnum.cn import ric

from lookback.registry.importers.base import Options
from lookback.registry.models import ImportBatch
from lookback.registry.services_import import import_file

_seq = itertools.count(1)

HOUSEHOLD_HEADERS = [
    "县",
    "乡镇",
    "行政村",
    "户编号",
    "户主姓名",
    "户主证件号码",
    "家庭人口数",
    "贫困户属性",
    "脱贫状态",
    "脱贫年度",
    "主要致贫原因",
    "人均纯收入（元）",
]
MEMBER_HEADERS = [
    "户编号",
    "人编号",
    "姓名",
    "性别",
    "证件号码",
    "与户主关系",
    "健康状况",
    "劳动技能",
    "是否参加城乡居民基本医疗保险",
    "是否参加大病保险",
    "是否享受低保",
]


def valid_id(region: str = "350125", born: dt.date = dt.date(1985, 3, 9), seq: int | None = None) -> str:
    """An 18-character ID number with a correct check digit."""
    n = next(_seq) if seq is None else seq
    body = f"{region}{born:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def household_row(number: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "县": "永泰县",
        "乡镇": "嵩口镇",
        "行政村": "邹湖村",
        "户编号": number,
        "户主姓名": "王建华",
        "户主证件号码": valid_id(),
        "家庭人口数": "2",
        "贫困户属性": "一般脱贫户",
        "脱贫状态": "已脱贫（享受政策）",
        "脱贫年度": "2017",
        "主要致贫原因": "因病",
        "人均纯收入（元）": "6500",
    }
    row.update(overrides)
    return row


def member_row(household_no: str, member_no: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "户编号": household_no,
        "人编号": member_no,
        "姓名": "王建华",
        "性别": "男",
        "证件号码": valid_id(),
        "与户主关系": "户主",
        "健康状况": "健康",
        "劳动技能": "普通劳动力",
        "是否参加城乡居民基本医疗保险": "是",
        "是否参加大病保险": "是",
        "是否享受低保": "否",
    }
    row.update(overrides)
    return row


def table(rows: list[dict[str, Any]], headers: list[str] | None = None) -> list[list[Any]]:
    """Dict rows → header row + value rows (in `headers` order, default: the first row's keys)."""
    headers = headers or list(rows[0])
    return [headers, *[[row.get(h, "") for h in headers] for row in rows]]


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """Cells are written with their Python type: str as text, int/float as numbers, dates as dates."""
    workbook = xlsxwriter.Workbook(str(path))
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                elif isinstance(value, int | float) and math.isfinite(value) and abs(value) < 1e300:
                    sheet.write_number(r, c, value)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(r, c, value, date_format)
                else:
                    sheet.write_string(r, c, str(value))
    workbook.close()
    return path


def run(path: Path, user: Any = None, **options: Any) -> ImportBatch:
    return import_file(path=path, user=user, options=Options(**options))


def errors_of(batch: ImportBatch) -> list[tuple[int | None, str, str]]:
    """(row, column, reason) of each error."""
    return [(e["row"], e["column"], e["reason"]) for e in batch.errors]


def warnings_of(batch: ImportBatch) -> list[tuple[int | None, str, str]]:
    return [(w["row"], w["column"], w["reason"]) for w in batch.warnings]
