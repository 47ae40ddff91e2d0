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
import operator
import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models

from lookback.core.bulkload import build_indexes, constraint_checks_flushed, plain_indexes

_CHUNK = 5000
# Ids reserved at most at once ahead of need (PostgreSQL, a table the import fills from empty). Ids an
# import does not use are skipped, as after any rolled-back insert.
ID_BLOCK = 200_000
# Writes queued behind the main thread at most; beyond, it waits for the oldest (memory stays bounded).
MAX_QUEUED_WRITES = 6

# sqlite3 has an adapter for int but none for bool, a subclass of int: for each bool parameter it first
# looks for `__adapt__` and `__conform__` (two failed attribute lookups, each raising and clearing an
# AttributeError) and only then binds it as the int it is. Registered, a bool costs one dictionary
# lookup and `int()` and is stored exactly as before, 1 or 0 (1M members with 7 booleans each: 14.3 s
# of executemany instead of 11.9 s). Process-wide, like the adapters Django's SQLite backend registers;
# it does not touch the fast path for int, float and str (only adapting those would).
sqlite3.register_adapter(bool, int)


def _json_adapter() -> Callable[[Any], Any]:
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return Jsonb
    return _json_text


def _json_text(value: Any) -> str:
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    if type(value) is list and len(value) <= 8 and all(type(item) is str for item in value):
        # Lists of a few codes (健康状况 of a million members) come in a handful of combinations: each
        # is written out once. Only lists of text: [1] and [True] are equal tuples but not equal JSON.
        key = tuple(value)
        text = _LIST_TEXTS.get(key)
        if text is None:
            text = json.dumps(value, ensure_ascii=False)
            if len(_LIST_TEXTS) < 10_000:
                _LIST_TEXTS[key] = text
        return text
    return json.dumps(value, ensure_ascii=False)


_LIST_TEXTS: dict[tuple[str, ...], str] = {}


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a non-null value of `field` must be handed to the driver (None: as it is)."""
    if isinstance(field, models.JSONField):
        return _json_adapter()
    if isinstance(field, models.DateTimeField) and connection.vendor != "postgresql":
        adapt = connection.ops.adapt_datetimefield_value
        # Constant timestamps (created_at of new rows) arrive already adapted, as text.
        return lambda v: adapt(v) if isinstance(v, datetime) else v
    return None


def _utc(value: str | datetime) -> datetime:
    # Django's SQLite connection already parses declared datetime columns, naive, in UTC.
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _decimal(value: Any) -> Decimal:
    # SQLite keeps decimals as INTEGER or REAL; repr() gives the shortest text that reads back the same.
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _reader(field: models.Field) -> Callable[[Any], Any] | None:
    """How a raw value of `field` from a plain cursor becomes what the importer compares it with."""
    if isinstance(field, models.JSONField):
        # Django has psycopg hand jsonb over as text (JSONField parses it), SQLite stores text. Most
        # rows hold an empty object or list: made directly, not parsed.
        return _json_value
    if connection.vendor == "postgresql":
        return None  # psycopg returns Decimal, date and aware datetimes itself
    if isinstance(field, models.DecimalField):
        return _decimal
    if isinstance(field, models.DateTimeField):
        return _utc
    if isinstance(field, models.DateField):
        return lambda v: date.fromisoformat(v) if isinstance(v, str) else v
    # Booleans stay 1 and 0: equal to True and False for the comparison, and written back the same.
    return None


def _json_value(value: Any) -> Any:
    if value == "{}":
        return {}
    if value == "[]":
        return []
    return json.loads(value) if isinstance(value, str) else value


def where_in(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    """`t."column" IN (%s, …)` and its parameters, for `TableWriter.fetch`."""
    if not values:
        return "1 = 0", []
    return f't."{column}" IN ({", ".join(["%s"] * len(values))})', list(values)


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

    def __init__(
        self,
        model: type[models.Model],
        *,
        now: datetime,
        user_id: int | None,
        reason: str = "",
        behind: WriteBehind | None = None,
        fresh: set[str] | None = None,
    ) -> None:
        self.model = model
        self.behind = behind or WriteBehind(threaded=False)
        self.fresh = fresh if fresh is not None else set()  # IndexDeferral.fresh
        self.table = model._meta.db_table
        self.now = now
        self.user_id = user_id
        self.reason = reason[:100] or None
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.attnames = [f.attname for f in self.fields]
        self.columns = {f.attname: f.column for f in self.fields}
        # What an existing row is read with to compare it: not when or by which batch it was written.
        self.compared = [n for n in self.attnames if n not in ("created_at", "updated_at", "batch_id")]
        adapters = {f.attname: _adapter(f) for f in self.fields}
        # now, as the driver takes it (text on SQLite): for created_at, updated_at and history_date.
        stamp = self.stamp = _adapter(models.DateTimeField())(now) if connection.vendor != "postgresql" else now
        automatic = {
            f.attname for f in self.fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        }
        self.defaults = {f.attname: stamp if f.attname in automatic else _default(f) for f in self.fields}
        # New rows go through COPY on PostgreSQL, which takes the timestamp as its ISO text (with its UTC
        # offset and microseconds: the same instant): psycopg would format the same datetime again for
        # every row (1M members: 6.6 s of COPY instead of 4.8 s).
        self._new_defaults = self.defaults
        if connection.vendor == "postgresql" and isinstance(now, datetime):
            self._new_defaults = {**self.defaults, **dict.fromkeys(automatic, now.isoformat())}
        self.adapters = adapters
        self._adapted = [(n, a) for n, a in adapters.items() if a is not None]
        # New rows never carry their own timestamps (the defaults, already adapted, fill them).
        # New rows go through COPY on PostgreSQL, where JSON travels as its text like any other value.
        json_fields = {f.attname for f in self.fields if isinstance(f, models.JSONField)}
        adapted_new = {n: _json_text if n in json_fields else a for n, a in self._adapted if n not in automatic}
        self._automatic = tuple(automatic)
        # A new row's values for the INSERT or COPY, in `columns` order, in one call (`_values_function`).
        self._new_values = _values_function(self.attnames, self._new_defaults, adapted_new, constant=automatic)
        self._stamped_values = _values_function(self.attnames, self.defaults, dict(self._adapted))
        self.readers = {f.attname: r for f in self.fields if (r := _reader(f)) is not None}
        history = getattr(model, "history", None)
        self.history_model = history.model if history is not None else None
        if self.history_model is not None:
            skip = {"history_id", "history_date", "history_change_reason", "history_type", "history_user"}
            self.history_attnames = [
                f.attname for f in self.history_model._meta.concrete_fields if f.name not in skip and f.name != "id"
            ]
        self._next_id: int | None = None
        self._block = [0, 0]  # ids reserved ahead and not handed out yet: [first, end)
        self.inserted = 0  # rows inserted by this writer (for fresh planner statistics afterwards)
        self._analysed_at = 0  # `inserted` when the table was last analysed

    # ids ---------------------------------------------------------------------------------------------
    def reserve_ids(self, count: int, ahead: int = 0) -> list[int]:
        """`count` ids for new rows. `ahead`: how many new rows the sheet is still expected to bring,
        these included (a hint; 0 if unknown)."""
        if count == 0:
            return []
        if self._block[1] - self._block[0] >= count:
            first = self._block[0]
            self._block[0] += count
            return list(range(first, first + count))
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if self.table in self.fresh:
                    # The import holds the table exclusively, so no one else's INSERT draws from its
                    # sequence meanwhile: one call moves it past a block of ids for this and the next
                    # chunks. A query per chunk would wait for the chunks written behind (every query
                    # does), and the main thread, and with it the reader process, would stand still
                    # while the server stores each chunk and its history rows.
                    size = max(count, min(ahead, ID_BLOCK))
                    cursor.execute(
                        "SELECT setval(s::regclass, nextval(s::regclass) + %s) FROM pg_get_serial_sequence(%s, 'id') s",
                        [size - 1, self.table],
                    )
                    last = cursor.fetchone()[0]
                    first = last - size + 1
                    self._block = [first + count, last + 1]
                    return list(range(first, first + count))
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

    # reading ---------------------------------------------------------------------------------------
    def fetch(
        self,
        where: str,
        params: list[Any],
        *,
        extra: tuple[tuple[str, str], ...] = (),
        join: str = "",
        unique_in_file: bool = False,
    ) -> list[dict[str, Any]]:
        """Existing rows (`id` and the compared fields, plus `extra` (alias, SQL) columns) as dicts.

        Read with a plain cursor, not `.values()`: Django's per-value converters cost more than the
        rest of a re-import. The values come back as the importer builds them (Decimal, date, aware
        datetime, parsed JSON), so that equal data compares equal.

        `unique_in_file`: the rows are looked up by keys that no two rows of the file share. Then a
        table that was empty when the import took it over holds only rows of other keys, and is not
        asked (a first load of 1M members: 200 lookups of 120 ms each on PostgreSQL).
        """
        if unique_in_file and self.table in self.fresh:
            return []
        names = ["id", *self.compared]
        select = ", ".join([*(f't."{self.columns.get(n, n)}"' for n in names), *(sql for _, sql in extra)])
        names += [alias for alias, _ in extra]
        readers = [(i, r) for i, n in enumerate(names) if (r := self.readers.get(n)) is not None]
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT {select} FROM "{self.table}" t {join} WHERE {where}', params)
            rows = cursor.fetchall()
        result = []
        for row in rows:
            if readers:
                row = list(row)
                for i, read in readers:
                    if row[i] is not None:
                        row[i] = read(row[i])
            result.append(dict(zip(names, row, strict=True)))
        return result

    # writing -----------------------------------------------------------------------------------------
    def _prepared(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each row with the defaults filled in and its values adapted for the driver."""
        prepared = []
        for row in rows:
            full = {**self.defaults, **row}
            for name, adapt in self._adapted:
                value = full[name]
                if value is not None:
                    full[name] = adapt(value)
            prepared.append(full)
        return prepared

    def insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert rows that already carry their reserved `id`; write a `+` history row for each."""
        if not rows:
            return
        stamped = any(name in row for row in rows for name in self._automatic)
        values = self._stamped_values if stamped else self._new_values
        self.inserted += len(rows)
        self._wrote()
        columns = ["id", *(self.columns[n] for n in self.attnames)]
        # On SQLite the rows are inserted here: sqlite3 holds the GIL while it binds each row and lets
        # it go only for the row's few microseconds of writing, so from the worker thread the two threads
        # would hand the GIL back and forth a million times.
        self.behind.run(
            _insert,
            self.table,
            columns,
            # Built here, not as the writer thread goes: the rows' dicts stay the importer's to change.
            list(map(values, rows)),
            here=connection.vendor == "sqlite",
        )
        self._history([row["id"] for row in rows], "+")
        if (
            connection.vendor == "postgresql"
            and self.table not in self.fresh  # never asked for a row while the file is stored
            and self.inserted >= max(ANALYSE_MIN_ROWS, 2 * self._analysed_at)
        ):
            # The file's own later chunks look rows up in this table too: statistics of the table as it
            # was would have the planner scan it whole for each chunk (1M members: 140 ms a chunk, 25 s
            # in all). Analysed each time it doubles, behind the writes.
            self._analysed_at = self.inserted
            self.behind.run(_execute, [(f'ANALYZE "{self.table}"', [])])

    def update(self, rows: list[dict[str, Any]], changed_fields: Iterable[str]) -> None:
        """Update `changed_fields` (plus `updated_at`) of rows keyed by `id`; rows hold the full new state."""
        if not rows:
            return
        names = [n for n in self.attnames if n in set(changed_fields) or n == "updated_at"]
        if "created_at" in self.defaults and self.history_model is not None:
            # Rows were read without their creation time; their history rows need it.
            created = dict(
                self.model._default_manager.filter(pk__in=[r["id"] for r in rows]).values_list("id", "created_at")
            )
            for row in rows:
                row["created_at"] = created.get(row["id"], row.get("created_at"))
        for row in rows:
            row.pop("updated_at", None)  # the default: now
        prepared = self._prepared(rows)
        self._wrote()
        sets = ", ".join(f'"{self.columns[n]}" = %s' for n in names)
        sql = f'UPDATE "{self.table}" SET {sets} WHERE "id" = %s'
        get = operator.itemgetter(*names, "id")
        with connection.cursor() as cursor:
            for start in range(0, len(prepared), _CHUNK):
                cursor.executemany(sql, list(map(get, prepared[start : start + _CHUNK])))
        self._history([row["id"] for row in rows], "~")

    def delete(self, ids: list[int]) -> None:
        self._wrote()
        with connection.cursor() as cursor:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f'DELETE FROM "{self.table}" WHERE "id" IN ({marks})', chunk)

    def _wrote(self) -> None:
        self.behind.written.add(self.table)
        if self.history_model is not None:
            self.behind.written.add(self.history_model._meta.db_table)

    def _history(self, ids: list[int], kind: str) -> None:
        """History rows copied by the database from the rows just written: one statement, no values
        travelling back and forth. They hold what simple-history would: the tracked fields, when, who,
        `+` or `~`, and the import as the change reason."""
        if self.history_model is None or not ids:
            return
        columns = ", ".join(f'"{n}"' for n in ["id", *self.history_attnames])
        tail = '"history_date", "history_type", "history_user_id", "history_change_reason"'
        head = f'INSERT INTO "{self.history_model._meta.db_table}" ({columns}, {tail}) SELECT {columns}, %s, %s, %s, %s'
        values = [self.stamp, kind, self.user_id, self.reason]
        statements = []
        if ids == list(range(ids[0], ids[0] + len(ids))):  # reserved ids are usually one run
            statements.append((f'{head} FROM "{self.table}" WHERE "id" BETWEEN %s AND %s', [*values, ids[0], ids[-1]]))
        else:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                statements.append((f'{head} FROM "{self.table}" WHERE "id" IN ({marks})', [*values, *chunk]))
        self.behind.run(_execute, statements)


def _values_function(
    names: list[str], defaults: dict[str, Any], adapters: dict[str, Callable[[Any], Any]], constant: Iterable[str] = ()
) -> Callable[[dict[str, Any]], tuple]:
    """`lambda r: (r["id"], c1, (a2(x) if (x := r.get("extra", d2)) is not None else None), r.get("name", d3), …)`:
    a row's `id` and field values, a missing field taking its default and a non-null value adapted for the
    driver, in one tuple display. Filling a copy of the defaults, adapting it and picking the values out
    cost twice as much (1M members: 2.2 s of the importing process's 11 s). `constant`: fields whose
    default, already adapted, every row takes (timestamps of new rows). Only attnames and integers go into
    the source."""
    env: dict[str, Any] = {}
    items = ["r['id']"]
    fixed = set(constant)
    for i, name in enumerate(names):
        default, adapt = defaults[name], adapters.get(name)
        if name in fixed:
            env[f"c{i}"] = default  # already as the driver takes it (the defaults of new rows)
            items.append(f"c{i}")
        elif adapt is None:
            env[f"d{i}"] = default
            items.append(f"r.get({name!r}, d{i})")
        else:
            env[f"d{i}"], env[f"a{i}"] = default, adapt
            items.append(f"(a{i}(x) if (x := r.get({name!r}, d{i})) is not None else None)")
    return eval(f"lambda r: ({', '.join(items)},)", {"__builtins__": {}, **env})  # noqa: S307


def _insert(raw: Any, table: str, columns: list[str], values: Iterable[tuple]) -> None:
    """New rows by COPY (PostgreSQL) or one executemany (SQLite), on the DB-API connection `raw`."""
    column_sql = ", ".join(f'"{c}"' for c in columns)
    if isinstance(raw, sqlite3.Connection):
        # sqlite3 takes the rows one by one from the iterator (Django's cursor would copy it first).
        sql = f'INSERT INTO "{table}" ({column_sql}) VALUES ({", ".join(["?"] * len(columns))})'
        raw.cursor().executemany(sql, values)
        return
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({column_sql}) FROM STDIN') as copy:
        for row in values:
            copy.write_row(row)


def _execute(raw: Any, statements: list[tuple[str, list[Any]]]) -> None:
    """Statements written with %s placeholders, on the DB-API connection `raw`."""
    if isinstance(raw, sqlite3.Connection):
        cursor = raw.cursor()
        for sql, params in statements:
            cursor.execute(sql.replace("%s", "?"), params)
        return
    with raw.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


class WriteBehind:
    """Runs the import's bulk writes (new rows and their history rows) on a worker thread, so that the
    database stores one chunk while the main thread reads and checks the next one.

    Still one connection and one transaction: the worker uses the DB-API connection under the main
    thread's Django connection (Django's wrapper is bound to its thread), and every query of the main
    thread first waits for the worker to finish (an execute wrapper), so the two never use the
    connection at once and each read sees every row written before it. A failed write stops the writes
    queued after it and is raised in the main thread at its next query or on leaving the `with`, as
    Django's error, so the import's transaction rolls back. Leave it before the transaction ends.

    Not threaded (`threaded=False`, or outside its `with`): each write runs at once, in the caller.
    """

    def __init__(self, threaded: bool = True) -> None:
        self.threaded = threaded
        self._executor: ThreadPoolExecutor | None = None
        self._pending: list[Future] = []
        self._failed = False
        self._hook: Any = None
        # Tables the import's writers wrote to (or deleted from), here or behind: the ones whose foreign
        # keys are checked before commit when SQLite's per-row checks are off (`services_import`).
        self.written: set[str] = set()

    def __enter__(self) -> WriteBehind:
        if self.threaded:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
            self._hook = connection.execute_wrapper(self._before_query)
            self._hook.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._executor is None:
            return
        try:
            if exc_type is None:
                self.wait()
            else:
                wait(self._pending)  # the main thread's error is the one raised
        finally:
            self._hook.__exit__(None, None, None)
            self._executor.shutdown(wait=True)
            self._executor, self._hook, self._pending = None, None, []

    def run(self, job: Callable[..., None], *args: Any, here: bool = False) -> None:
        """Queue `job(raw connection, *args)`; with `here`, run it in the caller after the queued ones."""
        connection.ensure_connection()
        raw = connection.connection
        if here:
            self.wait()
        if self._executor is None or here:
            with connection.wrap_database_errors:
                job(raw, *args)
            return
        if not self._failed:
            self._pending.append(self._executor.submit(self._guarded, job, raw, args))
            if len(self._pending) > MAX_QUEUED_WRITES:
                self._settle(self._pending.pop(0))

    def _settle(self, future: Future) -> None:
        error = future.exception()
        if error is not None:
            with connection.wrap_database_errors:
                raise error

    def _guarded(self, job: Callable[..., None], raw: Any, args: tuple) -> None:
        if self._failed:
            return
        try:
            job(raw, *args)
        except BaseException:
            self._failed = True
            raise

    def wait(self) -> None:
        """Wait until every write queued so far is done; raise the first failure."""
        pending, self._pending = self._pending, []
        for future in pending:
            self._settle(future)

    def _before_query(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self._pending:
            self.wait()
        return execute(sql, params, many, context)


# Columns the importers look rows up by (`TableWriter.fetch`): their indexes stay while a file is stored.
LOOKUP_COLUMNS = frozenset(
    {"id_number", "household_id", "household_no", "member_no", "snapshot_id", "helper_id", "kind", "name"}
)
# A sheet this long, adding at least this share of its table's rows, is stored with the table's other
# indexes dropped and built again at the end of the file: the database then sorts each index once instead
# of inserting a million random keys into B-trees larger than its page cache (SQLite: a third of the write
# time for 340,000 members and their history rows).
DEFER_MIN_ROWS = 50_000
DEFER_MIN_SHARE = 0.25


class IndexDeferral:
    """Secondary indexes dropped for a large import and restored before it commits. Both happen inside
    the import's transaction, so a rolled-back import leaves the indexes as they were.

    On PostgreSQL `DROP INDEX` holds an ACCESS EXCLUSIVE lock on the table until the import commits:
    nobody can read that registry table meanwhile (a first load of 300,000 households: a few minutes).
    Accepted because it only happens when the file adds a large share of the table (a first or nearly
    first load, when there is little to read yet); the import otherwise waits for the server to keep up
    B-trees far larger than its shared buffers, row by row, where one sort per index at the end is
    several times cheaper. Imports into an already filled table keep their indexes and block no reader.
    """

    def __init__(self) -> None:
        self.saved: list[str] = []
        self.tables: set[str] = set()
        self.locked: set[str] = set()  # tables this import holds exclusively (an index of theirs dropped)
        self.fresh: set[str] = set()  # locked tables that were empty: every row in them is this file's

    def defer(self, model: type[models.Model], expected_rows: int) -> None:
        if connection.vendor not in ("sqlite", "postgresql") or model._meta.db_table in self.tables:
            return
        self.tables.add(model._meta.db_table)
        if expected_rows < DEFER_MIN_ROWS:
            return
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{model._meta.db_table}"')
            if expected_rows < DEFER_MIN_SHARE * cursor.fetchone()[0]:
                return
            # The history table keeps its indexes: its rows come in the order of their keys (history id,
            # time, user, and mostly household), each landing at the right edge of its B-tree, cheaply;
            # built again at the end they were a fifth of the serial tail (1M members: 1.7 of 7 s).
            table = model._meta.db_table
            with constraint_checks_flushed(cursor):
                for index in plain_indexes(cursor, table):
                    if index.partial or not index.columns or index.columns & LOOKUP_COLUMNS:
                        continue
                    cursor.execute(f'DROP INDEX "{index.name}"')
                    self.saved.append(index.sql)
                    self.locked.add(table)
                if connection.vendor == "postgresql" and table in self.locked:
                    self._drop_foreign_keys(cursor, table)
            if table in self.locked:  # no one else can add rows until the import ends
                cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")')
                if not cursor.fetchone()[0]:
                    self.fresh.add(table)
                    self._drop_lookup_indexes(cursor, table)

    def _drop_lookup_indexes(self, cursor: Any, table: str) -> None:
        """A table that was empty is never asked for a row during its first load (`TableWriter.fetch`
        skips it): the indexes of the lookup columns, and on PostgreSQL the unique constraints, go too and
        come back by one sort each. Kept up row by row they cost PostgreSQL 14.2 s instead of 1.6 s for a
        million members. A key that the file holds twice fails the constraint when it is added back,
        and the import rolls back, as it would have at the insert."""
        with constraint_checks_flushed(cursor):
            for index in plain_indexes(cursor, table):
                if index.partial or not index.columns:
                    continue
                cursor.execute(f'DROP INDEX "{index.name}"')
                self.saved.append(index.sql)
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE contype = 'u' AND conrelid = %s::regclass",
                    [f'"{table}"'],
                )
                for name, definition in cursor.fetchall():
                    cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                    self.saved.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                # Unique indexes with an operator class (`UniqueConstraint(opclasses=...)`) are not
                # constraints to PostgreSQL.
                cursor.execute(
                    """
                    SELECT i.relname, pg_get_indexdef(x.indexrelid)
                    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                    WHERE x.indrelid = %s::regclass AND x.indisunique AND NOT x.indisprimary
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
                    """,
                    [f'"{table}"'],
                )
                for name, definition in cursor.fetchall():
                    cursor.execute(f'DROP INDEX "{name}"')
                    self.saved.append(definition)

    def _drop_foreign_keys(self, cursor: Any, table: str) -> None:
        """Drop the table's foreign keys to tables this import already holds exclusively (members to
        households), to be added again by `restore`: PostgreSQL checks a deferred foreign key row by row
        at commit (1M members: about 3 s), where adding it back checks every row with one join.

        Only between tables already locked: dropping a foreign key locks the table it refers to
        exclusively too, and the import must not lock out readers of batches, places or users."""
        cursor.execute(
            """
            SELECT c.conname, pg_get_constraintdef(c.oid), r.relname
            FROM pg_constraint c JOIN pg_class r ON r.oid = c.confrelid
            WHERE c.contype = 'f' AND c.conrelid = %s::regclass
            """,
            [f'"{table}"'],
        )
        for name, definition, referenced in cursor.fetchall():
            if referenced in self.locked:
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                self.saved.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')

    def restore(self) -> None:
        if not self.saved:
            return
        statements, self.saved = self.saved, []
        with connection.cursor() as cursor:
            build_indexes(cursor, statements)


# A table that grew by this many rows is analysed before the import commits (PostgreSQL): until the
# autovacuum daemon gets to it, the planner would go on reading it as the small table it was, and look
# rows up by scanning it (a re-import of 1M members: 0.28 s instead of 0.09 s per 5,000-row chunk).
ANALYSE_MIN_ROWS = 10_000


def analyse(writers: Iterable[TableWriter]) -> None:
    if connection.vendor != "postgresql":
        return
    tables = sorted({w.table for w in writers if w.inserted >= ANALYSE_MIN_ROWS})
    if tables:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(f'"{t}"' for t in tables))
