"""Sheet kind 1: households (贫困户信息), keyed by 户编号."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_noop

from lookback.core import codes
from lookback.registry.importers import cells
from lookback.registry.importers.base import Row, SheetImporter
from lookback.registry.importers.headers import Column, KindSpec
from lookback.registry.importers.names import initials as pinyin_initials
from lookback.registry.importers.store import where_in
from lookback.registry.models import Household

YES_NO = ("是", "否")


def money(header: str, field: str, required: bool = False, aliases: tuple[str, ...] = ()) -> Column:
    return Column(header, field, cells.decimal(12, 2), required=required, aliases=aliases, repeats=False)


def yes_no(header: str, field: str, required: bool = False, aliases: tuple[str, ...] = ()) -> Column:
    return Column(header, field, cells.yes_no, required=required, aliases=aliases, choices=YES_NO)


def code(header: str, field: str, code_list: codes.CodeList, required: bool = False, aliases: tuple[str, ...] = ()):
    return Column(header, field, cells.code(code_list), required=required, aliases=aliases, choices=code_list.labels)


SPEC = KindSpec(
    code="households",
    label="贫困户信息",
    order=1,
    columns=(
        Column("县", "county", cells.text(50), required=True, aliases=("县(市、区)", "县（市、区）", "县市区")),
        Column("乡镇", "township", cells.text(50), required=True, aliases=("乡(镇)", "乡（镇）", "乡")),
        Column("行政村", "village", cells.text(50), required=True, aliases=("村",)),
        Column("户编号", "household_no", cells.key_text(40), required=True, repeats=False),
        Column("户主姓名", "head_name", cells.text(50), required=True, repeats=False),
        Column("户主证件号码", "head_id_number", cells.id_number, required=True, repeats=False),
        Column("家庭人口数", "size", cells.integer(0, 32767), required=True, aliases=("家庭人数", "人数")),
        code("贫困户属性", "attribute", codes.HOUSEHOLD_ATTRIBUTE, required=True),
        code("脱贫状态", "exit_status", codes.EXIT_STATUS, required=True, aliases=("脱贫属性", "脱贫标志")),
        Column("脱贫年度", "exit_year", cells.year, required=True),
        code("识别标准", "identification_standard", codes.IDENTIFICATION_STANDARD),
        Column("识别年度", "identification_year", cells.year, aliases=("首次识别年度",)),
        code("主要致贫原因", "main_cause", codes.POVERTY_CAUSE, required=True),
        Column(
            "其他致贫原因",
            "other_causes",
            cells.multi_code(codes.POVERTY_CAUSE, joiner=None),
            choices=codes.POVERTY_CAUSE.labels,
            note="可填多个，用“,”“、”或“;”分隔",
        ),
        money("人均纯收入（元）", "income_per_capita", required=True, aliases=("家庭年人均纯收入",)),
        money("工资性收入（元）", "wage_income"),
        money("生产经营性收入（元）", "business_income"),
        money("财产性收入（元）", "property_income"),
        money("转移性收入（元）", "transfer_income"),
        money("生产经营性支出（元）", "business_costs"),
        code("住房安全等级", "house_grade", codes.HOUSE_GRADE),
        Column("住房面积（㎡）", "house_area", cells.decimal(8, 2), aliases=("住房面积", "住房面积（平方米）")),
        code("危房改造状态", "renovation_status", codes.RENOVATION_STATUS),
        yes_no("是否造福工程搬迁户", "is_relocated", aliases=("是否易地扶贫搬迁户",)),
        Column("搬迁年度", "relocation_year", cells.year),
        yes_no("是否已入住", "moved_in"),
        yes_no("饮水是否安全", "safe_water"),
        yes_no("是否通生活用电", "has_electricity"),
        yes_no("有无卫生厕所", "has_sanitary_toilet"),
        Column("联系电话", "phone", cells.key_text(30), aliases=("户联系电话",), repeats=False),
        Column("行政区划代码", "division_code", cells.key_text(12), note="12位村级代码；填写后优先于县、乡镇、村名称"),
    ),
)

PLACE_FIELDS = ("county", "township", "village", "division_code")


class HouseholdImporter(SheetImporter):
    spec = SPEC
    build_in_reader = True  # the places come from the division table, handed to the reader process

    def build(self, row: Row) -> dict[str, Any] | None:
        """The household record of a row, or None after reporting why it cannot be stored."""
        values = row.values
        number = values.get("household_no")
        if not number:
            self.error(row, "户编号", "", gettext("户编号为空"))
            return None
        if self.repeated(number, row, "户编号", number, gettext_noop("户编号")):
            return None
        place = self.place(row)
        if place is None:
            return None
        if values.get("size") is None:
            self.error(row, "家庭人口数", "", gettext("家庭人口数为空"))
            return None
        record = self.fields_of(Household, values)
        record["village_id"], record["division_code"] = place  # the place found, not the code typed
        if "head_name" in record:
            record["head_name_initials"] = pinyin_initials(record["head_name"])
        record["extra"] = row.extra
        warning = cells.id_number_warning(values.get("head_id_number"))
        if warning:
            self.warn(row, "户主证件号码", values.get("head_id_number"), warning)
        return record

    def place(self, row: Row) -> tuple[int, str] | None:
        values = row.values
        try:
            if values.get("division_code"):
                found = self.ctx.resolver.by_division_code(values["division_code"])
            else:
                found = self.ctx.resolver.resolve(
                    values.get("county") or "", values.get("township") or "", values.get("village") or ""
                )
        except cells.CellError as exc:
            column = getattr(exc, "column", "行政区划代码")
            value = values.get({"县": "county", "乡镇": "township", "行政村": "village"}.get(column, "division_code"))
            self.error(row, column, value, exc.reason)
            return None
        if not self.ctx.in_scope(found.code):
            self.error(row, "行政村", values.get("village") or found.code, gettext("该村不在您的管辖范围内"))
            return None
        self.ctx.touch(found.code)
        return found.village_id, found.code

    def accept(self, row: Row) -> None:
        record = self.build(row)
        if record is not None:
            self.add(row, record)

    def flush(self, final: bool = False) -> None:
        if not self.pending:
            return
        writer = self.ctx.writer(Household)
        numbers = [record["household_no"] for _, record in self.pending]
        found = writer.fetch(*where_in("household_no", numbers), unique_in_file=True)
        existing = {row["household_no"]: row for row in found}
        pairs = []
        for row, record in self.pending:
            old = existing.get(record["household_no"])
            if old is not None and not self.ctx.in_scope(old["division_code"]):
                self.error(row, "户编号", record["household_no"], gettext("该户编号已登记在您管辖范围以外的地区"))
                continue
            pairs.append((record, old))
        self.pending = []
        for record in self.upsert(Household, pairs, self.ctx.count(self.spec.code)):
            self.ctx.file_households[record["household_no"]] = (record["id"], record["division_code"])
