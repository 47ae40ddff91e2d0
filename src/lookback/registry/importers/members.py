"""Sheet kind 2: members (家庭成员信息), keyed by 人编号, else by 证件号码."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from lookback.core import codes
from lookback.registry.importers import cells
from lookback.registry.importers.base import Row, SheetImporter
from lookback.registry.importers.headers import Column, KindSpec
from lookback.registry.importers.households import code, yes_no
from lookback.registry.importers.names import initials as pinyin_initials
from lookback.registry.importers.store import where_in
from lookback.registry.models import Member

SPEC = KindSpec(
    code="members",
    label="家庭成员信息",
    order=2,
    columns=(
        Column("户编号", "household_no", cells.key_text(40), required=True, repeats=False),
        Column("人编号", "member_no", cells.key_text(40), aliases=("人口编号",), repeats=False),
        Column("姓名", "name", cells.text(50), required=True, repeats=False),
        code("性别", "sex", codes.SEX),
        Column(
            "证件号码",
            "id_number",
            cells.id_number,
            required=True,
            aliases=("身份证号码", "公民身份号码", "身份证号"),
            repeats=False,
        ),
        code("与户主关系", "relation", codes.RELATION, required=True),
        Column("民族", "ethnicity", cells.text(20)),
        code("政治面貌", "political_status", codes.POLITICAL_STATUS),
        code("文化程度", "education", codes.EDUCATION),
        code("在校生状况", "school_status", codes.SCHOOL_STATUS),
        Column(
            "健康状况",
            "health",
            cells.multi_code(codes.HEALTH),
            required=True,
            choices=codes.HEALTH.labels,
            note="可填多个，用“,”分隔，如 残疾,长期慢性病",
        ),
        Column("残疾类别", "disability_type", cells.text(20)),
        code("劳动技能", "labour_skill", codes.LABOUR_SKILL, required=True, aliases=("劳动能力",)),
        code("务工状况", "work_status", codes.WORK_STATUS),
        Column("务工时间（月）", "work_months", cells.decimal(5, 1)),
        yes_no(
            "是否参加城乡居民基本医疗保险",
            "has_basic_medical",
            required=True,
            aliases=("是否参加新型农村合作医疗", "是否参加新型农村合作医疗（城乡居民基本医疗保险）"),
        ),
        yes_no("是否参加大病保险", "has_serious_illness", required=True),
        yes_no(
            "是否参加医疗叠加保险",
            "has_stacked_medical",
            aliases=("是否参加精准扶贫医疗叠加保险", "是否参加商业补充医疗保险"),
        ),
        yes_no("是否参加城镇职工基本医疗保险", "has_employee_medical"),
        yes_no("是否享受低保", "is_dibao", required=True),
        yes_no("是否特困供养人员", "is_tekun", aliases=("是否特困供养",)),
        yes_no("是否参加城乡居民基本养老保险", "has_pension"),
        code("人员状态", "status", codes.MEMBER_STATUS),
        Column("联系电话", "phone", cells.key_text(30), aliases=("成员联系电话",), repeats=False),
    ),
)


class MemberImporter(SheetImporter):
    spec = SPEC
    build_in_reader = True

    def build(self, row: Row) -> dict[str, Any] | None:
        values = row.values
        if not values.get("household_no"):
            self.error(row, "户编号", "", gettext("户编号为空"))
            return None
        member_no, id_number = values.get("member_no"), values.get("id_number")
        if not member_no and not id_number:
            self.error(row, "人编号", "", gettext("人编号和证件号码都为空，无法确定是哪个人"))
            return None
        key = ("no", member_no) if member_no else ("id", id_number)
        column = "人编号" if member_no else "证件号码"
        if self.repeated(key, row, column, key[1], column):
            return None
        warning = cells.id_number_warning(id_number)
        if warning:
            self.warn(row, "证件号码", id_number, warning)
        record = self.fields_of(Member, values)
        record["household_no"] = values["household_no"]
        if not member_no:
            record["member_no"] = None  # unique column: several ID-keyed members must not all hold ""
        if "name" in record:
            record["name_initials"] = pinyin_initials(record["name"])
        record["extra"] = row.extra
        return record

    def accept(self, row: Row) -> None:
        record = self.build(row)
        if record is not None:
            self.add(row, record)

    def flush(self, final: bool = False) -> None:
        if not self.pending:
            return
        ready = self.take_households()
        if not ready:
            return
        writer = self.ctx.writer(Member)
        numbers = [r["member_no"] for _, r, _, _ in ready if r["member_no"]]
        ids = [r["id_number"] for _, r, _, _ in ready if not r["member_no"]]
        existing_by_no: dict[str, dict[str, Any]] = {}
        existing_by_id: dict[str, dict[str, Any]] = {}
        by_number, number_params = where_in("member_no", numbers)
        by_id, id_params = where_in("id_number", ids)
        rows = writer.fetch(
            f'{by_number} OR (t."member_no" IS NULL AND {by_id}) ORDER BY t."id"',
            number_params + id_params,
            extra=(("_place", 'h."division_code"'),),
            join='JOIN "registry_household" h ON h."id" = t."household_id"',
            unique_in_file=True,  # 人编号, or 证件号码 of those without one: duplicates are errors
        )
        for old in rows:
            if old["member_no"]:
                existing_by_no[old["member_no"]] = old
            else:
                existing_by_id.setdefault(old["id_number"], old)
        pairs = []
        for row, record, household_id, _code in ready:
            record.pop("household_no")
            record["household_id"] = household_id
            if record["member_no"]:
                old = existing_by_no.get(record["member_no"])
            else:
                old = existing_by_id.get(record["id_number"])
            if old is not None and not self.ctx.in_scope(old.pop("_place")):
                column = "人编号" if record["member_no"] else "证件号码"
                self.error(
                    row, column, record["member_no"] or record["id_number"], gettext("此人已登记在您管辖范围以外的户中")
                )
                continue
            pairs.append((record, old))
        self.upsert(Member, pairs, self.ctx.count(self.spec.code))
