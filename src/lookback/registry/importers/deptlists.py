"""Sheet kind 6: department lists (部门比对名单), keyed by (list kind, 证件号码).

The kind is named at import (`--kind dibao`) or per row by a `名单类型` column. Each kind's own
columns (spec table) are kept in `attributes` under their headers, and the ones the rules compare on
are also stored typed (see `DeptListEntry`). An entry is matched to members by ID number; its
`division_code` is that of the matched member's household (blank when nobody matches).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_noop

from lookback.core import codes
from lookback.registry.importers import cells
from lookback.registry.importers.base import CHUNK, Row, SheetImporter
from lookback.registry.importers.headers import Column, KindSpec, fold_header
from lookback.registry.importers.households import YES_NO
from lookback.registry.importers.store import where_in
from lookback.registry.models import DeptListEntry, DeptListKind, Member


def _lenient(code_list: codes.CodeList) -> cells.Parser:
    """A department's own wording is kept when it is not one of our labels (it is their list, not ours)."""
    plain = cells.text(50)

    def parse(value: Any) -> str | None:
        text = plain(value)
        if text is None:
            return None
        return code_list.normalise(text) or text

    return parse


def _yes_no_label(value: Any) -> str | None:
    parsed = cells.yes_no(value)
    return None if parsed is None else ("是" if parsed else "否")


def _col(header: str, target: str | None, parser: cells.Parser, **kwargs: Any) -> tuple[Column, str | None]:
    # A dept column's field is its header: several kinds fill the same entry field (category, status …)
    # from different columns, and a sheet naming its kind per row may hold them all.
    return Column(header, header, parser, **kwargs), target


def _text(header: str, target: str | None = None) -> tuple[Column, str | None]:
    return _col(header, target, cells.text(100))


def _date(header: str, target: str) -> tuple[Column, str | None]:
    return _col(header, target, cells.date, repeats=False)


def _money(header: str) -> tuple[Column, str | None]:
    return _col(header, "amount", cells.decimal(12, 2), repeats=False)


def _year(header: str) -> tuple[Column, str | None]:
    return _col(header, "year", cells.year)


_KIND_COLUMNS: dict[str, tuple[tuple[Column, str | None], ...]] = {
    DeptListKind.DIBAO: (_text("低保类别", "category"), _money("保障金额（元/月）"), _date("起始日期", "start_date")),
    DeptListKind.TEKUN: (_text("供养方式", "category"),),
    DeptListKind.MEDICAL: (_year("参保年度"), _text("参保状态", "status")),
    DeptListKind.SERIOUS_ILLNESS: (_year("参保年度"),),
    DeptListKind.STACKED_MEDICAL: (_year("参保年度"),),
    DeptListKind.STUDENTS: (_text("学校"), _text("年级"), _text("学段", "category")),
    DeptListKind.EDU_SUBSIDY: (_text("资助项目", "category"), _money("金额（元）"), _date("发放日期", "start_date")),
    DeptListKind.HOUSING: (
        _col("鉴定等级", "category", _lenient(codes.HOUSE_GRADE), choices=codes.HOUSE_GRADE.labels),
        _col("改造状态", "status", _lenient(codes.RENOVATION_STATUS), choices=codes.RENOVATION_STATUS.labels),
        _date("竣工日期", "start_date"),
    ),
    DeptListKind.DISABLED: (_text("残疾类别", "category"), _text("残疾等级")),
    DeptListKind.DEATHS: (_date("死亡日期", "start_date"),),
    DeptListKind.EMPLOYMENT: (_text("就业单位"), _text("就业地点"), _money("月收入（元）")),
    DeptListKind.PUBLIC_JOBS: (_text("岗位类型", "category"), _date("上岗日期", "start_date")),
    DeptListKind.RELOCATION: (
        _year("搬迁年度"),
        _text("安置点"),
        _col("是否入住", "status", _yes_no_label, choices=YES_NO),
        _date("入住日期", "start_date"),
    ),
    DeptListKind.LOANS: (
        _money("贷款金额（元）"),
        _date("放款日期", "start_date"),
        _date("到期日期", "end_date"),
        _col("贷款状态", "status", cells.code(codes.LOAN_STATUS), choices=codes.LOAN_STATUS.labels),
    ),
}
# The columns of each kind, and for each the entry field it also fills (None: `attributes` only).
KIND_COLUMNS: dict[str, tuple[Column, ...]] = {k: tuple(c for c, _ in v) for k, v in _KIND_COLUMNS.items()}
KIND_TARGETS: dict[str, dict[str, str]] = {k: {c.header: t for c, t in v if t} for k, v in _KIND_COLUMNS.items()}

_NAMING = Column("名单类型", "list_kind", cells.text(50), required=True, choices=tuple(DeptListKind.labels))
_COMMON = (
    Column(
        "证件号码",
        "id_number",
        cells.id_number,
        required=True,
        aliases=("身份证号码", "公民身份号码", "身份证号"),
        repeats=False,
    ),
    Column("姓名", "name", cells.text(50), required=True, repeats=False),
)


def _dedupe(columns: list[Column]) -> tuple[Column, ...]:
    seen: dict[str, Column] = {}
    for column in columns:
        seen.setdefault(column.header, column)
    return tuple(seen.values())


def spec_for(kind: str | None) -> KindSpec:
    """The spec of one named kind (`--kind`), or the generic one that reads `名单类型` per row."""
    if kind:
        columns = (*_COMMON, Column("名单类型", "list_kind", cells.text(50)), *KIND_COLUMNS[kind])
        return KindSpec(code=f"dept:{kind}", label=str(DeptListKind(kind).label), order=6, columns=columns)
    every = [c for kind_columns in KIND_COLUMNS.values() for c in kind_columns]
    return KindSpec(
        code="dept",
        label="部门比对名单",
        order=6,
        columns=_dedupe([*_COMMON, _NAMING, *every]),
        needs_naming=True,
    )


def _kind_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for kind in DeptListKind:
        label = str(kind.label)
        for name in (kind.value, label, label.removesuffix("名单")):
            names[fold_header(name)] = kind.value
    extra = {
        "低保": "dibao",
        "特困": "tekun",
        "五保": "tekun",
        "医保": "medical",
        "医保参保名单": "medical",
        "大病保险": "serious_illness",
        "医疗叠加保险": "stacked_medical",
        "叠加保险": "stacked_medical",
        "学生": "students",
        "在校生": "students",
        "教育资助": "edu_subsidy",
        "危房改造": "housing",
        "残疾人": "disabled",
        "死亡": "deaths",
        "死亡人员": "deaths",
        "就业": "employment",
        "公益性岗位": "public_jobs",
        "搬迁": "relocation",
        "易地扶贫搬迁": "relocation",
        "造福工程": "relocation",
        "小额信贷": "loans",
        "扶贫小额信贷": "loans",
    }
    names.update({fold_header(k): v for k, v in extra.items()})
    return names


KIND_NAMES = _kind_names()


def kind_from_text(text: str) -> str | None:
    return KIND_NAMES.get(fold_header(text))


def _attribute(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    return cells.display(value) if not isinstance(value, str) else value


class DeptListImporter(SheetImporter):
    spec = spec_for(None)

    def __init__(self, *args: Any, kind: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.spec = self.plan.kind or self.spec
        # The kind columns the sheet has (their field is their header).
        self.present = [c.header for _, c in self.plan.mapping if c.field not in ("id_number", "name", "list_kind")]

    def accept(self, row: Row) -> None:
        values = row.values
        raw_kind = row.values.get("list_kind")
        kind = self.kind
        if raw_kind:
            kind = kind_from_text(raw_kind) or ""
            if not kind:
                self.error(
                    row,
                    "名单类型",
                    raw_kind,
                    gettext("不是已知的名单类型（可填：%(kinds)s）") % {"kinds": "、".join(DeptListKind.labels)},
                )
                return
        if not kind:
            self.error(row, "名单类型", "", gettext("名单类型为空（导入时可指定名单类型）"))
            return
        id_number = values.get("id_number")
        if not id_number:
            self.error(row, "证件号码", "", gettext("证件号码为空"))
            return
        if self.repeated((kind, id_number), row, "证件号码", id_number, gettext_noop("同一名单中的证件号码")):
            return
        warning = cells.id_number_warning(id_number)
        if warning:
            self.warn(row, "证件号码", id_number, warning)
        record: dict[str, Any] = {"kind": kind, "id_number": id_number, "name": values.get("name") or ""}
        targets = KIND_TARGETS[kind]
        for target in set(targets.values()):
            if any(header in self.present for header, t in targets.items() if t == target):
                record[target] = None
        attributes: dict[str, Any] = {}
        for header in self.present:
            value = values.get(header)
            if header in targets and value is not None:
                record[targets[header]] = value
            if value is not None:
                attributes[header] = _attribute(value)
        attributes.update(row.extra)
        record["attributes"] = attributes
        self.add(row, record)

    def flush(self, final: bool = False) -> None:
        if not self.pending:
            return
        writer = self.ctx.writer(DeptListEntry)
        id_numbers = list({record["id_number"] for _, record in self.pending})
        places: dict[str, str] = {}
        for start in range(0, len(id_numbers), CHUNK):
            matched = (
                Member.objects.filter(id_number__in=id_numbers[start : start + CHUNK])
                .order_by("id")
                .values_list("id_number", "household__division_code")
            )
            for number, code in matched:
                places.setdefault(number, code)
        existing = {(old["kind"], old["id_number"]): old for old in writer.fetch(*where_in("id_number", id_numbers))}
        pairs = []
        for row, record in self.pending:
            code = places.get(record["id_number"], "")
            old = existing.get((record["kind"], record["id_number"]))
            if code and not self.ctx.in_scope(code):
                self.error(row, "证件号码", record["id_number"], gettext("此人登记在您管辖范围以外的户中"))
                continue
            if old is not None and old["division_code"] and not self.ctx.in_scope(old["division_code"]):
                self.error(row, "证件号码", record["id_number"], gettext("该名单记录属于您管辖范围以外的地区"))
                continue
            record["division_code"] = code
            if code:
                self.ctx.touch(code)
            pairs.append((record, old))
        self.pending = []
        self.upsert(DeptListEntry, pairs, self.ctx.count("dept"))
