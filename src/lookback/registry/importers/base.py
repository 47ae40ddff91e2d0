"""What every sheet importer shares: the import context (who, scope, issues, counts, the writers) and
the compare-then-insert-or-update step that makes a re-import change nothing.

A sheet importer receives parsed rows one by one (`accept`), buffers them, and every `CHUNK` rows
looks up the existing records and references for the whole chunk at once (`flush`), so the number of
queries grows with the file's size divided by the chunk, not with its rows.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext

from lookback.registry.importers.headers import Column, KindSpec, SheetPlan
from lookback.registry.importers.places import DivisionResolver
from lookback.registry.importers.store import IndexDeferral, TableWriter, WriteBehind

CHUNK = 5000
# Issues kept in full (on the batch and in the report); beyond this only counted.
MAX_ISSUES = 100_000
# Fields that say when or by which batch a row was written: never a reason to call a row changed.
BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "batch_id"})


@dataclass(frozen=True)
class Issue:
    """An error or a warning: where (sheet, row as the spreadsheet shows it, column) and why."""

    sheet: str
    row: int | None
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "value": self.value, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Issue:
        return cls(
            sheet=data.get("sheet", ""),
            row=data.get("row"),
            column=data.get("column", ""),
            value=data.get("value", ""),
            reason=data.get("reason", ""),
        )


@dataclass
class Options:
    kind: str = ""  # a sheet kind or a dept list kind; "" = recognise
    as_national_snapshot: bool = False
    snapshot_date: date | None = None
    dry_run: bool = False


@dataclass
class Counts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged


@dataclass
class Context:
    """One file's import: who imports, into which scope, and everything found along the way."""

    user: Any
    scope_prefix: str  # "" = everywhere
    batch_id: int | None
    now: datetime
    options: Options
    reason: str = ""
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    counts: dict[str, Counts] = field(default_factory=dict)
    # 户编号 → (household id, village code) of the households of this file (or of this snapshot)
    file_households: dict[str, tuple[int, str]] = field(default_factory=dict)
    more_sheets: bool = False  # a later sheet of the file may still supply referenced households
    snapshot: Any = None
    common_prefix: str | None = None  # the longest code prefix shared by every stored row's place
    progress: Callable[[int], None] | None = None
    seen_keys: dict[str, dict[Any, int]] = field(default_factory=dict)  # SheetImporter.repeated
    sheet_names: list[str] = field(default_factory=list)  # of the sheets given an importer, in order
    indexes: IndexDeferral = field(default_factory=IndexDeferral)
    behind: WriteBehind = field(default_factory=WriteBehind)  # threaded inside its `with` only
    _writers: dict[type, TableWriter] = field(default_factory=dict)
    _resolver: DivisionResolver | None = None

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)

    @property
    def storing(self) -> bool:
        """Rows are written only while the file is clean; after the first error we only keep checking."""
        return self.error_count == 0

    def error(self, sheet: str, row: int | None, column: str, value: Any, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ISSUES:
            self.errors.append(Issue(sheet, row, _text(column), _text(value), reason))

    def warn(self, sheet: str, row: int | None, column: str, value: Any, reason: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_ISSUES:
            self.warnings.append(Issue(sheet, row, _text(column), _text(value), reason))

    def in_scope(self, division_code: str) -> bool:
        return division_code.startswith(self.scope_prefix)

    def touch(self, division_code: str) -> None:
        """Remember the places the file's rows lie in (for batches imported without a user scope)."""
        common = self.common_prefix
        if common is None:
            self.common_prefix = division_code
        elif not division_code.startswith(common):
            length = 0
            for a, b in zip(common, division_code, strict=False):
                if a != b:
                    break
                length += 1
            self.common_prefix = common[:length]

    def writer(self, model: type[models.Model]) -> TableWriter:
        if model not in self._writers:
            self._writers[model] = TableWriter(
                model,
                now=self.now,
                user_id=self.user_id,
                reason=self.reason,
                behind=self.behind,
                fresh=self.indexes.fresh,
            )
        return self._writers[model]

    @property
    def resolver(self) -> DivisionResolver:
        if self._resolver is None:
            self._resolver = DivisionResolver()
        return self._resolver

    def analyse(self) -> None:
        """Fresh planner statistics for the tables this file grew a lot (PostgreSQL)."""
        from lookback.registry.importers.store import analyse

        analyse(self._writers.values())

    def count(self, kind: str) -> Counts:
        return self.counts.setdefault(kind, Counts())


def _text(value: Any) -> str:
    from lookback.registry.importers.cells import shown

    return shown(value)


@dataclass(slots=True)
class Row:
    """A parsed data row: its spreadsheet row number, parsed values by field, unknown columns."""

    number: int
    values: dict[str, Any]
    extra: dict[str, str]
    # Headers of cells that could not be read (already reported). Such a row is still checked for
    # what else is wrong with it (place, duplicate key), but never stored.
    failed: frozenset[str] = frozenset()


class SheetImporter:
    """Base of the per-kind importers. Subclasses set `spec`, implement `accept` and `flush`."""

    spec: KindSpec
    # `build(row)` needs no database (the division table aside: the reader gets a copy) and no state but
    # the sheet's own and the context's scope: it may run in the reader process (`reader_process`),
    # which then hands over `build`'s records for `add`.
    build_in_reader = False

    def __init__(self, ctx: Context, plan: SheetPlan) -> None:
        self.ctx = ctx
        self.plan = plan
        self.sheet = plan.sheet
        self.mapped = {column.field for _, column in plan.mapping if column.field}
        self.pending: list[tuple[Row, dict[str, Any]]] = []
        self.deferred: list[tuple[Row, dict[str, Any]]] = []
        # Keys seen in this file's sheets of this kind (`repeated`); department lists share one.
        kind = plan.kind.code.partition(":")[0] if plan.kind is not None else ""
        self.seen: dict[Any, int] = ctx.seen_keys.setdefault(kind, {})
        self.ordinal = len(ctx.sheet_names)
        ctx.sheet_names.append(plan.sheet)
        self.expected_rows = 0  # the sheet's row count, where the reader knows it
        self.inserted: dict[type, int] = {}  # new rows of this sheet so far, by model
        self._field_plans: dict[type, tuple[set[str], dict[str, Any], dict[str, Callable[[], Any]], Callable]] = {}

    # helpers for subclasses --------------------------------------------------------------------------
    def fields_of(self, model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
        """The parsed values that are fields of `model`, an empty cell becoming the field's blank value
        ("" for text, [] or {} for JSON, the default such as 人员状态 正常) where the field takes no null."""
        plan = self._field_plans.get(model)
        if plan is None:
            blanks, names = _blanks(model), _attnames(model)
            keep = list(dict.fromkeys(c.field for _, c in self.plan.mapping if c.field and c.field in names))
            # A blank that is a fresh object each time (JSON lists and dicts) is made per row; the
            # rest (text "", a default label) is one shared immutable value.
            made = {n: blanks[n] for n in keep if n in blanks}
            shared = {n: make() for n, make in made.items() if isinstance(make(), str | int | bool)}
            fresh = {n: make for n, make in made.items() if n not in shared}
            plan = self._field_plans[model] = (set(keep), shared, fresh, _fields_function(keep, shared, fresh))
        keep, shared, fresh, fast = plan
        try:
            return fast(values)
        except KeyError:  # a row with a cell that could not be read: it lacks that field
            pass
        record = {n: (v if v is not None else shared.get(n)) for n, v in values.items() if n in keep}
        for name, make in fresh.items():
            if name in record and record[name] is None:
                record[name] = make()
        return record

    def error(self, row: Row | int | None, column: str, value: Any, reason: str) -> None:
        if isinstance(row, Row) and column in row.failed:
            return  # the cell's own error says it already
        self.ctx.error(self.sheet, row.number if isinstance(row, Row) else row, column, value, reason)

    def warn(self, row: Row | int | None, column: str, value: Any, reason: str) -> None:
        self.ctx.warn(self.sheet, row.number if isinstance(row, Row) else row, column, value, reason)

    def has(self, field_name: str) -> bool:
        return field_name in self.mapped

    def repeated(self, key: Any, row: Row, column: str, value: Any, what: str) -> bool:
        """Whether `key` appeared before in this file's sheets of this kind; if so, the error is reported
        at the row's `column`: "户编号在本表中重复（第 3 行已有）", or naming the other sheet and row.
        `what` is an untranslated message id (`gettext_noop`): translated only for an error, not per row.

        One dict per kind for the whole file, its values the sheet's ordinal and the row number in one
        int (no more memory than a dict per sheet): a 户编号 in two household sheets of one workbook is
        the same error as twice in one sheet, and is named as such, not left to the database's unique
        constraint (an internal error that named no cell)."""
        mark = self.ordinal << 32 | row.number
        earlier = self.seen.setdefault(key, mark)
        if earlier == mark:
            return False
        ordinal, number = earlier >> 32, earlier & 0xFFFFFFFF
        if ordinal == self.ordinal:
            reason = gettext("%(what)s在本表中重复（第 %(row)s 行已有）") % {"what": gettext(what), "row": number}
        else:
            reason = gettext("%(what)s在本文件中重复（工作表“%(sheet)s”第 %(row)s 行已有）") % {
                "what": gettext(what),
                "sheet": self.ctx.sheet_names[ordinal],
                "row": number,
            }
        self.error(row, column, value, reason)
        return True

    def column_header(self, field_name: str) -> str:
        for _, column in self.plan.mapping:
            if column.field == field_name:
                return column.header
        for column in self.spec.columns:
            if column.field == field_name:
                return column.header
        return field_name

    # the protocol ------------------------------------------------------------------------------------
    def accept(self, row: Row) -> None:
        raise NotImplementedError

    def add(self, row: Row, record: dict[str, Any]) -> None:
        if row.failed:
            return
        self.pending.append((row, record))
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self, final: bool = False) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """The sheet has no more rows."""
        self.flush()

    def finish_deferred(self) -> None:
        """The file has no more sheets: rows that waited for a later sheet's households settle now."""
        if self.deferred:
            self.pending, self.deferred = self.deferred, []
            self.flush(final=True)

    # households referenced by 户编号 --------------------------------------------------------------------
    def resolve_households(self, numbers: set[str]) -> dict[str, tuple[int, str]]:
        """户编号 → (household id, village code), from this file first, then from the registry."""
        from lookback.registry.models import Household

        found = {n: self.ctx.file_households[n] for n in numbers if n in self.ctx.file_households}
        rest = [n for n in numbers if n not in found]
        for start in range(0, len(rest), CHUNK):
            chunk = rest[start : start + CHUNK]
            for no, pk, code in Household.objects.filter(household_no__in=chunk).values_list(
                "household_no", "id", "division_code"
            ):
                found[no] = (pk, code)
        return found

    def take_households(self) -> list[tuple[Row, dict[str, Any], int, str]]:
        """Pending rows with their household resolved; the rest are deferred or reported."""
        numbers = {record["household_no"] for _, record in self.pending}
        households = self.resolve_households(numbers)
        ready = []
        allowed: dict[str, bool] = {}  # per village code: a few hundred codes for thousands of rows
        for row, record in self.pending:
            hit = households.get(record["household_no"])
            if hit is None:
                if self.ctx.more_sheets:
                    self.deferred.append((row, record))
                else:
                    self.error(row, "户编号", record["household_no"], gettext("该户编号在本文件和系统中都不存在"))
                continue
            pk, code = hit
            ok = allowed.get(code)
            if ok is None:
                ok = allowed[code] = self.ctx.in_scope(code)
                if ok:
                    self.ctx.touch(code)
            if not ok:
                self.error(row, "户编号", record["household_no"], gettext("该户不在您的管辖范围内"))
                continue
            ready.append((row, record, pk, code))
        self.pending = []
        return ready

    # compare and write -------------------------------------------------------------------------------
    def upsert(
        self,
        model: type[models.Model],
        pairs: list[tuple[dict[str, Any], dict[str, Any] | None]],
        counts: Counts | None,
    ) -> list[dict[str, Any]]:
        """Insert new records, update changed ones, count the unchanged. Returns the records with ids,
        in the order of `pairs`, each marked `_state` "new", "updated" or "unchanged".

        `pairs` holds (new record, existing row as `.values()` or None). A new record only carries the
        fields the sheet has columns for; fields it has no column for keep their stored value.
        """
        counts = counts if counts is not None else Counts()
        writer = self.ctx.writer(model)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        changed_fields: set[str] = set()
        result = []
        # An unchanged row (the whole of a re-import) is found by one tuple comparison in C; only rows
        # that differ somewhere are merged and compared field by field.
        same: Callable[[dict[str, Any]], tuple] | None = None
        width = 0
        for new, old in pairs:
            if old is None:
                new["batch_id"] = self.ctx.batch_id
                new["_state"] = "new"
                inserts.append(new)
                result.append(new)
                continue
            if same is None:
                keys = [k for k in new if k not in BOOKKEEPING] or ["id"]
                same, width = operator.itemgetter(*keys), len(new)
            if len(new) == width:
                try:
                    if same(new) == same(old):
                        old["_state"] = "unchanged"
                        counts.unchanged += 1
                        result.append(old)
                        continue
                except KeyError:
                    pass  # a row with other fields than the first: compared the long way
            merged = {**old, **new}
            for name in ("extra", "attributes"):  # unknown columns of earlier files are kept
                if name in new and isinstance(old.get(name), dict):
                    merged[name] = {**old[name], **new[name]}
            changed = [k for k in merged if k not in BOOKKEEPING and merged[k] != old.get(k)]
            if changed:
                merged["batch_id"] = self.ctx.batch_id
                merged["_state"] = "updated"
                changed_fields.update(changed)
                updates.append(merged)
                counts.updated += 1
            else:
                merged["_state"] = "unchanged"
                counts.unchanged += 1
            result.append(merged)
        counts.new += len(inserts)
        done = self.inserted.get(model, 0)
        self.inserted[model] = done + len(inserts)
        ahead = max(self.expected_rows - done, 0)  # a hint for reserving ids: the rest of the sheet
        ids = writer.reserve_ids(len(inserts), ahead=ahead) if self.ctx.storing else [-1] * len(inserts)
        for record, pk in zip(inserts, ids, strict=True):
            record["id"] = pk
        if self.ctx.storing:
            if inserts:
                self.ctx.indexes.defer(model, self.expected_rows)
            writer.insert(inserts)
            writer.update(updates, changed_fields | {"batch_id"})
        return result


_BLANKS: dict[type, dict[str, Callable[[], Any]]] = {}
_ATTNAMES: dict[type, set[str]] = {}


def _blanks(model: type[models.Model]) -> dict[str, Callable[[], Any]]:
    if model not in _BLANKS:
        blanks: dict[str, Callable[[], Any]] = {}
        for f in model._meta.concrete_fields:
            if f.null or f.primary_key:
                continue
            if f.has_default():
                blanks[f.attname] = f.get_default
            elif isinstance(f, models.CharField | models.TextField):
                blanks[f.attname] = str
        _BLANKS[model] = blanks
        _ATTNAMES[model] = {f.attname for f in model._meta.concrete_fields if not f.primary_key}
    return _BLANKS[model]


def _attnames(model: type[models.Model]) -> set[str]:
    _blanks(model)
    return _ATTNAMES[model]


class RowParser:
    """Parses the mapped cells of a row. The common row (every cell readable) is one dict
    comprehension; only a row with an error is parsed again cell by cell to name every bad cell."""

    def __init__(self, parsers: list[tuple[int, Column, Callable[[Any], Any]]]) -> None:
        self.parsers = parsers
        self.width = max((index for index, _, _ in parsers), default=-1) + 1
        self.fast = _row_function([(index, column.field, parse) for index, column, parse in parsers])

    def __call__(self, raw: list[Any]) -> tuple[dict[str, Any], list[tuple[Column, Any, str]]]:
        from lookback.registry.importers.cells import CellError

        if len(raw) >= self.width:
            try:
                return self.fast(raw), []
            except CellError:
                pass
        values: dict[str, Any] = {}
        errors: list[tuple[Column, Any, str]] = []
        width = len(raw)
        for index, column, parse in self.parsers:
            cell = raw[index] if index < width else None
            try:
                values[column.field] = parse(cell)
            except CellError as exc:
                errors.append((column, cell, exc.reason))
        return values, errors


def _fields_function(
    names: list[str], shared: dict[str, Any], fresh: dict[str, Callable[[], Any]]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """`lambda v: {"name": v["name"], "sex": x if (x := v["sex"]) is not None else b1, …}`: the fields of
    a model from a row's values in one dict display (a third of the time of a filtering comprehension).
    Only field names (model attnames) and integers go into the source text."""
    blanks: dict[str, Any] = {}
    items = []
    for i, name in enumerate(names):
        if name in shared:
            blanks[f"b{i}"] = shared[name]
            items.append(f"{name!r}: (x if (x := v[{name!r}]) is not None else b{i})")
        elif name in fresh:
            blanks[f"b{i}"] = fresh[name]
            items.append(f"{name!r}: (x if (x := v[{name!r}]) is not None else b{i}())")
        else:
            items.append(f"{name!r}: v[{name!r}]")
    return eval(f"lambda v: {{{', '.join(items)}}}", {"__builtins__": {}, **blanks})  # noqa: S307


def _row_function(fast: list[tuple[int, str | None, Callable[[Any], Any]]]) -> Callable[[list[Any]], dict[str, Any]]:
    """`lambda raw: {"name": p0(raw[2]), "sex": p1(raw[3]), …}` for this sheet's columns: one dict display
    with constant keys and indexes, which runs at about twice the speed of a loop over the columns.
    Only field names (identifiers from the column specs) and integers go into the source text."""
    names = {f"p{i}": parse for i, (_, _, parse) in enumerate(fast)}
    items = ", ".join(f"{field!r}: p{i}(raw[{index:d}])" for i, (index, field, _) in enumerate(fast))
    return eval(f"lambda raw: {{{items}}}", {"__builtins__": {}, **names})  # noqa: S307
