"""Sheet kind 3: helper assignments (帮扶责任人), keyed by (证件号码 or 姓名+联系电话, 户编号).

One row is one helper assigned to one household. The helper (a person) is kept once, keyed by ID
number when given, else by name and phone; the row's assignment links them to the household.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_noop

from lookback.registry.importers import cells
from lookback.registry.importers.base import Counts, Row, SheetImporter
from lookback.registry.importers.headers import Column, KindSpec
from lookback.registry.importers.households import yes_no
from lookback.registry.importers.store import where_in
from lookback.registry.models import Assignment, Helper

SPEC = KindSpec(
    code="helpers",
    label="帮扶责任人",
    order=3,
    columns=(
        Column("帮扶责任人", "name", cells.text(50), required=True, aliases=("帮扶责任人姓名", "姓名"), repeats=False),
        Column("证件号码", "id_number", cells.id_number, aliases=("身份证号码", "身份证号"), repeats=False),
        Column("工作单位", "work_unit", cells.text(100), required=True, aliases=("帮扶单位",)),
        Column("职务", "position", cells.text(50)),
        Column("联系电话", "phone", cells.key_text(30), required=True, repeats=False),
        Column("户编号", "household_no", cells.key_text(40), required=True, repeats=False),
        yes_no("是否第一帮扶责任人", "is_first"),
    ),
)

HELPER_FIELDS = ("name", "id_number", "work_unit", "position", "phone")


class HelperImporter(SheetImporter):
    spec = SPEC

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.households_seen: set[str] = set()

    def accept(self, row: Row) -> None:
        values = row.values
        household_no = values.get("household_no")
        if not household_no:
            self.error(row, "户编号", "", gettext("户编号为空"))
            return
        id_number = values.get("id_number")
        name, phone = values.get("name"), values.get("phone")
        if id_number:
            helper_key: tuple[Any, ...] = ("id", id_number)
        elif name and phone:
            helper_key = ("np", name, phone)
        else:
            self.error(row, "帮扶责任人", name, gettext("没有证件号码时，帮扶责任人姓名和联系电话都必须填写"))
            return
        if self.repeated((helper_key, household_no), row, "帮扶责任人", name, gettext_noop("同一帮扶责任人与同一户")):
            return
        warning = cells.id_number_warning(id_number)
        if warning:
            self.warn(row, "证件号码", id_number, warning)
        is_first = values.get("is_first")
        if is_first is None:
            # Spec: an empty cell means 是 for the household's first helper, 否 for the others.
            is_first = household_no not in self.households_seen
        self.households_seen.add(household_no)
        helper = self.fields_of(Helper, {k: v for k, v in values.items() if k in HELPER_FIELDS})
        helper["id_number"] = id_number or None
        self.add(row, {"household_no": household_no, "helper_key": helper_key, "helper": helper, "is_first": is_first})

    def flush(self, final: bool = False) -> None:
        if not self.pending:
            return
        ready = self.take_households()
        if not ready:
            return
        helper_writer = self.ctx.writer(Helper)
        by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
        for _, record, _, _ in ready:
            by_key[record["helper_key"]] = record["helper"]  # the last row's details win
        id_numbers = [k[1] for k in by_key if k[0] == "id"]
        names = [k[1] for k in by_key if k[0] == "np"]
        existing: dict[tuple[Any, ...], dict[str, Any]] = {}
        for old in helper_writer.fetch(*where_in("id_number", id_numbers)):
            existing[("id", old["id_number"])] = old
        by_name, params = where_in("name", names)
        for old in helper_writer.fetch(f't."id_number" IS NULL AND {by_name} ORDER BY t."id"', params):
            existing.setdefault(("np", old["name"], old["phone"]), old)
        keys = list(by_key)
        stored = self.upsert(Helper, [(by_key[k], existing.get(k)) for k in keys], None)
        helpers = dict(zip(keys, stored, strict=True))

        assignment_writer = self.ctx.writer(Assignment)
        household_ids = {household_id for _, _, household_id, _ in ready}
        assignments = {
            (old["helper_id"], old["household_id"]): old
            for old in assignment_writer.fetch(*where_in("household_id", sorted(household_ids)))
        }
        pairs = []
        for _, record, household_id, _ in ready:
            helper_id = helpers[record["helper_key"]]["id"]
            new = {"helper_id": helper_id, "household_id": household_id, "is_first": record["is_first"]}
            pairs.append((new, assignments.get((helper_id, household_id))))
        counts = self.ctx.count(self.spec.code)
        for (_, record, _, _), assignment in zip(ready, self.upsert(Assignment, pairs, Counts()), strict=True):
            helper_state = helpers[record["helper_key"]]["_state"]
            if assignment["_state"] == "new":
                counts.new += 1
            elif assignment["_state"] == "updated" or helper_state != "unchanged":
                counts.updated += 1
            else:
                counts.unchanged += 1
