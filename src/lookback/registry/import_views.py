"""Import pages: upload (several files, drag and drop), preview of the recognised sheets and their
column mapping, the import running in the background with a progress bar (htmx polling, so a reload
finds it again), the batch page with its errors and report, the history, the blank templates, and the
national snapshot comparison."""

from __future__ import annotations

from functools import wraps
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from lookback.accounts.roles import IMPORT_DATA
from lookback.registry import import_selectors, snapshots
from lookback.registry.import_forms import ImportUploadForm
from lookback.registry.importers.blank import template_kinds, write_template
from lookback.registry.importers.engine import DEPT_KINDS, SHEET_KINDS
from lookback.registry.models import ImportBatch
from lookback.registry.services_import import (
    ImportNotAllowed,
    Options,
    create_upload,
    discard_upload,
    imports_dir,
    read_progress,
    start_import,
)

SHOWN_ISSUES = 200
PAGE_SIZE = 30


def can_import(view: Any) -> Any:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.can(IMPORT_DATA):
            raise PermissionDenied(_("您没有导入数据的权限。"))
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _batch_or_404(request: HttpRequest, pk: int) -> ImportBatch:
    batch = import_selectors.get_batch(request.user, pk)
    if batch is None:
        raise Http404(_("找不到该导入批次，或它不在您的管辖范围内。"))
    return batch


def _kind_label(code: str) -> str:
    labels = {**SHEET_KINDS, **DEPT_KINDS, "dept": _("部门比对名单")}
    parts = [labels.get(c.removeprefix("dept:"), c) for c in code.split(",") if c]
    return "、".join(parts)


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(import_selectors.batches_for_user(request.user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    for batch in page:
        batch.kind_label = _kind_label(batch.kind)
        batch.current_progress = read_progress(batch)
    context = {"page": page, "query": "", "can_import": request.user.can(IMPORT_DATA)}
    return render(request, "registry/import_list.html", context)


@can_import
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ImportUploadForm(request.POST, files_list=request.FILES.getlist("files"))
        if form.is_valid():
            options = Options(
                kind=form.cleaned_data["kind"] or "",
                as_national_snapshot=form.cleaned_data["as_national_snapshot"],
                snapshot_date=form.cleaned_data["snapshot_date"],
            )
            try:
                token, _batches = create_upload(user=request.user, files=form.files_list, options=options)
            except ImportNotAllowed as exc:
                raise PermissionDenied(str(exc)) from exc
            return redirect("imports:upload_detail", token=token)
        return render(request, "registry/import_upload.html", {"form": form}, status=400)
    return render(request, "registry/import_upload.html", {"form": ImportUploadForm()})


@can_import
def upload_detail(request: HttpRequest, token: str) -> HttpResponse:
    """One upload: before the import, the preview and a start button; after, each file's progress."""
    batches = import_selectors.upload_batches(request.user, token)
    if not batches:
        raise Http404(_("找不到这次上传。"))
    for batch in batches:
        batch.kind_label = _kind_label(batch.kind)
        batch.current_progress = read_progress(batch)
    pending = [b for b in batches if b.status == ImportBatch.Status.PENDING and not b.details.get("queued")]
    context = {
        "token": token,
        "batches": batches,
        "pending": bool(pending),
        "ready": any(s.get("kind") and not s.get("missing") for b in pending for s in b.details.get("preview", [])),
        "options": batches[0].details.get("options", {}),
        "kind_label": _kind_label(batches[0].details.get("options", {}).get("kind", "")),
    }
    return render(request, "registry/import_upload_detail.html", context)


@can_import
@require_POST
def upload_start(request: HttpRequest, token: str) -> HttpResponse:
    batches = import_selectors.upload_batches(request.user, token)
    if not batches:
        raise Http404(_("找不到这次上传。"))
    start_import(user=request.user, batches=batches)
    return redirect("imports:upload_detail", token=token)


@can_import
@require_POST
def upload_discard(request: HttpRequest, token: str) -> HttpResponse:
    batches = import_selectors.upload_batches(request.user, token)
    for batch in batches:
        if batch.status == ImportBatch.Status.PENDING and not batch.details.get("queued"):
            discard_upload(batch=batch)
    messages.info(request, _("已放弃这次上传。"))
    return redirect("imports:list")


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(request, pk)
    batch.kind_label = _kind_label(batch.kind)
    details = batch.details or {}
    context = {
        "batch": batch,
        "progress": read_progress(batch),
        "errors": batch.errors[:SHOWN_ISSUES],
        "warnings": batch.warnings[:SHOWN_ISSUES],
        "error_count": details.get("error_count", len(batch.errors)),
        "warning_count": details.get("warning_count", len(batch.warnings)),
        "counts": [(_kind_label(k), c) for k, c in details.get("counts", {}).items()],
        "shown": SHOWN_ISSUES,
        "snapshot_id": details.get("snapshot_id"),
    }
    return render(request, "registry/import_detail.html", context)


@login_required
def batch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx fragment: the progress bar, polling itself until the import is done, and the batch's status
    badge in the page's heading (swapped out of band, so it does not stay at 排队中 once it is done)."""
    batch = _batch_or_404(request, pk)
    batch.kind_label = _kind_label(batch.kind)
    context = {"batch": batch, "progress": read_progress(batch), "oob": True}
    return render(request, "registry/_import_progress.html", context)


@login_required
def batch_report(request: HttpRequest, pk: int) -> FileResponse:
    batch = _batch_or_404(request, pk)
    path = Path(batch.report_path) if batch.report_path else None
    reports = (imports_dir() / "reports").resolve()
    if path is None or not path.resolve().is_relative_to(reports) or not path.is_file():
        raise Http404(_("该批次没有错误报告。"))
    name = f"{Path(batch.file_name).stem}-错误报告.xlsx"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    sheets = [(c, label) for c, label in template_kinds() if c in SHEET_KINDS]
    depts = [(c, label) for c, label in template_kinds() if c in DEPT_KINDS]
    return render(request, "registry/import_templates.html", {"sheets": sheets, "depts": depts})


@login_required
def template_download(request: HttpRequest, code: str) -> HttpResponse:
    labels = dict(template_kinds())
    if code not in labels:
        raise Http404(_("没有这种模板。"))
    response = HttpResponse(
        write_template(code), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    filename = f"{labels[code]}导入模板.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def snapshot_list(request: HttpRequest) -> HttpResponse:
    items = snapshots.snapshots_for_user(request.user).select_related("batch", "batch__created_by")
    paginator = Paginator(items, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "registry/snapshot_list.html", {"page": page, "query": ""})


def _snapshot_or_404(request: HttpRequest, pk: int) -> Any:
    snapshot = snapshots.get_snapshot(request.user, pk)
    if snapshot is None:
        raise Http404(_("找不到该快照，或它不在您的管辖范围内。"))
    return snapshot


@login_required
def snapshot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    snapshot = _snapshot_or_404(request, pk)
    summary = snapshots.summarise(request.user, snapshot, show=SHOWN_ISSUES * 2)
    context = {"snapshot": snapshot, "summary": summary, "shown": SHOWN_ISSUES * 2}
    return render(request, "registry/snapshot_detail.html", context)


@login_required
def snapshot_export(request: HttpRequest, pk: int) -> FileResponse:
    snapshot = _snapshot_or_404(request, pk)
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    target = imports_dir() / "exports" / f"snapshot-{snapshot.pk}-{request.user.pk}-{stamp}.xlsx"
    snapshots.export_differences(request.user, snapshot, target)
    name = f"国扶快照比对-{snapshot.snapshot_date:%Y%m%d}.xlsx"
    return FileResponse(target.open("rb"), as_attachment=True, filename=name)
