"""Sheet kind 4: assistance measures (帮扶措施), keyed by (户编号, 措施类型, 措施内容, 开始日期)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_noop

from lookback.core import codes
from lookback.registry.importers import cells
from lookback.registry.importers.base import Row, SheetImporter
from lookback.registry.importers.headers import Column, KindSpec
from lookback.registry.importers.households import code, money
from lookback.registry.importers.store import where_in
from lookback.registry.models import Measure

SPEC = KindSpec(
    code="measures",
    label="帮扶措施",
    order=4,
    columns=(
        Column("户编号", "household_no", cells.key_text(40), required=True, repeats=False),
        code("措施类型", "measure_type", codes.MEASURE_TYPE, required=True),
        Column("措施内容", "content", cells.text(500), required=True, repeats=False),
        Column("项目编号", "project_no", cells.key_text(50), repeats=False),
        money("投入资金（元）", "amount"),
        Column("责任人", "responsible_person", cells.text(50)),
        Column("开始日期", "start_date", cells.date),
        Column("完成日期", "end_date", cells.date),
        code("状态", "status", codes.MEASURE_STATUS),
    ),
)


def measure_key(household_id: int, record: dict[str, Any]) -> tuple[Any, ...]:
    return (household_id, record["measure_type"], record["content"], record.get("start_date"))


class MeasureImporter(SheetImporter):
    spec = SPEC

    def accept(self, row: Row) -> None:
        values = row.values
        for field_name, header in (("household_no", "户编号"), ("measure_type", "措施类型"), ("content", "措施内容")):
            if not values.get(field_name):
                self.error(row, header, "", gettext("%(column)s为空") % {"column": header})
                return
        key = (values["household_no"], values["measure_type"], values["content"], values.get("start_date"))
        if self.repeated(key, row, "措施内容", values["content"], gettext_noop("同一户的同一措施")):
            return
        record = self.fields_of(Measure, values)
        record["household_no"] = values["household_no"]
        self.add(row, record)

    def flush(self, final: bool = False) -> None:
        if not self.pending:
            return
        ready = self.take_households()
        if not ready:
            return
        writer = self.ctx.writer(Measure)
        household_ids = {household_id for _, _, household_id, _ in ready}
        existing: dict[tuple[Any, ...], dict[str, Any]] = {}
        where, params = where_in("household_id", sorted(household_ids))
        for old in writer.fetch(f'{where} ORDER BY t."id"', params):
            existing.setdefault(measure_key(old["household_id"], old), old)
        pairs = []
        for _, record, household_id, _ in ready:
            record.pop("household_no")
            record["household_id"] = household_id
            pairs.append((record, existing.get(measure_key(household_id, record))))
        self.upsert(Measure, pairs, self.ctx.count(self.spec.code))
