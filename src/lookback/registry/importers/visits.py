"""Sheet kind 5: visit records (帮扶记录 / 签到记录), keyed by (户编号, 帮扶责任人, 走访时间)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_noop

from lookback.core import codes
from lookback.registry.importers import cells
from lookback.registry.importers.base import Row, SheetImporter
from lookback.registry.importers.headers import Column, KindSpec
from lookback.registry.importers.households import code, yes_no
from lookback.registry.importers.store import where_in
from lookback.registry.models import Assignment, Visit

SPEC = KindSpec(
    code="visits",
    label="帮扶记录",
    order=5,
    columns=(
        Column("户编号", "household_no", cells.key_text(40), required=True, repeats=False),
        Column("帮扶责任人", "helper_name", cells.text(50), required=True, aliases=("帮扶责任人姓名",)),
        Column(
            "走访时间",
            "visited_at",
            cells.datetime,
            required=True,
            aliases=("走访日期", "签到时间"),
            repeats=False,
            note="如 2018-12-05 09:30",
        ),
        code("走访类型", "visit_type", codes.VISIT_TYPE),
        Column("经度", "longitude", cells.decimal_coordinate(-180, 180), repeats=False),
        Column("纬度", "latitude", cells.decimal_coordinate(-90, 90), repeats=False),
        Column("走访内容", "content", cells.text(5000), repeats=False),
        yes_no("扶贫手册是否填写", "poverty_handbook_filled"),
        yes_no("挂钩帮扶手册是否填写", "assignment_handbook_filled"),
        Column("群众需求", "needs", cells.text(5000), repeats=False),
        yes_no("是否知晓帮扶责任人", "knows_helper"),
        code("满意度", "satisfaction", codes.SATISFACTION),
    ),
)


class VisitImporter(SheetImporter):
    spec = SPEC

    def accept(self, row: Row) -> None:
        values = row.values
        for field_name, header in (
            ("household_no", "户编号"),
            ("helper_name", "帮扶责任人"),
            ("visited_at", "走访时间"),
        ):
            if not values.get(field_name):
                self.error(row, header, "", gettext("%(column)s为空") % {"column": header})
                return
        key = (values["household_no"], values["helper_name"], values["visited_at"])
        what = gettext_noop("同一户同一帮扶责任人同一时间的走访")
        if self.repeated(key, row, "走访时间", values["visited_at"], what):
            return
        record = self.fields_of(Visit, values)
        record["household_no"] = values["household_no"]
        self.add(row, record)

    def flush(self, final: bool = False) -> None:
        if not self.pending:
            return
        ready = self.take_households()
        if not ready:
            return
        writer = self.ctx.writer(Visit)
        household_ids = {household_id for _, _, household_id, _ in ready}
        existing: dict[tuple[Any, ...], dict[str, Any]] = {}
        for old in writer.fetch(*where_in("household_id", sorted(household_ids))):
            existing[(old["household_id"], old["helper_name"], old["visited_at"])] = old
        # The visiting helper, when one of that name is assigned to the household.
        helpers: dict[tuple[int, str], int] = {}
        assigned = Assignment.objects.filter(household_id__in=household_ids).order_by("-is_first", "id")
        for household_id, name, helper_id in assigned.values_list("household_id", "helper__name", "helper_id"):
            helpers.setdefault((household_id, name), helper_id)
        pairs = []
        for _, record, household_id, _ in ready:
            record.pop("household_no")
            record["household_id"] = household_id
            record["helper_id"] = helpers.get((household_id, record["helper_name"]))
            old = existing.get((household_id, record["helper_name"], record["visited_at"]))
            pairs.append((record, old))
        self.upsert(Visit, pairs, self.ctx.count(self.spec.code))
