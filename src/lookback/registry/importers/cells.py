"""Cell parsers: one small function per column type, turning what a spreadsheet or CSV holds into the
value we store, or raising `CellError` with a Chinese reason.

Readers hand over `str`, `int`, `float`, `bool`, `date`/`datetime` or None. Every parser treats None and
blank text as "empty" and returns None for it; whether an empty cell is acceptable is the sheet's
business, not the parser's.

Parsers are plain callables so a column can memoise them (`memoised`): code lists and yes/no columns
repeat a handful of values a million times.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from stdnum.cn import ric

from lookback.core import codes
from lookback.core.yesno import NotYesNo, parse_yes_no

Parser = Callable[[Any], Any]


class CellError(ValueError):
    """A cell that cannot be stored faithfully; `reason` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Spreadsheet programs keep 15 significant digits: any number at or above this has lost some.
_EXACT_LIMIT = 10**15
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_EXCEL_TEXT = re.compile(r'^="(.*)"$')  # ="350125..." is how some exports keep a number as text


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def display(value: Any) -> str:
    """How a raw cell is shown in an error report."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _EXACT_LIMIT:
            return str(int(value))
        return repr(value) if abs(value) < 1e15 else f"{value:.6G}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def shown(value: Any) -> str:
    """`display` without NUL characters: for text that is stored as it is shown (unknown columns, headers,
    previews, the values of an error report), since PostgreSQL stores no NUL in text or jsonb."""
    result = display(value)
    return result.replace("\x00", "") if "\x00" in result else result


def _clean_text(value: Any) -> str:
    text = str(value).strip()
    match = _EXCEL_TEXT.match(text)
    if match:
        text = match.group(1).strip()
    # A leading apostrophe or tab is what people type to keep digits as text.
    return text.lstrip("'\t").strip()


_FUSSY_START = ("=", "'", "\t")


def _nul_error() -> CellError:
    # PostgreSQL cannot store NUL in text; refused on every database alike, naming the cell.
    return CellError(gettext("含有空字符（NUL，常见于其他系统导出的文件），无法保存；请删除该字符后重新导入"))


def text(max_length: int) -> Parser:
    def parse(value: Any) -> str | None:
        if type(value) is str:  # the common case, first and short
            result = value.strip()
            if result.startswith(_FUSSY_START):
                result = _clean_text(result)
            if not result:
                return None
            if len(result) > max_length:
                raise CellError(
                    gettext("内容过长（%(n)s 个字符，最多 %(max)s 个）") % {"n": len(result), "max": max_length}
                )
            if "\x00" in result:
                raise _nul_error()
            return result
        if is_empty(value):
            return None
        if isinstance(value, bool):
            result = "是" if value else "否"
        elif isinstance(value, float):
            result = str(int(value)) if value.is_integer() else repr(value)
        elif isinstance(value, dt.datetime):
            result = (
                value.strftime("%Y-%m-%d %H:%M:%S")
                if (value.hour, value.minute, value.second) != (0, 0, 0)
                else value.date().isoformat()
            )
        elif isinstance(value, dt.date):
            result = value.isoformat()
        else:
            result = _clean_text(value)
        if not result:
            return None
        if len(result) > max_length:
            raise CellError(
                gettext("内容过长（%(n)s 个字符，最多 %(max)s 个）") % {"n": len(result), "max": max_length}
            )
        if "\x00" in result:
            raise _nul_error()
        return result

    return parse


def key_text(max_length: int) -> Parser:
    """A number kept as text (户编号, 人编号, 项目编号): refuse what a spreadsheet turned into a float."""
    plain = text(max_length)

    def parse(value: Any) -> str | None:
        if isinstance(value, float):
            if not value.is_integer() or abs(value) >= _EXACT_LIMIT:
                raise CellError(gettext("该单元格被表格软件存成了数字，已丢失位数；请把这一列设为文本格式后重新导出"))
            return plain(int(value))
        if isinstance(value, str) and ("e" in value or "E" in value) and _SCIENTIFIC.match(value.strip()):
            raise CellError(gettext("该单元格是科学计数法数字，已丢失位数；请把这一列设为文本格式后重新导出"))
        return plain(value)

    return parse


def id_number(value: Any) -> str | None:
    """证件号码: text, upper-case X. A number that lost digits is an error; format problems are warnings."""
    if type(value) is str and len(value) == 18 and value[:17].isdigit() and value.isascii():
        return value.upper()  # the common case: a well-formed 18-character number
    if isinstance(value, float | int) and not isinstance(value, bool):
        if isinstance(value, float) and (not value.is_integer() or abs(value) >= _EXACT_LIMIT):
            raise CellError(gettext("证件号码被表格软件存成了数字（如 3.50125E+17），已丢失位数；请按文本格式重新导出"))
        if abs(value) >= _EXACT_LIMIT:
            raise CellError(gettext("证件号码被表格软件存成了数字，已丢失位数；请按文本格式重新导出"))
        value = str(int(value))
    if is_empty(value):
        return None
    result = unicodedata.normalize("NFKC", _clean_text(value)).replace(" ", "").upper()
    if _SCIENTIFIC.match(result):
        raise CellError(gettext("证件号码是科学计数法数字（如 3.50125E+17），已丢失位数；请按文本格式重新导出"))
    if not result:
        return None
    if len(result) > 30:
        raise CellError(gettext("证件号码过长（%(n)s 位）") % {"n": len(result)})
    if "\x00" in result:
        raise _nul_error()
    return result


_ID18 = re.compile(r"^\d{17}[\dX]$")


def id_number_warning(number: str | None) -> str | None:
    """What is odd about a stored ID number (never a reason to refuse it; the rules judge it)."""
    if not number:
        return None
    if len(number) == 18 and number[:17].isdigit() and number.isascii() and (number[17].isdigit() or number[17] == "X"):
        return None if ric.calc_check_digit(number) == number[-1] else gettext("证件号码校验位不正确")
    if len(number) == 15 and number.isdigit():
        return gettext("15位旧身份证号码")
    if not _ID18.match(number):
        return gettext("证件号码不是18位（%(n)s 位）或含非法字符") % {"n": len(number)}
    if ric.calc_check_digit(number) != number[-1]:
        return gettext("证件号码校验位不正确")
    return None


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _number_text(value: Any) -> str:
    text_value = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace(" ", "")
    if not _NUMBER.match(text_value):
        raise CellError(gettext("不是数字"))
    return text_value


def integer(minimum: int = 0, maximum: int = 32767) -> Parser:
    def parse(value: Any) -> int | None:
        if is_empty(value):
            return None
        if isinstance(value, bool):
            raise CellError(gettext("不是整数"))
        if isinstance(value, float):
            if not value.is_integer():
                raise CellError(gettext("不是整数"))
            result = int(value)
        elif isinstance(value, int):
            result = value
        else:
            number = _number_text(value)
            try:
                as_decimal = Decimal(number)
            except InvalidOperation as exc:
                raise CellError(gettext("不是整数")) from exc
            if as_decimal != as_decimal.to_integral_value():
                raise CellError(gettext("不是整数"))
            result = int(as_decimal)
        if not minimum <= result <= maximum:
            raise CellError(gettext("数值应在 %(min)s 到 %(max)s 之间") % {"min": minimum, "max": maximum})
        return result

    return parse


def year(value: Any) -> int | None:
    if isinstance(value, str):
        value = value.strip().removesuffix("年")
    return _year(value)


_year = integer(1900, 2100)


def decimal(max_digits: int = 12, places: int = 2, minimum: Decimal | None = None) -> Parser:
    quantum = Decimal(1).scaleb(-places)
    limit = Decimal(10) ** (max_digits - places)

    def parse(value: Any) -> Decimal | None:
        if is_empty(value):
            return None
        if isinstance(value, bool):
            raise CellError(gettext("不是数字"))
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise CellError(gettext("不是数字"))
            result = Decimal(repr(value))
        elif isinstance(value, int):
            result = Decimal(value)
        else:
            try:
                result = Decimal(value)  # plain "6500" or "6500.5", read in C
            except (InvalidOperation, TypeError):
                try:
                    result = Decimal(_number_text(value))  # "6,500", full-width digits
                except InvalidOperation as exc:
                    raise CellError(gettext("不是数字")) from exc
        if not result.is_finite() or abs(result) >= limit:
            raise CellError(gettext("数值过大") if result.is_finite() else gettext("不是数字"))
        result = result.quantize(quantum, rounding=ROUND_HALF_UP)
        if abs(result) >= limit:
            raise CellError(gettext("数值过大"))
        if minimum is not None and result < minimum:
            raise CellError(gettext("数值不能小于 %(min)s") % {"min": minimum})
        return result

    return parse


# Spreadsheet serials: day 1 is 1900-01-01 in Excel's (Lotus-compatible) count, so the epoch is 1899-12-30.
_SERIAL_EPOCH = dt.datetime(1899, 12, 30)
_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2})[:：](\d{1,2})(?:[:：](\d{1,2})(?:\.\d+)?)?)?$"
)
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\s*(\d{2})[:：]?(\d{2})(?:[:：]?(\d{2}))?)?$")


def _from_number(number: float) -> dt.datetime:
    if number.is_integer() and 19000101 <= number <= 21001231:
        digits = str(int(number))
        return dt.datetime(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    if 1 <= number < 73051:  # serials up to the year 2100
        return _SERIAL_EPOCH + dt.timedelta(days=number)
    raise ValueError


def _to_datetime(value: Any) -> dt.datetime | None:
    if is_empty(value):
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, bool):
        raise CellError(gettext("不是日期"))
    try:
        if isinstance(value, int | float):
            return _from_number(float(value))
        raw = unicodedata.normalize("NFKC", str(value)).strip()
        match = _DATE_TEXT.match(raw) or _DATE_COMPACT.match(raw)
        if match:
            parts = [int(p) if p else 0 for p in match.groups()]
            return dt.datetime(*parts)
        if _NUMBER.match(raw):
            return _from_number(float(raw))
    except (ValueError, OverflowError) as exc:
        raise CellError(gettext("不是有效日期")) from exc
    raise CellError(gettext("不是日期（可写作 2018-12-05、2018/12/5 或 20181205）"))


def date(value: Any) -> dt.date | None:
    result = _to_datetime(value)
    if result is None:
        return None
    if not 1900 <= result.year <= 2100:
        raise CellError(gettext("日期不在 1900—2100 年之间"))
    return result.date()


def datetime(value: Any) -> dt.datetime | None:
    result = _to_datetime(value)
    if result is None:
        return None
    if not 1900 <= result.year <= 2100:
        raise CellError(gettext("日期不在 1900—2100 年之间"))
    # Serials carry float noise; whole seconds are what people typed.
    result = (
        result.replace(microsecond=0)
        if result.microsecond < 500000
        else (result.replace(microsecond=0) + dt.timedelta(seconds=1))
    )
    return timezone.make_aware(result) if timezone.is_naive(result) else result


def yes_no(value: Any) -> bool | None:
    if isinstance(value, str):
        value = unicodedata.normalize("NFKC", value).strip()
    try:
        return parse_yes_no(value)
    except NotYesNo as exc:
        raise CellError(gettext("应填 是/否（也可写 Y/N、1/0、√/×、有/无）")) from exc


def code(code_list: codes.CodeList) -> Parser:
    def parse(value: Any) -> str | None:
        if is_empty(value):
            return None
        label = code_list.normalise(value)
        if label is None:
            raise CellError(
                gettext("不在“%(list)s”代码表中（可填：%(labels)s）")
                % {"list": code_list.name, "labels": "、".join(code_list.labels)}
            )
        return label

    return parse


def multi_code(code_list: codes.CodeList, joiner: str | None = ",") -> Parser:
    """Several labels in one cell: joined into a string (`joiner`) or kept as a list (joiner None)."""

    def parse(value: Any) -> str | list[str] | None:
        if is_empty(value):
            return None
        labels = []
        for part in codes.split_multi(display(value)):
            label = code_list.normalise(part)
            if label is None:
                raise CellError(
                    gettext("“%(value)s”不在“%(list)s”代码表中（可填：%(labels)s）")
                    % {"value": part, "list": code_list.name, "labels": "、".join(code_list.labels)}
                )
            if label not in labels:
                labels.append(label)
        if joiner is None:
            return labels
        return joiner.join(labels)

    return parse


def decimal_coordinate(minimum: int, maximum: int) -> Parser:
    base = decimal(max_digits=10, places=6)

    def parse(value: Any) -> Decimal | None:
        result = base(value)
        if result is not None and not minimum <= result <= maximum:
            raise CellError(gettext("应在 %(min)s 到 %(max)s 之间") % {"min": minimum, "max": maximum})
        return result

    return parse


class _Memo(dict):
    """Results per raw text: a repeated cell costs one dict lookup in C (`memo[value]`).

    Only text is remembered: 1, 1.0 and True are equal dict keys but not the same cell, so numbers
    and booleans are parsed each time. Errors are not remembered either (they are rare)."""

    def __init__(self, parser: Parser) -> None:
        super().__init__()
        self.parser = parser

    def __missing__(self, value: Any) -> Any:
        result = self.parser(value)
        if type(value) is str and len(self) < 10000:
            self[value] = result
        return result


def memoised(parser: Parser) -> Parser:
    return _Memo(parser).__getitem__
