"""Large inserts: a table's plain indexes dropped before and built again after, inside one transaction.

A first import of a million members, or a campaign's first rule run of half a million findings, inserts
keys in random order into B-trees larger than the database's cache; one sort per index at the end is
several times cheaper. The importer (`registry.importers.store.IndexDeferral`) and the rule engine
(`checks.engine`) both do it with what is here. Dropping and building happen inside the caller's
transaction, so a rollback leaves the indexes as they were.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection

_INDEX_COLUMNS = re.compile(r"\((.*)\)\s*$", re.S)


@dataclass(frozen=True)
class PlainIndex:
    name: str
    sql: str  # the statement that builds it again
    columns: frozenset[str]  # empty when they could not be read
    partial: bool  # has a WHERE clause or indexes an expression


def plain_indexes(cursor: Any, table: str) -> list[PlainIndex]:
    """The table's indexes that only speed up reads: not the primary key, not unique, not behind a
    constraint."""
    if connection.vendor == "postgresql":
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(x.indexrelid),
                   ARRAY(SELECT a.attname FROM pg_attribute a
                         WHERE a.attrelid = x.indrelid AND a.attnum = ANY(x.indkey)),
                   x.indexprs IS NOT NULL OR x.indpred IS NOT NULL
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND NOT x.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            """,
            [f'"{table}"'],
        )
        return [PlainIndex(name, sql, frozenset(columns), partial) for name, sql, columns, partial in cursor.fetchall()]
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
        [table],
    )
    found = []
    for name, sql in cursor.fetchall():
        if sql.upper().startswith("CREATE UNIQUE"):
            continue
        match = _INDEX_COLUMNS.search(sql)
        columns = frozenset(c.strip().strip('"') for c in match.group(1).split(",")) if match else frozenset()
        found.append(PlainIndex(name, sql, columns, partial=" WHERE " in sql.upper() or match is None))
    return found


@contextmanager
def constraint_checks_flushed(cursor: Any) -> Iterator[None]:
    """PostgreSQL refuses to drop or create an index, or alter a table, with foreign-key checks still
    pending (Django declares every foreign key DEFERRABLE INITIALLY DEFERRED). The checks due so far
    run now instead of at commit (same work, same outcome), and later ones are deferred again."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def build_indexes(cursor: Any, statements: list[str]) -> None:
    """Build dropped indexes (and re-add constraints) again, each by one sort."""
    if not statements:
        return
    if connection.vendor == "postgresql":
        # With the default 64 MB, building an index of a million rows spills to disk in many runs.
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    with constraint_checks_flushed(cursor):
        for sql in statements:
            cursor.execute(sql)
