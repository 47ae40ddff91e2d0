"""Importing spreadsheets: the service entry points used by the command line, the web pages and the
background task. The format is `spec/import-format.md`; the work is in `registry/importers/`.

An import is atomic per file: the whole file is written in one transaction, rolled back as soon as
the file is known to hold an error, and the user gets an error report instead. Each file is recorded
as an `ImportBatch` (who, when, file, SHA-256, counts, warnings, errors).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from lookback.accounts.roles import IMPORT_DATA
from lookback.registry.importers import engine, names, report
from lookback.registry.importers.base import MAX_ISSUES, Context, Counts, Issue, Options
from lookback.registry.importers.readers import SUFFIXES, UnreadableFile
from lookback.registry.models import ImportBatch, NationalSnapshot

logger = logging.getLogger(__name__)

# Issues stored on the batch row itself (the report file has them all).
BATCH_ISSUES = 1000
BULK_CACHE_KIB = 64 * 1024  # SQLite page cache during an import (default: 2 MB)


class ImportNotAllowed(PermissionError):
    pass


def imports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def scope_of(user: Any) -> tuple[str, str]:
    """(code prefix the rows must start with, division code recorded on the batch) for an importer."""
    if user is None:
        return "", ""  # the command line without --user: the whole table
    if not user.can(IMPORT_DATA):
        raise ImportNotAllowed(gettext("您没有导入数据的权限"))
    prefix = user.scope_prefix
    if prefix is None:
        raise ImportNotAllowed(gettext("您的账号没有管辖范围，不能导入数据"))
    scope = getattr(user, "scope", None)
    return prefix, scope.code if scope is not None else ""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def progress_path(batch_id: int) -> Path:
    return imports_dir() / "progress" / f"{batch_id}.txt"


def read_progress(batch: ImportBatch) -> int:
    """Progress of a running import. It is written to a small file because the import's own
    transaction holds the database (SQLite) and would hide an in-transaction update until the end."""
    if batch.status != ImportBatch.Status.RUNNING:
        return batch.progress
    try:
        return max(batch.progress, int(progress_path(batch.pk).read_text() or 0))
    except (OSError, ValueError):
        return batch.progress


def _progress_writer(batch_id: int | None) -> Any:
    if batch_id is None:
        return None
    path = progress_path(batch_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    last = [-1, 0.0]

    def write(percent: int) -> None:
        # At most twice a second: the page polls every few seconds, and a file write costs more than
        # the rows between two percents of a small file.
        percent = min(max(percent, 0), 99)
        now = time.monotonic()
        if percent != last[0] and now - last[1] >= 0.5:
            last[0], last[1] = percent, now
            path.write_text(str(percent))

    return write


def options_of(batch: ImportBatch) -> Options:
    raw = batch.details.get("options", {})
    snapshot_date = raw.get("snapshot_date")
    return Options(
        kind=raw.get("kind", ""),
        as_national_snapshot=bool(raw.get("as_national_snapshot")),
        snapshot_date=date.fromisoformat(snapshot_date) if snapshot_date else None,
        dry_run=bool(raw.get("dry_run")),
    )


def _options_dict(options: Options) -> dict[str, Any]:
    data = asdict(options)
    data["snapshot_date"] = options.snapshot_date.isoformat() if options.snapshot_date else None
    return data


def create_batch(*, user: Any, path: Path, file_name: str, options: Options) -> ImportBatch:
    """A pending batch for a stored file (the web upload); `run_batch` imports it."""
    _, scope_code = scope_of(user)
    return ImportBatch.objects.create(
        created_by=user,
        file_name=file_name[:255],
        sha256=file_sha256(path),
        division_code=scope_code,
        status=ImportBatch.Status.PENDING,
        details={"path": str(path), "options": _options_dict(options)},
    )


def import_file(
    *,
    path: Path | str,
    user: Any = None,
    options: Options | None = None,
    file_name: str | None = None,
) -> ImportBatch:
    """Import one file now (command line, tests). Returns its batch; `batch.status` says how it went."""
    path = Path(path)
    options = options or Options()
    if options.dry_run:
        return _run(
            ImportBatch(created_by=user, file_name=file_name or path.name, sha256=file_sha256(path)),
            path,
            user,
            options,
        )
    batch = create_batch(user=user, path=path, file_name=file_name or path.name, options=options)
    return run_batch(batch=batch)


def import_files(*, paths: list[Path], user: Any = None, options: Options | None = None) -> list[ImportBatch]:
    """Several files, households first, so that a member file can refer to a household file."""
    options = options or Options()
    ordered = sorted(paths, key=lambda p: _file_order(p, options)) if len(paths) > 1 else paths
    return [import_file(path=p, user=user, options=options) for p in ordered]


def _file_order(path: Path, options: Options) -> int:
    try:
        orders = [p.plan.kind.order for p in engine.preview(path, options, sample_rows=0) if p.plan.kind]
    except Exception:  # an unreadable file is reported by its own import
        return 99
    return min(orders, default=99)


def run_batch(*, batch: ImportBatch) -> ImportBatch:
    """Import a pending batch's file (in the background task, or directly)."""
    path = Path(batch.details.get("path", ""))
    return _run(batch, path, batch.created_by, options_of(batch))


def _run(batch: ImportBatch, path: Path, user: Any, options: Options) -> ImportBatch:
    prefix, scope_code = scope_of(user)
    saved = batch.pk is not None
    if saved:
        batch.status = ImportBatch.Status.RUNNING
        batch.progress = 0
        batch.save(update_fields=["status", "progress"])
    now = timezone.now()
    ctx = Context(
        user=user,
        scope_prefix=prefix,
        batch_id=batch.pk,
        now=now,
        options=options,
        reason=gettext("导入：%(file)s") % {"file": batch.file_name},
        progress=_progress_writer(batch.pk),
    )
    plans = []
    try:
        # The write-behind is left (its writes finished) before the transaction commits or rolls back.
        # Foreign keys are switched off (SQLite) outside the transaction, where the switch works.
        with (
            _bulk_session(),
            _no_cyclic_gc(),
            _foreign_keys_checked_at_end() as checked_at_end,
            transaction.atomic(),
            ctx.behind,
        ):
            if options.as_national_snapshot:
                ctx.snapshot = _snapshot(options, scope_code, batch)
            plans = engine.run_file(path, ctx)
            if ctx.error_count or options.dry_run:
                transaction.set_rollback(True)  # dropped indexes come back with the rollback
            else:
                if checked_at_end:
                    # A dangling reference raises IntegrityError here: the import rolls back, FAILED.
                    connection.check_constraints(table_names=sorted(_checked_tables(ctx)))
                ctx.indexes.restore()
                ctx.analyse()
    except Exception as exc:  # a bug or a database failure: recorded on the batch, never half-stored
        logger.exception("import of %s failed", batch.file_name)
        batch.status = ImportBatch.Status.FAILED
        message = gettext("导入时发生内部错误（%(error)s），没有写入任何数据。请联系系统管理员。")
        ctx.error("", None, "", "", message % {"error": type(exc).__name__})
        _finish(batch, ctx, plans, path, saved, status=ImportBatch.Status.FAILED)
        return batch
    status = ImportBatch.Status.REJECTED if ctx.error_count else ImportBatch.Status.STORED
    _finish(batch, ctx, plans, path, saved, status=status)
    return batch


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause Python's cycle collector while a file is read: it would walk the millions of live objects
    of a large import again and again (a tenth of the CPU time), and the import makes few cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        names.initials.cache_clear()


@contextmanager
def _bulk_session() -> Iterator[None]:
    """A bigger page cache while SQLite inserts a large file: with the default 2 MB, every index of a
    growing table misses the cache and the inserts slow to a crawl. Restored afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


@contextmanager
def _foreign_keys_checked_at_end() -> Iterator[bool]:
    """SQLite checks each inserted row's foreign keys as it is written (1M members and their households:
    2.2 s of a 15 s insert); for the import's transaction they are switched off, and checked instead by
    one pass over each written table before commit (`connection.check_constraints`). Yields whether
    they are off: SQLite ignores the switch inside a transaction (an import run inside an outer
    `atomic`, as in tests), and then every row is still checked as it is written. PostgreSQL checks
    them at commit anyway (and `IndexDeferral` drops and adds back the members' one)."""
    if connection.vendor != "sqlite":
        yield False
        return
    off = connection.disable_constraint_checking()
    try:
        yield off
    finally:
        if off:
            connection.enable_constraint_checking()


def _checked_tables(ctx: Context) -> set[str]:
    """The tables the import wrote rows to: its writers' (with their history tables) and the snapshot's."""
    tables = set(ctx.behind.written)
    if ctx.snapshot is not None:
        tables.add(NationalSnapshot._meta.db_table)
    return tables


def _snapshot(options: Options, scope_code: str, batch: ImportBatch) -> NationalSnapshot:
    snapshot_date = options.snapshot_date or timezone.localdate()
    snapshot, created = NationalSnapshot.objects.get_or_create(
        snapshot_date=snapshot_date, division_code=scope_code, defaults={"batch_id": batch.pk}
    )
    if not created and batch.pk:
        snapshot.batch_id = batch.pk
        snapshot.save(update_fields=["batch"])
    return snapshot


def _finish(batch: ImportBatch, ctx: Context, plans: list, path: Path, saved: bool, *, status: str) -> None:
    totals = Counts()
    if status != ImportBatch.Status.STORED:
        ctx.counts.clear()  # nothing was stored: counts of rows checked before an error would mislead
    for counts in ctx.counts.values():
        totals.new += counts.new
        totals.updated += counts.updated
        totals.unchanged += counts.unchanged
    batch.status = status
    batch.progress = 100
    if not batch.division_code and ctx.common_prefix:
        # Imported without a scope (command line, administrator): file it under the place its rows
        # share, so the county or city it concerns sees it in its history.
        batch.division_code = division_for_prefix(ctx.common_prefix)
    batch.rows_new, batch.rows_updated, batch.rows_unchanged = totals.new, totals.updated, totals.unchanged
    batch.kind = ",".join(dict.fromkeys(p.kind.code for p in plans if p.kind and p.recognised))[:40]
    _sort_issues(ctx.errors)
    _sort_issues(ctx.warnings)
    batch.errors = [i.as_dict() for i in ctx.errors[:BATCH_ISSUES]]
    batch.warnings = [i.as_dict() for i in ctx.warnings[:BATCH_ISSUES]]
    details = dict(batch.details or {})
    details.update(
        {
            "error_count": ctx.error_count,
            "warning_count": ctx.warning_count,
            "counts": {kind: asdict(c) for kind, c in ctx.counts.items()},
            "sheets": [
                {
                    "sheet": p.sheet,
                    "kind": p.kind.code if p.kind else "",
                    "label": p.kind.label if p.kind else "",
                    "header_row": p.header_row,
                    "recognised": p.recognised,
                }
                for p in plans
            ],
            "dry_run": ctx.options.dry_run,
            "snapshot_id": ctx.snapshot.pk if ctx.snapshot is not None and status == "stored" else None,
        }
    )
    batch.details = details
    if ctx.error_count:
        prefix = batch.pk or "dry-run-" + uuid.uuid4().hex[:8]
        name = f"{prefix}-{Path(batch.file_name).stem}-{gettext('错误报告')}.xlsx"
        target = imports_dir() / "reports" / name
        try:
            report.write_report(
                target,
                path,
                errors=ctx.errors,
                warnings=ctx.warnings,
                error_count=ctx.error_count,
                warning_count=ctx.warning_count,
                plans=plans,
            )
            batch.report_path = str(target)
        except Exception:  # the report is a courtesy; the errors are on the batch anyway
            logger.exception("error report for %s failed", batch.file_name)
    if saved:
        batch.save()
        progress_path(batch.pk).unlink(missing_ok=True)


def division_for_prefix(prefix: str) -> str:
    """The code of the smallest division containing every code that starts with `prefix`."""
    from lookback.divisions.models import PREFIX_LENGTH, Division

    for length in sorted(PREFIX_LENGTH.values(), reverse=True):
        if len(prefix) >= length:
            candidates = Division.objects.filter(code__startswith=prefix[:length])
            division = next((d for d in candidates.order_by("code")[:1] if d.prefix == prefix[:length]), None)
            if division is not None:
                return division.code
    return ""


def _sort_issues(issues: list[Issue]) -> None:
    """Sheets in file order, rows in order within a sheet (checks made per chunk report late)."""
    order: dict[str, int] = {}
    for issue in issues:
        order.setdefault(issue.sheet, len(order))
    issues.sort(key=lambda i: (order[i.sheet], i.row or 0))


# web uploads ---------------------------------------------------------------------------------------------


def store_upload(uploaded: UploadedFile) -> Path:
    """Keep an uploaded file under LOOKBACK_DATA_DIR/imports/uploads/<random>/<its name>."""
    name = Path(uploaded.name or "upload").name
    folder = imports_dir() / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    target = folder / name
    with target.open("wb") as fh:
        for chunk in uploaded.chunks():
            fh.write(chunk)
    return target


def accepted_suffix(name: str) -> bool:
    return Path(name).suffix.lower() in SUFFIXES


def create_upload(*, user: Any, files: list[UploadedFile], options: Options) -> tuple[str, list[ImportBatch]]:
    """Store uploaded files and create a pending batch for each, with a preview of its sheets.

    Returns the upload's token (its page) and the batches; they are imported once the user confirms.
    """
    scope_of(user)
    token = uuid.uuid4().hex
    batches = []
    for uploaded in files:
        path = store_upload(uploaded)
        batch = create_batch(user=user, path=path, file_name=path.name, options=options)
        preview, order = preview_details(path, options)
        batch.details.update({"upload": token, "preview": preview, "order": order})
        batch.save(update_fields=["details"])
        batches.append(batch)
    return token, batches


SAMPLE_ROWS = 3
SAMPLE_WIDTH = 40


def preview_details(path: Path, options: Options) -> tuple[list[dict[str, Any]], int]:
    """What the upload page shows of a file before importing it: each sheet's kind, header row, how
    its columns map to the spec's, which required headers are missing, a few rows. Also the order in
    which the file should be imported among others (households first)."""
    try:
        sheets = engine.preview(path, options, sample_rows=SAMPLE_ROWS)
    except UnreadableFile as exc:
        return [{"sheet": "", "error": str(exc)}], 99
    result = []
    order = 99
    for sheet in sheets:
        plan = sheet.plan
        mapped = dict(plan.mapping)
        extras = dict(plan.extras)
        columns = []
        for index, header in enumerate(plan.headers):
            if not header:
                continue
            column = mapped.get(index)
            if column is not None:
                columns.append({"header": header, "target": column.header, "required": column.required})
            elif index in extras:
                columns.append({"header": header, "target": "", "required": False})
        present = {c.header for c in mapped.values()}
        spec_columns = plan.kind.columns if plan.kind else ()
        absent = [c.header for c in spec_columns if c.header not in present and not c.required]
        width = max((i for i in (*mapped, *extras)), default=-1) + 1
        sample = [[(v or "")[:SAMPLE_WIDTH] for v in row[:width]] for row in sheet.sample]
        if plan.kind is not None and not plan.missing:
            order = min(order, plan.kind.order)
        result.append(
            {
                "sheet": plan.sheet,
                "kind": plan.kind.code if plan.kind else "",
                "label": plan.kind.label if plan.kind else "",
                "header_row": plan.header_row,
                "columns": columns,
                "missing": plan.missing,
                "absent": absent,
                "sample": sample,
                "headers": [c["header"] for c in columns],
            }
        )
    return result, order


def start_import(*, user: Any, batches: list[ImportBatch]) -> None:
    """Queue the pending batches (one task: files run in order, households first)."""
    from lookback.registry.tasks import import_batches

    pending = [b for b in batches if b.status == ImportBatch.Status.PENDING and not b.details.get("queued")]
    if not pending:
        return
    ordered = sorted(pending, key=lambda b: b.details.get("order", 99))
    ids = [b.pk for b in ordered]
    for batch in ordered:
        # Still pending (排队中) until a worker picks it up; "queued" tells it from an unconfirmed upload.
        batch.details["queued"] = True
        batch.save(update_fields=["details"])
    import_batches.enqueue(batch_ids=ids)


def discard_upload(*, batch: ImportBatch) -> None:
    """Forget a pending upload the user did not import."""
    path = Path(batch.details.get("path", ""))
    if path.parent.parent == imports_dir() / "uploads":
        shutil.rmtree(path.parent, ignore_errors=True)
    batch.delete()


def issues_of(batch: ImportBatch, which: str = "errors") -> list[Issue]:
    return [Issue.from_dict(d) for d in (batch.errors if which == "errors" else batch.warnings)]


__all__ = [
    "MAX_ISSUES",
    "ImportNotAllowed",
    "Options",
    "create_upload",
    "discard_upload",
    "import_file",
    "import_files",
    "read_progress",
    "run_batch",
    "start_import",
]
