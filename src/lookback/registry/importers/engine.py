"""Importing one file: read each sheet, recognise it, parse and check its rows, hand them to the sheet
kind's importer. The caller (`services_import`) owns the transaction and the batch record.

Sheets are processed in file order and each is read once (a 1M-row sheet is too big to read twice).
Rows that refer to a household not yet seen wait (`deferred`) until the file's last sheet is done, so
a member sheet placed before its household sheet still imports.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext

from lookback.registry.importers import cells, deptlists, helpers, households, measures, members, snapshot, visits
from lookback.registry.importers.base import Context, Options, Row, RowParser, SheetImporter
from lookback.registry.importers.headers import HEADER_SCAN_ROWS, KindSpec, SheetPlan, recognise
from lookback.registry.importers.readers import SheetSource, UnreadableFile, open_sheets, read_head
from lookback.registry.models import DeptListKind

SHEET_SPECS: tuple[KindSpec, ...] = (households.SPEC, members.SPEC, helpers.SPEC, measures.SPEC, visits.SPEC)
IMPORTERS: dict[str, type[SheetImporter]] = {
    "households": households.HouseholdImporter,
    "members": members.MemberImporter,
    "helpers": helpers.HelperImporter,
    "measures": measures.MeasureImporter,
    "visits": visits.VisitImporter,
}
SNAPSHOT_IMPORTERS: dict[str, type[SheetImporter]] = {
    "households": snapshot.SnapshotHouseholdImporter,
    "members": snapshot.SnapshotMemberImporter,
}
SHEET_KINDS = {spec.code: spec.label for spec in SHEET_SPECS}
_NONE_FAILED: frozenset[str] = frozenset()
DEPT_KINDS = {kind.value: str(kind.label) for kind in DeptListKind}


def kind_choices() -> list[tuple[str, str]]:
    """What `--kind` and the upload form accept: a sheet kind or a department list kind."""
    return [*SHEET_KINDS.items(), *DEPT_KINDS.items()]


def candidate_specs(options: Options) -> list[KindSpec]:
    if options.as_national_snapshot:
        return [households.SPEC, members.SPEC]
    if options.kind in DEPT_KINDS:
        return [deptlists.spec_for(options.kind)]
    if options.kind in SHEET_KINDS:
        return [s for s in SHEET_SPECS if s.code == options.kind]
    return [*SHEET_SPECS, deptlists.spec_for(None)]


def make_importer(ctx: Context, plan: SheetPlan) -> SheetImporter:
    assert plan.kind is not None
    if plan.kind.code.startswith("dept"):
        return deptlists.DeptListImporter(ctx, plan, kind=plan.kind.code.partition(":")[2])
    table = SNAPSHOT_IMPORTERS if ctx.options.as_national_snapshot else IMPORTERS
    return table[plan.kind.code](ctx, plan)


@dataclass
class SheetPreview:
    plan: SheetPlan
    sample: list[list[str]]


def preview(path: Path, options: Options, sample_rows: int = 5) -> list[SheetPreview]:
    """Recognised sheets with their column mapping and a few data rows (for the upload page)."""
    specs = candidate_specs(options)
    result = []
    for source in open_sheets(path):
        head = read_head(source, HEADER_SCAN_ROWS + sample_rows)
        plan = recognise(source.name, head, specs)
        if plan.empty:
            continue
        start = plan.header_row
        sample = [[cells.shown(v) for v in row] for row in head[start : start + sample_rows]]
        result.append(SheetPreview(plan=plan, sample=sample))
    return result


def run_file(path: Path, ctx: Context) -> list[SheetPlan]:
    """Import every recognised sheet of the file into the context; returns the sheets' plans."""
    try:
        sources = open_sheets(path)
    except UnreadableFile as exc:
        ctx.error("", None, "", "", str(exc))
        return []
    specs = candidate_specs(ctx.options)
    plans: list[SheetPlan] = []
    importers: list[SheetImporter] = []
    for index, source in enumerate(sources):
        ctx.more_sheets = index < len(sources) - 1
        if ctx.more_sheets:
            source.then = sources[index + 1]
        try:
            plan = _run_sheet(source, index, len(sources), specs, ctx, importers)
        except UnreadableFile as exc:
            ctx.error(source.name, None, "", "", str(exc))
            continue
        if plan is not None:
            plans.append(plan)
    ctx.more_sheets = False
    for importer in importers:
        importer.finish_deferred()
    if not any(p.recognised for p in plans) and not ctx.error_count:
        wanted = "、".join(f"{s.label}（{'、'.join(c.header for c in s.required)}）" for s in specs)
        ctx.error(
            "",
            None,
            "",
            "",
            gettext("文件中没有可识别的表格：前 %(n)s 行中找不到表头。可导入的表格及其必需列：%(wanted)s")
            % {"n": HEADER_SCAN_ROWS, "wanted": wanted},
        )
    return plans


def _run_sheet(
    source: SheetSource, index: int, count: int, specs: list[KindSpec], ctx: Context, importers: list[SheetImporter]
) -> SheetPlan | None:
    rows: Iterator[list[Any]] = source.rows()
    head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
    plan = recognise(source.name, head, specs)
    if plan.empty:
        return None
    if plan.kind is None:
        if source.visible:  # a hidden sheet (a template's code lists) is not the user's data
            ctx.warn(source.name, None, "", "", gettext("未识别的工作表（前 20 行没有任何表格类型的表头），已跳过"))
        return plan
    if plan.missing:
        missing = "、".join(plan.missing)
        ctx.error(
            source.name,
            plan.header_row,
            missing,
            "",
            gettext("看起来是“%(kind)s”，但缺少必需的列：%(missing)s") % {"kind": plan.kind.label, "missing": missing},
        )
        return plan
    for _, header in plan.extras:
        ctx.warn(source.name, plan.header_row, header, header, gettext("未知的列，已原样保存为其他信息"))
    for header in plan.duplicates:
        ctx.warn(source.name, plan.header_row, header, header, gettext("该列与前面的列重复，按前面的列导入"))
    importer = make_importer(ctx, plan)
    importer.expected_rows = source.total_rows
    importers.append(importer)
    parse_row = RowParser(
        [
            (col_index, column, cells.memoised(column.parser) if column.repeats else column.parser)
            for col_index, column in plan.mapping
        ]
    )
    fast, needed = parse_row.fast, parse_row.width  # the common row: every cell readable, one call
    extras = plan.extras
    total = max(getattr(source, "total_rows", 0) or 0, 1)
    step = max(total // 100, 500)
    for number, raw in enumerate(itertools.chain(head, rows), start=1):
        if number <= plan.header_row:
            continue
        if ctx.progress is not None and number % step == 0:
            total = max(getattr(source, "total_rows", 0) or 0, number)
            ctx.progress(int(100 * (index + number / total) / count))
        if not any(raw) and all(cells.is_empty(v) for v in raw):
            continue
        if len(raw) >= needed:
            try:
                values, errors = fast(raw), ()
            except cells.CellError:
                values, errors = parse_row(raw)
        else:
            values, errors = parse_row(raw)
        extra = {}
        if extras:
            width = len(raw)
            for col_index, header in extras:
                if col_index < width and not cells.is_empty(raw[col_index]):
                    extra[header] = cells.shown(raw[col_index]).strip()
        failed = _NONE_FAILED
        if errors:
            for column, cell, reason in errors:
                ctx.error(source.name, number, column.header, cell, reason)
            failed = frozenset(column.header for column, _, _ in errors)
        elif not extra and list(values.values()).count(None) == len(values):
            continue  # a row of blanks and spaces
        importer.accept(Row(number=number, values=values, extra=extra, failed=failed))
    importer.finish()
    return plan
