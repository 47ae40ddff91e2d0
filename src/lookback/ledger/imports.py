"""Bulk entry of problems from an .xlsx in the ledger's own column layout (the export's headers; the
columns that describe later work — 整改状态, 销号日期, 佐证材料, 问责情况 — are ignored on the way in).

All or nothing: every row is checked first; one bad cell and nothing is stored, and the message names
the row and the column. Read with python-calamine.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import python_calamine
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lookback.campaigns.models import Campaign
from lookback.divisions.models import Division
from lookback.ledger import permissions as perms
from lookback.ledger import services
from lookback.ledger.models import Dimension, Severity, Source
from lookback.ledger.selectors import household_by_number
from lookback.registry.models import Household

MAX_ROWS = 5000
MAX_ERRORS = 200
REQUIRED = ("问题描述", "维度")
KNOWN = (
    "序号",
    "县",
    "乡镇",
    "村",
    "行政区划代码",
    "户编号",
    "户主",
    "维度",
    "问题类别",
    "问题描述",
    "问题来源",
    "严重程度",
    "发现层级",
    "发现日期",
    "整改措施",
    "责任单位",
    "责任人",
    "整改时限",
    "整改状态",
    "销号日期",
    "佐证材料",
    "问责情况",
)
IGNORED = ("序号", "发现层级", "整改状态", "销号日期", "佐证材料", "问责情况")


@dataclass
class ImportResult:
    created: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    # NUL can come in as an escaped `_x0000_` in the sheet's XML; PostgreSQL refuses it in any text.
    return str(value).replace("\x00", "").strip()


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(value: Any) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.match(_text(value))
    if not match:
        raise ValueError(_("“%(v)s”不是日期，请写成 2019-01-10 的形式") % {"v": _text(value)})
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise ValueError(_("“%(v)s”不是真实存在的日期") % {"v": _text(value)}) from exc


def parse_dimension(value: Any) -> int:
    text = _text(value)
    by_label = {str(d.label): d.value for d in Dimension}
    number = re.match(r"^\s*(\d)", text)
    if text in by_label:
        return by_label[text]
    for label, number_value in by_label.items():
        if label in text:
            return number_value
    if number and int(number.group(1)) in Dimension.values:
        return int(number.group(1))
    raise ValueError(
        _("“%(v)s”无效，应为 1–6 或 %(labels)s") % {"v": text, "labels": "、".join(str(d.label) for d in Dimension)}
    )


def parse_choice(value: Any, choices: Any, column: str) -> str:
    text = _text(value)
    for choice in choices:
        if text in (str(choice.label), choice.value):
            return choice.value
    raise ValueError(
        _("“%(v)s”无效，应为 %(labels)s 之一") % {"v": text, "labels": "、".join(str(c.label) for c in choices)}
    )


def default_source(user: Any) -> str:
    role = getattr(user, "role", "")
    return {
        "county": Source.COUNTY_REVIEW,
        "city": Source.CITY_SPOT_CHECK,
        "reviewer": Source.COUNTY_REVIEW,
        "helper": Source.VISIT,
    }.get(role, Source.SELF_CHECK)


def read_rows(content: bytes) -> list[list[Any]]:
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheet = workbook.get_sheet_by_index(0)
        return sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for every kind of broken file
        raise services.LedgerError(_("无法读取该文件，请上传 Excel 工作簿（.xlsx）。（%(e)s）") % {"e": exc}) from exc


def import_problems(*, user: Any, content: bytes, file_name: str, campaign: Campaign | None = None) -> ImportResult:
    """Check every row, then create every problem in one transaction — or none."""
    if not perms.can_create(user):
        raise services.NotAllowed(_("您的角色不能登记问题。"))
    if not file_name.lower().endswith(".xlsx"):
        raise services.LedgerError(_("请上传 .xlsx 格式的文件（可先下载导入模板）。"))
    rows = read_rows(content)
    result = ImportResult()
    header_index = next((i for i, row in enumerate(rows[:10]) if "问题描述" in [_text(c) for c in row]), None)
    if header_index is None:
        result.errors.append(_("没有找到表头：前 10 行中应有一行包含“问题描述”“维度”等列名（可下载导入模板）。"))
        return result
    headers = [_text(c) for c in rows[header_index]]
    index = {name: i for i, name in enumerate(headers) if name}
    for name in REQUIRED:
        if name not in index:
            result.errors.append(_("缺少必填列“%(col)s”。") % {"col": name})
    if "户编号" not in index and "村" not in index and "行政区划代码" not in index:
        result.errors.append(_("缺少地点列：请提供“户编号”，或“乡镇”和“村”，或“行政区划代码”。"))
    unknown = [h for h in headers if h and h not in KNOWN]
    if unknown:
        result.warnings.append(_("以下列不认识，已忽略：%(cols)s。") % {"cols": "、".join(unknown)})
    if result.errors:
        return result
    data_rows = [(header_index + 2 + n, row) for n, row in enumerate(rows[header_index + 1 :])]
    data_rows = [(number, row) for number, row in data_rows if any(_text(c) for c in row)]
    if not data_rows:
        result.errors.append(_("文件中没有数据行。"))
        return result
    if len(data_rows) > MAX_ROWS:
        result.errors.append(_("一次最多导入 %(n)d 行，请分批导入。") % {"n": MAX_ROWS})
        return result

    context = _Context(user)
    prepared: list[dict[str, Any]] = []
    for number, row in data_rows:
        values = {name: (row[i] if i < len(row) else None) for name, i in index.items()}
        kwargs = _prepare_row(number, values, context, result.errors, user)
        if kwargs is not None:
            prepared.append(kwargs)
        if len(result.errors) >= MAX_ERRORS:
            result.errors.append(_("错误太多，只列出前 %(n)d 条。") % {"n": MAX_ERRORS})
            break
    if result.errors:
        return result
    with transaction.atomic():
        for kwargs in prepared:
            number = kwargs.pop("_row")
            try:
                services.create_problem(user=user, campaign=campaign, **kwargs)
            except services.LedgerError as exc:
                # Raised inside the transaction: undo the rows already stored, report this one.
                transaction.set_rollback(True)
                result.errors.append(_("第 %(row)d 行：%(msg)s") % {"row": number, "msg": exc.message})
                result.created = 0
                return result
            result.created += 1
    return result


class _Context:
    """Lookups shared by all rows (households and places in scope), cached per file."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.prefix = getattr(user, "scope_prefix", "") or ""
        self._households: dict[str, Household | None] = {}
        self._places: dict[tuple[str, str, str], Division | None] = {}

    def household(self, number: str) -> Household | None:
        if number not in self._households:
            self._households[number] = household_by_number(self.user, number)
        return self._households[number]

    def place(self, county: str, township: str, village: str) -> Division | None:
        key = (county, township, village)
        if key not in self._places:
            qs = Division.objects.filter(code__startswith=self.prefix)
            if village:
                qs = qs.filter(level="village", name=village)
                if township:
                    qs = qs.filter(parent__name=township)
            else:
                qs = qs.filter(level="township", name=township)
            if county:
                found = Division.objects.filter(level="county", name=county).first()
                qs = qs.filter(code__startswith=found.prefix) if found else qs.none()
            matches = list(qs[:2])
            self._places[key] = matches[0] if len(matches) == 1 else None
        return self._places[key]


def _prepare_row(
    number: int, values: dict[str, Any], context: _Context, errors: list[str], user: Any
) -> dict[str, Any] | None:
    def error(column: str, message: str) -> None:
        errors.append(_("第 %(row)d 行“%(col)s”：%(msg)s") % {"row": number, "col": column, "msg": message})

    before = len(errors)
    kwargs: dict[str, Any] = {"_row": number}
    description = _text(values.get("问题描述"))
    if not description:
        error("问题描述", _("不能为空"))
    elif len(description) > services.MAX_DESCRIPTION:
        error("问题描述", _("不能超过 %(n)d 个字") % {"n": services.MAX_DESCRIPTION})
    kwargs["description"] = description
    try:
        kwargs["dimension"] = parse_dimension(values.get("维度"))
    except ValueError as exc:
        error("维度", str(exc))
    source_text = _text(values.get("问题来源"))
    kwargs["source"] = default_source(user)
    if source_text:
        try:
            kwargs["source"] = parse_choice(source_text, Source, "问题来源")
            if kwargs["source"] == Source.RULE:
                error("问题来源", _("“规则比对”的问题由系统自动登记，不能导入"))
        except ValueError as exc:
            error("问题来源", str(exc))
    severity_text = _text(values.get("严重程度"))
    kwargs["severity"] = Severity.NORMAL
    if severity_text:
        try:
            kwargs["severity"] = parse_choice(severity_text, Severity, "严重程度")
        except ValueError as exc:
            error("严重程度", str(exc))
    for column, key in (("发现日期", "found_on"), ("整改时限", "deadline")):
        try:
            kwargs[key] = parse_date(values.get(column))
        except ValueError as exc:
            error(column, str(exc))
    today = timezone.localdate()
    if kwargs.get("found_on") and kwargs["found_on"] > today:
        error("发现日期", _("不能晚于今天"))
    if kwargs.get("deadline") and kwargs["deadline"] < (kwargs.get("found_on") or today):
        error("整改时限", _("不能早于发现日期"))
    for column, key, limit in (
        ("问题类别", "category", 100),
        ("整改措施", "measures", services.MAX_DESCRIPTION),
        ("责任单位", "responsible_unit", 100),
        ("责任人", "responsible_person", 50),
    ):
        text = _text(values.get(column))
        if len(text) > limit:
            error(column, _("不能超过 %(n)d 个字") % {"n": limit})
        kwargs[key] = text

    household_no = _text(values.get("户编号"))
    head = _text(values.get("户主"))
    village = _text(values.get("村"))
    township = _text(values.get("乡镇"))
    code = _text(values.get("行政区划代码"))
    if household_no:
        household = context.household(household_no)
        if household is None:
            error("户编号", _("“%(v)s”不存在，或不在您的管辖范围内") % {"v": household_no})
        else:
            if head and head != household.head_name:
                error("户主", _("“%(v)s”与该户户主“%(h)s”不一致") % {"v": head, "h": household.head_name})
            if village and village != household.village.name:
                error("村", _("“%(v)s”与该户所在村“%(h)s”不一致") % {"v": village, "h": household.village.name})
            kwargs["household"] = household
    elif code:
        division = Division.objects.filter(code=code, code__startswith=context.prefix).first()
        if division is None:
            error("行政区划代码", _("“%(v)s”不存在，或不在您的管辖范围内") % {"v": code})
        kwargs["division"] = division
    elif village or township:
        division = context.place(_text(values.get("县")), township, village)
        if division is None:
            error(
                "村" if village else "乡镇",
                _("在您的管辖范围内找不到“%(v)s”（或有重名，请同时填写乡镇，或改填行政区划代码）")
                % {"v": village or township},
            )
        kwargs["division"] = division
    else:
        error("户编号", _("请填写户编号，或填写问题所在的乡镇、村"))
    if getattr(user, "is_helper", False) and not household_no:
        error("户编号", _("帮扶责任人导入问题时须填写所帮扶户的户编号"))
    return kwargs if len(errors) == before else None


def template_workbook() -> bytes:
    """An empty import file: the headers, one example row, and a sheet explaining each column."""
    import xlsxwriter

    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet(_("问题台帐"))
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    headers = [
        "乡镇",
        "村",
        "户编号",
        "户主",
        "维度",
        "问题来源",
        "问题类别",
        "问题描述",
        "严重程度",
        "发现日期",
        "整改措施",
        "责任单位",
        "责任人",
        "整改时限",
    ]
    example = [
        "嵩口镇",
        "嵩口居委会",
        "",
        "",
        "推进度",
        "乡镇自查",
        "医疗保障",
        "1名成员未参加医疗叠加保险",
        "一般",
        "2018-12-20",
        "协助补办参保手续",
        "嵩口镇政府",
        "陈晓东",
        "2019-01-31",
    ]
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, bold)
        sheet.write_string(1, col, example[col])
        sheet.set_column(col, col, 30 if header in ("问题描述", "整改措施") else 12)
    notes = book.add_worksheet(_("填写说明"))
    lines = [
        "必填：问题描述、维度（1–6 或 到位度、推进度、准确度、实在度、认可度、效益度）。",
        "地点：填写户编号（该户所在村自动带出），或填写乡镇和村的名称，或填写12位行政区划代码。",
        "问题来源：乡镇自查、入户走访、县级复核、市级抽查、群众举报；不填按您的角色默认。",
        "严重程度：一般、较重、严重；不填为一般。",
        "日期写成 2019-01-10；整改措施、责任单位、责任人、整改时限都填写的，导入后为“整改中”，否则为“待整改”。",
        "整个文件要么全部导入，要么（有任何错误时）一条都不导入；错误信息会指出行号和列名。",
        "第二行是示例，导入前请删除。",
    ]
    for row, line in enumerate(lines):
        notes.write_string(row, 0, line)
    notes.set_column(0, 0, 110)
    book.close()
    return output.getvalue()
