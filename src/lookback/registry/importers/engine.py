"""Importing one file: read each sheet, recognise it, parse and check its rows, hand them to the sheet
kind's importer. The caller (`services_import`) owns the transaction and the batch record.

Sheets are processed in file order and each is read once (a 1M-row sheet is too big to read twice).
Rows that refer to a household not yet seen wait (`deferred`) until the file's last sheet is done, so
a member sheet placed before its household sheet still imports.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.utils.translation import gettext

from lookback.registry.importers import (
    cells,
    deptlists,
    helpers,
    households,
    measures,
    members,
    reader_process,
    snapshot,
    visits,
)
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
    """Import every recognised sheet of the file into the context; returns the sheets' plans.

    A large file is read and its cells parsed in a second process (`reader_process`) while this one
    checks and stores the rows it hands over: the two halves of the work then run on two cores, where
    in one process they would take turns on one (Python runs one thread at a time)."""
    specs = candidate_specs(ctx.options)
    store = _Store(ctx, specs)
    if reader_process.wanted(path):
        reader_process.read_file(path, ctx, specs, store)
    else:
        read_file(path, specs, store)
    ctx.more_sheets = False
    for importer in store.importers:
        importer.finish_deferred()
    if not any(p.recognised for p in store.plans) and not ctx.error_count:
        wanted = "、".join(f"{s.label}（{'、'.join(c.header for c in s.required)}）" for s in specs)
        ctx.error(
            "",
            None,
            "",
            "",
            gettext("文件中没有可识别的表格：前 %(n)s 行中找不到表头。可导入的表格及其必需列：%(wanted)s")
            % {"n": HEADER_SCAN_ROWS, "wanted": wanted},
        )
    return store.plans


class SheetOutput(Protocol):
    """Where `read_file` sends what it finds: in this process the importers (`_Store`), in a reader
    process the pipe to the importing process (`reader_process`)."""

    def sheets(self, count: int) -> None: ...

    def begin(self, index: int, name: str, head: list[list[Any]], plan: SheetPlan, total_rows: int) -> None: ...

    def error(self, sheet: str, row: int | None, column: str, value: Any, reason: str) -> None: ...

    def warn(self, sheet: str, row: int | None, column: str, value: Any, reason: str) -> None: ...

    def rows(self) -> Callable[[Row], None]: ...

    def records(self) -> Callable[[Row, dict[str, Any]], None]: ...

    def touch(self, prefix: str) -> None: ...

    def progress(self, percent: int) -> None: ...

    def finish(self) -> None: ...


class _Store:
    """The importing side: a sheet kind's importer per recognised sheet, issues into the context."""

    def __init__(self, ctx: Context, specs: list[KindSpec]) -> None:
        self.ctx = ctx
        self.specs = specs
        self.count = 1
        self.plans: list[SheetPlan] = []
        self.importers: list[SheetImporter] = []
        self.importer: SheetImporter | None = None

    def sheets(self, count: int) -> None:
        self.count = count

    def begin(self, index: int, name: str, head: list[list[Any]], plan: SheetPlan | None, total_rows: int) -> None:
        if plan is None:  # read in another process: the same recognition of the same rows
            plan = recognise(name, head, self.specs)
        self.ctx.more_sheets = index < self.count - 1
        self.plans.append(plan)
        self.importer = None
        if plan.recognised:
            self.importer = make_importer(self.ctx, plan)
            self.importer.expected_rows = total_rows
            self.importers.append(self.importer)

    def error(self, sheet: str, row: int | None, column: str, value: Any, reason: str) -> None:
        self.ctx.error(sheet, row, column, value, reason)

    def warn(self, sheet: str, row: int | None, column: str, value: Any, reason: str) -> None:
        self.ctx.warn(sheet, row, column, value, reason)

    def rows(self) -> Callable[[Row], None]:
        assert self.importer is not None
        return self.importer.accept

    def records(self) -> Callable[[Row, dict[str, Any]], None]:
        """For rows the reader process checked with the importer's `build` already."""
        assert self.importer is not None
        return self.importer.add

    def touch(self, prefix: str) -> None:
        self.ctx.touch(prefix)

    def progress(self, percent: int) -> None:
        if self.ctx.progress is not None:
            self.ctx.progress(percent)

    def finish(self) -> None:
        if self.importer is not None:
            self.importer.finish()


def read_file(path: Path, specs: list[KindSpec], out: SheetOutput) -> None:
    """Read every sheet of the file: recognise it, parse its rows, and hand them to `out`."""
    try:
        sources = open_sheets(path)
    except UnreadableFile as exc:
        out.error("", None, "", "", str(exc))
        return
    out.sheets(len(sources))
    for index, source in enumerate(sources):
        if index < len(sources) - 1:
            source.then = sources[index + 1]
        try:
            read_sheet(source, index, len(sources), specs, out)
        except UnreadableFile as exc:
            out.error(source.name, None, "", "", str(exc))


def read_sheet(source: SheetSource, index: int, count: int, specs: list[KindSpec], out: SheetOutput) -> None:
    rows: Iterator[list[Any]] = source.rows()
    head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
    plan = recognise(source.name, head, specs)
    if plan.empty:
        return
    out.begin(index, source.name, head, plan, source.total_rows)
    if plan.kind is None:
        if source.visible:  # a hidden sheet (a template's code lists) is not the user's data
            out.warn(source.name, None, "", "", gettext("未识别的工作表（前 20 行没有任何表格类型的表头），已跳过"))
        return
    if plan.missing:
        missing = "、".join(plan.missing)
        out.error(
            source.name,
            plan.header_row,
            missing,
            "",
            gettext("看起来是“%(kind)s”，但缺少必需的列：%(missing)s") % {"kind": plan.kind.label, "missing": missing},
        )
        return
    for _, header in plan.extras:
        out.warn(source.name, plan.header_row, header, header, gettext("未知的列，已原样保存为其他信息"))
    for header in plan.duplicates:
        out.warn(source.name, plan.header_row, header, header, gettext("该列与前面的列重复，按前面的列导入"))
    accept = out.rows()
    parse_row = RowParser(
        [
            (col_index, column, cells.memoised(column.parser) if column.repeats else column.parser)
            for col_index, column in plan.mapping
        ]
    )
    fast, needed = parse_row.fast, parse_row.width  # the common row: every cell readable, one call
    extras = plan.extras
    total = max(source.total_rows or 0, 1)
    step = max(total // 100, 500)
    for number, raw in enumerate(itertools.chain(head, rows), start=1):
        if number <= plan.header_row:
            continue
        if number % step == 0:
            total = max(source.total_rows or 0, number)
            out.progress(int(100 * (index + number / total) / count))
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
                out.error(source.name, number, column.header, cell, reason)
            failed = frozenset(column.header for column, _, _ in errors)
        elif not extra and list(values.values()).count(None) == len(values):
            continue  # a row of blanks and spaces
        accept(Row(number=number, values=values, extra=extra, failed=failed))
    out.finish()
