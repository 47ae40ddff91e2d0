"""Writing cells to an .xlsx (xlsxwriter) without spreadsheet formula injection.

A cell whose text starts with = + - @ (or a tab / carriage return) would be run as a formula by a
spreadsheet program. Every text cell is written with `write_string` (never interpreted) and those cells
also get Excel's "quote prefix" style, so that editing the cell in Excel or LibreOffice keeps it text.
Shared by every app that exports a workbook (the ledger, the registry's 一户一档核查表), which is why it
lives in `core` and not in the ledger that wrote it first.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def needs_quote(text: str) -> bool:
    return text.startswith(DANGEROUS_PREFIXES)


def write_cell(sheet: Any, row: int, col: int, value: Any, *, cell: Any, quoted: Any, date_format: Any = None) -> None:
    """Write one value with its type: text never as a formula, dates as dates, booleans as 是/否."""
    if value is None or value == "":
        sheet.write_blank(row, col, None, cell)
    elif isinstance(value, bool):
        sheet.write_string(row, col, _("是") if value else _("否"), cell)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, cell)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, timezone.localtime(value).replace(tzinfo=None), date_format or cell)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), date_format or cell)
    else:
        text = str(value)
        sheet.write_string(row, col, text, quoted if needs_quote(text) else cell)
