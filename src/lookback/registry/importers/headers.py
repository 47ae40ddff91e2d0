"""Columns, sheet kinds and the one place that recognises a sheet's kind from its header row.

A sheet's kind is found by its headers, never by its name (`spec/import-format.md`, "General rules"):
the header row is the first of the first `HEADER_SCAN_ROWS` rows that holds every required header
of a kind. Headers are compared after `fold_header` (spaces, full-width forms and brackets, a leading
`*` that templates put on required columns); aliases count as the header itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from lookback.registry.importers import cells

HEADER_SCAN_ROWS = 20


def fold_header(value: Any) -> str:
    """`（元）` = `(元)`, `　户 编 号 ` = `户编号`, `*户编号` = `户编号`."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = re.sub(r"\s+", "", text)
    return text.lstrip("*＊").replace("【", "(").replace("】", ")").replace("[", "(").replace("]", ")")


@dataclass(frozen=True)
class Column:
    """One column of a sheet kind: its spec header, aliases, target field and parser."""

    header: str
    field: str | None
    parser: cells.Parser
    required: bool = False
    aliases: tuple[str, ...] = ()
    # Worth memoising: values repeat (code lists, yes/no, years). Not for names or ID numbers.
    repeats: bool = True
    # A code list for the template's drop-down, or ("是", "否") for yes/no columns.
    choices: tuple[str, ...] = ()
    note: str = ""  # shown in the template's header comment

    @property
    def names(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


@dataclass(frozen=True)
class KindSpec:
    """What the header recogniser needs to know about a sheet kind."""

    code: str
    label: str
    columns: tuple[Column, ...]
    order: int  # households before the sheets that refer to them
    # A dept list names its kind in a required `名单类型` column (or `--kind`); a sheet that merely holds
    # 证件号码 and 姓名 is no near miss of it.
    needs_naming: bool = False
    lookup: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for column in self.columns:
            for name in column.names:
                self.lookup.setdefault(fold_header(name), column)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def column_for(self, header: Any) -> Column | None:
        return self.lookup.get(fold_header(header))


@dataclass
class SheetPlan:
    """A recognised sheet: its kind, header row and which column index feeds which spec column."""

    sheet: str
    kind: KindSpec | None
    header_row: int  # 1-based row number as the spreadsheet shows it; 0 when not found
    mapping: list[tuple[int, Column]] = field(default_factory=list)
    extras: list[tuple[int, str]] = field(default_factory=list)  # unknown columns: index, header text
    duplicates: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # required headers missing (near-miss sheets)
    headers: list[str] = field(default_factory=list)  # the header row as written
    empty: bool = False

    @property
    def recognised(self) -> bool:
        return self.kind is not None and not self.missing


def _row_headers(row: list[Any]) -> set[str]:
    return {fold_header(v) for v in row if not cells.is_empty(v)}


def _matches(kind: KindSpec, folded: set[str]) -> list[str]:
    """Required headers of `kind` missing from a row."""
    return [c.header for c in kind.required if not any(fold_header(n) in folded for n in c.names)]


def recognise(sheet: str, first_rows: list[list[Any]], kinds: list[KindSpec]) -> SheetPlan:
    """Find the header row and kind of a sheet from its first rows.

    The most specific kind wins (the one with the most required headers, all present): a member sheet
    also holds a dept list's 证件号码 and 姓名. When nothing matches, the closest kind (at least half
    of its required headers present) names what is missing, so the user learns which header to fix.
    """
    best_near: tuple[float, int, KindSpec, list[str]] | None = None
    non_empty = False
    for index, row in enumerate(first_rows[:HEADER_SCAN_ROWS]):
        folded = _row_headers(row)
        if not folded:
            continue
        non_empty = True
        candidates = []
        for kind in kinds:
            missing = _matches(kind, folded)
            if not missing:
                candidates.append(kind)
            elif not kind.needs_naming:
                present = len(kind.required) - len(missing)
                ratio = present / len(kind.required)
                if present >= 2 and ratio >= 0.5 and (best_near is None or ratio > best_near[0]):
                    best_near = (ratio, index, kind, missing)
        if candidates:
            kind = max(candidates, key=lambda k: (len(k.required), -k.order))
            return _plan(sheet, kind, index, row)
    if best_near is not None:
        _, index, kind, missing = best_near
        plan = _plan(sheet, kind, index, first_rows[index])
        plan.missing = missing
        return plan
    return SheetPlan(sheet=sheet, kind=None, header_row=0, empty=not non_empty)


def _plan(sheet: str, kind: KindSpec, index: int, row: list[Any]) -> SheetPlan:
    plan = SheetPlan(sheet=sheet, kind=kind, header_row=index + 1, headers=[cells.shown(v).strip() for v in row])
    seen: set[str] = set()
    for col_index, value in enumerate(row):
        if cells.is_empty(value):
            continue
        column = kind.column_for(value)
        header_text = cells.shown(value).strip()
        if column is None:
            plan.extras.append((col_index, header_text))
        elif column.header in seen:
            # A second column for the same field: keep the first, carry the second as an extra.
            plan.duplicates.append(header_text)
            plan.extras.append((col_index, header_text))
        else:
            seen.add(column.header)
            plan.mapping.append((col_index, column))
    return plan
