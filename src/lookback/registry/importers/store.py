"""Writing rows in bulk, with their django-simple-history rows, below the ORM.

Why not `bulk_create_with_history`: a 1M-member file would build two million model instances and
compile their SQL value by value, which costs more than reading the file. Here rows are plain dicts
keyed by column attname; ids are reserved up front (so history rows and child rows can point at them
without RETURNING), inserts go through `executemany` on SQLite and `COPY` on PostgreSQL, updates
through one parametrised `UPDATE … WHERE id = …` executed many times. History rows carry exactly what
simple-history would write: the tracked fields, `history_date`, `history_type` (`+` or `~`), the user.

Values are adapted once per column the way Django would (aware datetimes to naive UTC text on SQLite,
JSON to text or `Jsonb`); everything else the database drivers adapt themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db import connection, models

_CHUNK = 5000


def _json_adapter() -> Callable[[Any], Any]:
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return lambda v: None if v is None else Jsonb(v)
    return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    if isinstance(field, models.JSONField):
        return _json_adapter()
    if isinstance(field, models.DateTimeField) and connection.vendor != "postgresql":
        return connection.ops.adapt_datetimefield_value
    return None


def _default(field: models.Field) -> Any:
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField):
        return ""
    return None


class TableWriter:
    """Inserts and updates rows of one model, writing a history row for each."""

    def __init__(self, model: type[models.Model], *, now: datetime, user_id: int | None, reason: str = "") -> None:
        self.model = model
        self.table = model._meta.db_table
        self.now = now
        self.user_id = user_id
        self.reason = reason[:100] or None
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.attnames = [f.attname for f in self.fields]
        self.columns = {f.attname: f.column for f in self.fields}
        self.defaults = {}
        for f in self.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self.defaults[f.attname] = now
            else:
                self.defaults[f.attname] = _default(f)
        self.adapters = {f.attname: _adapter(f) for f in self.fields}
        history = getattr(model, "history", None)
        self.history_model = history.model if history is not None else None
        if self.history_model is not None:
            skip = {"history_id", "history_date", "history_change_reason", "history_type", "history_user"}
            self.history_attnames = [
                f.attname for f in self.history_model._meta.concrete_fields if f.name not in skip and f.name != "id"
            ]
        self._next_id: int | None = None

    # ids ---------------------------------------------------------------------------------------------
    def reserve_ids(self, count: int) -> list[int]:
        if count == 0:
            return []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            if self._next_id is None:
                # Inside the import's write transaction nobody else can insert; sqlite_sequence keeps ids
                # of deleted rows from coming back (their history rows still carry them).
                cursor.execute(f'SELECT MAX("id") FROM "{self.table}"')
                top = cursor.fetchone()[0] or 0
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
                seq = cursor.fetchone()
                self._next_id = max(top, seq[0] if seq else 0) + 1
            first = self._next_id
            self._next_id += count
            return list(range(first, first + count))

    # writing -----------------------------------------------------------------------------------------
    def _values(self, row: dict[str, Any], names: list[str]) -> list[Any]:
        values = []
        for name in names:
            value = row[name] if name in row else self.defaults.get(name)
            adapt = self.adapters.get(name)
            values.append(adapt(value) if adapt is not None and value is not None else value)
        return values

    def insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert rows that already carry their reserved `id`; write a `+` history row for each."""
        if not rows:
            return
        columns = ["id", *(self.columns[n] for n in self.attnames)]
        self._insert(self.table, columns, ([row["id"], *self._values(row, self.attnames)] for row in rows))
        self._history(rows, "+")

    def update(self, rows: list[dict[str, Any]], changed_fields: Iterable[str]) -> None:
        """Update `changed_fields` (plus `updated_at`) of rows keyed by `id`; rows hold the full new state."""
        if not rows:
            return
        names = [n for n in self.attnames if n in set(changed_fields) or n == "updated_at"]
        for row in rows:
            if "updated_at" in self.defaults:
                row["updated_at"] = self.now
        sets = ", ".join(f'"{self.columns[n]}" = %s' for n in names)
        sql = f'UPDATE "{self.table}" SET {sets} WHERE "id" = %s'
        with connection.cursor() as cursor:
            for start in range(0, len(rows), _CHUNK):
                chunk = rows[start : start + _CHUNK]
                cursor.executemany(sql, [[*self._values(row, names), row["id"]] for row in chunk])
        self._history(rows, "~")

    def delete(self, ids: list[int]) -> None:
        with connection.cursor() as cursor:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f'DELETE FROM "{self.table}" WHERE "id" IN ({marks})', chunk)

    def _history(self, rows: list[dict[str, Any]], kind: str) -> None:
        if self.history_model is None:
            return
        names = self.history_attnames
        adapt_date = _adapter(models.DateTimeField())
        history_date = adapt_date(self.now) if adapt_date else self.now
        tail = [history_date, kind, self.user_id, self.reason]
        self._insert(
            self.history_model._meta.db_table,
            ["id", *names, "history_date", "history_type", "history_user_id", "history_change_reason"],
            ([row["id"], *self._values(row, names), *tail] for row in rows),
        )

    def _insert(self, table: str, columns: list[str], values: Iterable[list[Any]]) -> None:
        column_sql = ", ".join(f'"{c}"' for c in columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f'COPY "{table}" ({column_sql}) FROM STDIN') as copy:
                    for row in values:
                        copy.write_row(row)
                return
            sql = f'INSERT INTO "{table}" ({column_sql}) VALUES ({", ".join(["%s"] * len(columns))})'
            batch: list[list[Any]] = []
            for row in values:
                batch.append(row)
                if len(batch) >= _CHUNK:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
