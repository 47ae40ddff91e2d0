"""Loads a statistical division table (`code,name,level,parent_code`) into `Division`."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

BUNDLED_TABLE = Path(__file__).resolve().parent / "data" / "fuzhou-divisions-2018.csv"
LEVELS = ("province", "city", "county", "township", "village")


class DivisionTableError(ValueError):
    """A row the loader cannot accept; the message names the line."""


@dataclass
class LoadResult:
    created: int
    updated: int


def read_table(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"code", "name", "level", "parent_code"} - set(reader.fieldnames or [])
    if missing:
        raise DivisionTableError(f"缺少列：{', '.join(sorted(missing))}")
    rows = []
    codes = set()
    for line_no, row in enumerate(reader, start=2):
        code = (row["code"] or "").strip()
        if len(code) != 12 or not code.isdigit():
            raise DivisionTableError(f"第 {line_no} 行：代码“{code}”不是12位数字")
        if row["level"] not in LEVELS:
            raise DivisionTableError(f"第 {line_no} 行：级别“{row['level']}”不是 {'/'.join(LEVELS)} 之一")
        if code in codes:
            raise DivisionTableError(f"第 {line_no} 行：代码 {code} 重复")
        codes.add(code)
        rows.append({k: (v or "").strip() for k, v in row.items()})
    for line_no, row in enumerate(rows, start=2):
        if row["parent_code"] and row["parent_code"] not in codes:
            raise DivisionTableError(f"第 {line_no} 行：上级代码 {row['parent_code']} 不在表中")
    return rows


def load_table(text: str, division_model=None) -> LoadResult:
    """Insert or update every row; parents before children. Usable from migrations (pass the model)."""
    if division_model is None:
        from lookback.divisions.models import Division as division_model
    rows = read_table(text)
    rows.sort(key=lambda r: (LEVELS.index(r["level"]), r["code"]))
    existing = {d.code: d for d in division_model.objects.all()}
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            parent = existing.get(row["parent_code"]) if row["parent_code"] else None
            division = existing.get(row["code"])
            if division is None:
                division = division_model.objects.create(
                    code=row["code"], name=row["name"], level=row["level"], parent=parent
                )
                existing[division.code] = division
                created += 1
            elif (division.name, division.level, division.parent_id) != (
                row["name"],
                row["level"],
                parent.pk if parent else None,
            ):
                division.name, division.level, division.parent = row["name"], row["level"], parent
                division.save()
                updated += 1
    return LoadResult(created=created, updated=updated)


def load_bundled(division_model=None) -> LoadResult:
    return load_table(BUNDLED_TABLE.read_text(encoding="utf-8"), division_model)
