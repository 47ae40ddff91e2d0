"""The ledger's pages. Thin: parse the input, call a selector or a service, render. A rule that says no
(`LedgerError`) is shown in Chinese with its 4xx status and nothing is changed."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, F, IntegerField, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from lookback.accounts.roles import VIEW_PII
from lookback.campaigns.models import Campaign
from lookback.campaigns.selectors import get_campaign
from lookback.ledger import documents, exports, imports, selectors, services
from lookback.ledger import permissions as perms
from lookback.ledger.forms import (
    AccountabilityForm,
    BulkForm,
    EvidenceForm,
    NoteForm,
    PlanForm,
    ProblemFilterForm,
    ProblemForm,
    ReportTextForm,
    ReturnForm,
    SelfCheckForm,
    UploadForm,
    VersionForm,
)
from lookback.ledger.models import Problem, ReportState, State
from lookback.ledger.services import LedgerError

logger = logging.getLogger(__name__)
PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _param(data: Any, name: str, max_length: int = 40) -> str:
    """A raw query or form value, without NUL characters (PostgreSQL refuses them: a 500 otherwise)."""
    return (data.get(name) or "").replace("\x00", "").strip()[:max_length]


def _campaign(request: HttpRequest) -> Campaign | None:
    return get_campaign(_param(request.GET, "campaign") or None)


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


def _ordered(qs: Any) -> Any:
    # Unfinished problems first, the most urgent deadline first; signed-off ones last.
    done = Case(When(state=State.CLOSED, then=Value(1)), default=Value(0), output_field=IntegerField())
    return qs.annotate(done=done).order_by("done", F("deadline").asc(nulls_last=True), "-id")


# --- the list, bulk actions and export ---------------------------------------------------------------


@login_required
def problem_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    campaign = _campaign(request)
    form = ProblemFilterForm(request.GET or None, user=user)
    status = 200
    error = ""
    bulk = BulkForm(user=user)
    if request.method == "POST":
        bulk = BulkForm(request.POST, user=user)
        if not perms.can_bulk(user):
            return HttpResponseForbidden(_("您的角色不能批量操作。"))
        if bulk.is_valid():
            data = bulk.cleaned_data
            try:
                count = services.bulk_update(
                    user=user,
                    items=data["items"],
                    responsible_person=data.get("responsible_person") or None,
                    responsible_unit=data.get("responsible_unit") or None,
                    responsible_user=data.get("responsible_user"),
                    deadline=data.get("deadline"),
                )
            except LedgerError as exc:
                error, status = exc.message, exc.status
            else:
                messages.success(request, _("已更新 %(n)d 个问题。") % {"n": count})
                return redirect(request.get_full_path())
        else:
            error = "；".join(e for errors in bulk.errors.values() for e in errors)
            status = 400
    if form.is_bound and not form.is_valid():
        status = 400
    filters = form.to_filters(campaign.pk if campaign else None)
    problems = selectors.filter_problems(user, filters)
    if form.is_bound and not form.is_valid():
        problems = problems.none()
    paginator = Paginator(_ordered(problems), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "summary": selectors.ledger_summary(user, filters),
        "by_division": selectors.summary_by_child_division(user, filters),
        "state_labels": [s.label for s in State],
        "campaign": campaign,
        "divisions": form.division_options(),
        "bulk": bulk,
        "bulk_error": error,
        "can_bulk": perms.can_bulk(user),
        "can_create": perms.can_create(user),
        "today": timezone.localdate(),
    }
    return render(request, "ledger/problem_list.html", context, status=status)


@login_required
@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    user = request.user
    campaign = _campaign(request)
    form = ProblemFilterForm(request.GET or None, user=user)
    if form.is_bound and not form.is_valid():
        return render(request, "ledger/message.html", {"message": _("筛选条件有误，无法导出。")}, status=400)
    filters = form.to_filters(campaign.pk if campaign else None)
    problems = exports.ledger_queryset(_ordered(selectors.filter_problems(user, filters)))
    scope = getattr(user, "scope", None)
    title = _("%(place)s稳定脱贫“回头看”问题台帐") % {"place": scope.full_name() if scope else _("全部")}
    content = exports.write_ledger(problems, title=title, exported_by=user.display_name)
    logger.info("ledger export by %s (%s): %s", user.username, user.pk, filters)
    return _download(content, f"问题台帐-{timezone.localdate():%Y%m%d}.xlsx", XLSX)


# --- entering problems ---------------------------------------------------------------------------


@login_required
def problem_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not perms.can_create(user):
        return HttpResponseForbidden(_("您的角色不能登记问题。"))
    campaign = get_campaign()
    form = ProblemForm(request.POST or None, request.FILES or None, user=user, campaign=campaign)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            household = data.get("household_no")
            try:
                problem = services.create_problem(
                    user=user,
                    campaign=campaign,
                    source=data["source"],
                    dimension=data["dimension"],
                    category=data.get("category") or "",
                    description=data["description"],
                    severity=data["severity"],
                    found_on=data["found_on"],
                    household=household,
                    member=data.get("member"),
                    division=None if household else form.place(),
                    measures=data.get("measures") or "",
                    responsible_unit=data.get("responsible_unit") or "",
                    responsible_person=data.get("responsible_person") or "",
                    responsible_user=data.get("responsible_user"),
                    deadline=data.get("deadline"),
                    on_the_spot=bool(data.get("on_the_spot")),
                    evidence_files=data.get("evidence") or [],
                )
            except LedgerError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, _("问题 #%(id)s 已登记。") % {"id": problem.pk})
                return redirect("ledger:problem_detail", pk=problem.pk)
    context = {
        "form": form,
        "divisions": form.division_options(),
        "campaign": campaign,
        "lookup": form.lookup_context(),
    }
    return render(request, "ledger/problem_form.html", context, status=status)


@login_required
@require_GET
def household_lookup(request: HttpRequest) -> HttpResponse:
    """htmx: who is behind a 户编号 typed in the entry form, with a choice of its members (scoped:
    nothing for other places; the form checks the chosen member again when it is sent)."""
    number = _param(request.GET, "household_no")
    household = selectors.household_by_number(request.user, number)
    members = selectors.household_members(request.user, household) if household else []
    member = _param(request.GET, "member")
    selected = int(member) if member.isdigit() else None
    context = {"household": household, "number": number, "members": members, "selected": selected}
    return render(request, "ledger/_household_lookup.html", context)


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not perms.can_create(user):
        return HttpResponseForbidden(_("您的角色不能登记问题。"))
    form = UploadForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload_file = form.cleaned_data["file"]
            try:
                if upload_file.size > 20 * 1024 * 1024:
                    raise LedgerError(_("文件太大，不能超过 20 MB。"))
                result = imports.import_problems(
                    user=user, content=upload_file.read(), file_name=upload_file.name, campaign=get_campaign()
                )
            except LedgerError as exc:
                form.add_error("file", exc.message)
                status = exc.status
            else:
                if result.ok:
                    messages.success(request, _("已导入 %(n)d 个问题。") % {"n": result.created})
                    for warning in result.warnings:
                        messages.warning(request, warning)
                    return redirect("ledger:problem_list")
    return render(request, "ledger/upload.html", {"form": form, "result": result}, status=status)


@login_required
@require_GET
def upload_template(request: HttpRequest) -> HttpResponse:
    return _download(imports.template_workbook(), "问题台帐导入模板.xlsx", XLSX)


# --- one problem ---------------------------------------------------------------------------------


def _problem_or_404(request: HttpRequest, pk: int) -> Problem:
    problem = selectors.get_problem(request.user, pk)
    if problem is None:
        raise Http404(_("找不到该问题，或它不在您的管辖范围内。"))
    return problem


def _detail(
    request: HttpRequest, problem: Problem, *, status: int = 200, error: str = "", **forms: Any
) -> HttpResponse:
    user = request.user
    can_work = perms.can_work(user)
    plan_initial = {
        "version": problem.version,
        "measures": problem.measures,
        "responsible_unit": problem.responsible_unit,
        "responsible_person": problem.responsible_person,
        "responsible_user": problem.responsible_user_id,
        "deadline": problem.deadline,
    }
    context = {
        "problem": problem,
        "band": problem.band(),
        "timeline": selectors.timeline(problem),
        "evidence": selectors.evidence_of(problem),
        "last_return": selectors.last_return(problem),
        "error": error,
        "show_pii": user.can(VIEW_PII),
        "can_plan": can_work and problem.state in (State.OPEN, State.IN_PROGRESS),
        "can_upload": can_work and problem.state in (State.OPEN, State.IN_PROGRESS),
        "can_rectify": can_work and problem.state == State.IN_PROGRESS,
        "can_verify": services.may_verify(user, problem),
        "verify_blocked": _verify_blocked(user, problem),
        "can_note": (can_work or perms.can_create(user)) and problem.state != State.CLOSED,
        "plan_form": forms.get("plan_form") or PlanForm(initial=plan_initial, user=user),
        "evidence_form": forms.get("evidence_form") or EvidenceForm(),
        "rectify_form": forms.get("rectify_form") or VersionForm(initial={"version": problem.version}),
        "return_form": forms.get("return_form") or ReturnForm(initial={"version": problem.version}),
        "signoff_form": forms.get("signoff_form") or VersionForm(initial={"version": problem.version}),
        "note_form": forms.get("note_form") or NoteForm(),
    }
    return render(request, "ledger/problem_detail.html", context, status=status)


def _verify_blocked(user: Any, problem: Problem) -> str:
    if problem.state != State.AWAITING or not perms.can_work(user):
        return ""
    try:
        services.check_verifier(user, problem)
    except LedgerError as exc:
        return exc.message
    return ""


@login_required
@require_GET
def problem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _problem_or_404(request, pk))


def _act(request: HttpRequest, pk: int, form_name: str, form: Any, action: Any, success: str) -> HttpResponse:
    problem = _problem_or_404(request, pk)
    if not form.is_valid():
        errors = "；".join(e for errs in form.errors.values() for e in errs)
        return _detail(request, problem, status=400, error=errors, **{form_name: form})
    try:
        action(problem, form.cleaned_data)
    except LedgerError as exc:
        fresh = _problem_or_404(request, pk)
        # A conflict shows the latest version; other refusals keep what the user typed.
        kept = {} if isinstance(exc, services.ConflictError) else {form_name: form}
        return _detail(request, fresh, status=exc.status, error=exc.message, **kept)
    messages.success(request, success)
    return redirect("ledger:problem_detail", pk=pk)


@login_required
@require_POST
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    def action(problem: Problem, data: dict) -> None:
        services.update_plan(
            user=request.user,
            problem=problem,
            version=data["version"],
            measures=data.get("measures") or "",
            responsible_unit=data.get("responsible_unit") or "",
            responsible_person=data.get("responsible_person") or "",
            responsible_user=data.get("responsible_user"),
            deadline=data.get("deadline"),
            note=data.get("note") or "",
        )

    form = PlanForm(request.POST, user=request.user)
    return _act(request, pk, "plan_form", form, action, _("整改方案已保存。"))


@login_required
@require_POST
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    def action(problem: Problem, data: dict) -> None:
        services.add_evidence(user=request.user, problem=problem, upload=data["file"], note=data.get("note") or "")

    form = EvidenceForm(request.POST, request.FILES)
    return _act(request, pk, "evidence_form", form, action, _("佐证材料已上传。"))


@login_required
@require_POST
def rectify(request: HttpRequest, pk: int) -> HttpResponse:
    def action(problem: Problem, data: dict) -> None:
        services.mark_rectified(
            user=request.user, problem=problem, version=data["version"], note=data.get("note") or ""
        )

    form = VersionForm(request.POST)
    return _act(request, pk, "rectify_form", form, action, _("已标记整改完成，等待核验。"))


@login_required
@require_POST
def return_view(request: HttpRequest, pk: int) -> HttpResponse:
    def action(problem: Problem, data: dict) -> None:
        services.return_problem(user=request.user, problem=problem, version=data["version"], reason=data["reason"])

    form = ReturnForm(request.POST)
    return _act(request, pk, "return_form", form, action, _("已退回整改。"))


@login_required
@require_POST
def sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    def action(problem: Problem, data: dict) -> None:
        services.sign_off(user=request.user, problem=problem, version=data["version"], note=data.get("note") or "")

    form = VersionForm(request.POST)
    return _act(request, pk, "signoff_form", form, action, _("已核验销号。"))


@login_required
@require_POST
def note(request: HttpRequest, pk: int) -> HttpResponse:
    def action(problem: Problem, data: dict) -> None:
        services.add_note(user=request.user, problem=problem, note=data["note"])

    return _act(request, pk, "note_form", NoteForm(request.POST), action, _("整改进展已记录。"))


@login_required
@require_GET
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """The only way to a stored file: the evidence's problem must be in the user's scope."""
    evidence = selectors.get_evidence(request.user, pk)
    if evidence is None:
        raise Http404(_("找不到该文件，或它不在您的管辖范围内。"))
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("文件已不在存储中，请联系管理员。")) from exc
    # Images are shown inline (thumbnails); everything else is a download, never rendered in our origin.
    response = FileResponse(
        handle, as_attachment=not evidence.is_image, filename=evidence.original_name, content_type=evidence.content_type
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response


@login_required
@require_POST
def evidence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = selectors.get_evidence(request.user, pk)
    if evidence is None:
        raise Http404(_("找不到该文件，或它不在您的管辖范围内。"))
    problem_id = evidence.problem_id
    try:
        services.delete_evidence(user=request.user, evidence=evidence)
    except LedgerError as exc:
        return _detail(request, _problem_or_404(request, problem_id), status=exc.status, error=exc.message)
    messages.success(request, _("佐证材料已删除。"))
    return redirect("ledger:problem_detail", pk=problem_id)


# --- digest --------------------------------------------------------------------------------------


@login_required
def digest(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.mark_notifications_read(user=request.user)
        return redirect("ledger:digest")
    context = selectors.digest(request.user)
    context["today"] = timezone.localdate()
    return render(request, "ledger/digest.html", context)


# --- township reports ----------------------------------------------------------------------------


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    campaign = _campaign(request)
    if campaign is None:
        return render(request, "ledger/message.html", {"message": _("尚未设置回头看活动。")})
    rows = selectors.report_overview(user, campaign)
    submitted = [r for r in rows if r["report"] and r["report"].first_submitted_at]
    context = {
        "campaign": campaign,
        "rows": rows,
        "submitted": len(submitted),
        "late": sum(1 for r in submitted if r["report"].is_late),
        "can_write": perms.can_write_report(user),
        "own": next((r for r in rows if r["township"].pk == getattr(user, "scope_id", None)), None),
        "today": timezone.localdate(),
    }
    return render(request, "ledger/report_list.html", context)


@login_required
@require_POST
def report_start(request: HttpRequest) -> HttpResponse:
    campaign = get_campaign(_param(request.POST, "campaign") or None)
    if campaign is None:
        raise Http404(_("尚未设置回头看活动。"))
    try:
        report = services.start_report(user=request.user, campaign=campaign)
    except LedgerError as exc:
        return render(request, "ledger/message.html", {"message": exc.message}, status=exc.status)
    return redirect("ledger:report_detail", pk=report.pk)


def _report_or_404(request: HttpRequest, pk: int) -> Any:
    report = selectors.get_report(request.user, pk)
    if report is None:
        raise Http404(_("找不到该报告，或它不在您的管辖范围内。"))
    return report


def _report_page(
    request: HttpRequest, report: Any, *, status: int = 200, error: str = "", form: Any = None
) -> HttpResponse:
    user = request.user
    counts = (
        report.snapshot
        if report.is_frozen and report.snapshot
        else selectors.report_counts(report.campaign, report.township)
    )
    editable = perms.can_write_report(user) and not report.is_frozen
    context = {
        "report": report,
        "counts": counts,
        "error": error,
        "editable": editable,
        "can_review": perms.can_review_report(user) and report.state == ReportState.SUBMITTED,
        "form": form
        or ReportTextForm(
            initial={
                "version": report.version,
                "basic_situation": report.basic_situation,
                "rectification_summary": report.rectification_summary,
                "next_steps": report.next_steps,
            }
        ),
        "events": list(report.events.select_related("actor")),
        "deadline_passed": timezone.localdate() > report.campaign.report_deadline,
    }
    return render(request, "ledger/report_detail.html", context, status=status)


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_page(request, _report_or_404(request, pk))


@login_required
@require_POST
def report_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    report = _report_or_404(request, pk)
    user = request.user
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        return _report_page(request, report, status=400, error=_("页面已过期，请刷新后重试。"))
    form = None
    try:
        if action == "save" or action == "submit":
            form = ReportTextForm(request.POST)
            if not form.is_valid():
                return _report_page(request, report, status=400, error=_("请检查填写的内容。"), form=form)
            report = services.update_report_text(
                user=user,
                report=report,
                version=version,
                basic_situation=form.cleaned_data["basic_situation"],
                rectification_summary=form.cleaned_data["rectification_summary"],
                next_steps=form.cleaned_data["next_steps"],
            )
            if action == "submit":
                report = services.submit_report(user=user, report=report, version=report.version)
                messages.success(
                    request, _("报告已报送。") + (_("（已超过报送期限，标记为逾期报送）") if report.is_late else "")
                )
            else:
                messages.success(request, _("已保存。"))
        elif action == "accept":
            services.accept_report(user=user, report=report, version=version)
            messages.success(request, _("已接收该报告。"))
        elif action == "return":
            services.return_report(user=user, report=report, version=version, reason=request.POST.get("reason", ""))
            messages.success(request, _("已退回该报告。"))
        else:
            raise Http404
    except LedgerError as exc:
        fresh = _report_or_404(request, pk)
        keep = None if isinstance(exc, services.ConflictError) else form
        return _report_page(request, fresh, status=exc.status, error=exc.message, form=keep)
    return redirect("ledger:report_detail", pk=pk)


@login_required
@require_GET
def report_file(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The .docx or .xlsx: the frozen file once submitted, generated fresh while a draft."""
    report = _report_or_404(request, pk)
    name = report.township.name
    if kind not in ("docx", "xlsx"):
        raise Http404
    if report.is_frozen:
        stored = report.docx_file if kind == "docx" else report.xlsx_file
        if stored:
            with stored.open("rb") as handle:
                content = handle.read()
            return _download(
                content, stored.name.rsplit("/", 1)[-1].split("-", 1)[-1], DOCX if kind == "docx" else XLSX
            )
    if kind == "docx":
        counts = selectors.report_counts(report.campaign, report.township)
        return _download(documents.build_docx(report, counts), f"自查报告-{name}-草稿.docx", DOCX)
    return _download(documents.build_xlsx(report), f"问题台帐-{name}.xlsx", XLSX)


# --- self-check ----------------------------------------------------------------------------------


@login_required
def self_check(request: HttpRequest) -> HttpResponse:
    user = request.user
    campaign = _campaign(request)
    unit = selectors.self_check_unit(user)
    if unit is None or campaign is None:
        return render(request, "ledger/message.html", {"message": _("单位自查由乡镇、县扶贫办填写。")}, status=403)
    items = selectors.self_check_items(campaign, unit)
    answers = selectors.self_check_answers(user, campaign, unit)
    form = SelfCheckForm(request.POST or None, items=items, answers=answers)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                opened = services.answer_self_check(user=user, campaign=campaign, answers=form.answers())
            except LedgerError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("自查结果已保存。") + (_("“否”的 %(n)d 项已登记为问题。") % {"n": len(opened)} if opened else ""),
                )
                return redirect("ledger:self_check")
    context = {"form": form, "unit": unit, "campaign": campaign, "answers": answers}
    return render(request, "ledger/self_check.html", context, status=status)


# --- accountability ------------------------------------------------------------------------------


@login_required
@require_GET
def accountability_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not perms.can_read_accountability(user):
        return render(
            request, "ledger/message.html", {"message": _("问责记录仅对市扶贫办和纪检督查开放。")}, status=403
        )
    campaign = _campaign(request)
    context = {
        "records": selectors.accountability_for_user(user)[:500],
        "suggestions": selectors.accountability_suggestions(user, campaign) if campaign else None,
        "can_write": perms.can_write_accountability(user),
        "campaign": campaign,
    }
    return render(request, "ledger/accountability_list.html", context)


@login_required
def accountability_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not perms.can_write_accountability(user):
        return HttpResponseForbidden(_("只有市扶贫办可以录入问责记录。"))
    campaign = get_campaign()
    initial = {k: request.GET.get(k, "") for k in ("unit", "person_name", "reason", "problem_ids")}
    form = AccountabilityForm(request.POST or None, user=user, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            from lookback.divisions.models import Division

            problems = list(selectors.problems_for_user(user).filter(pk__in=data["problem_ids"]))
            missing = set(data["problem_ids"]) - {p.pk for p in problems}
            if missing:
                form.add_error(
                    "problem_ids",
                    _("问题 %(ids)s 不存在或不在您的管辖范围内。")
                    % {"ids": "、".join(f"#{i}" for i in sorted(missing))},
                )
            else:
                try:
                    record = services.record_accountability(
                        user=user,
                        campaign=campaign,
                        kind=data["kind"],
                        person_name=data["person_name"],
                        person_position=data.get("person_position") or "",
                        unit=data["unit"],
                        division=Division.objects.get(code=form.chosen_code()),
                        reason=data["reason"],
                        decided_by=data["decided_by"],
                        decided_on=data["decided_on"],
                        problems=problems,
                        complaint_ref=data.get("complaint_ref") or "",
                    )
                except LedgerError as exc:
                    form.add_error(None, exc.message)
                    status = exc.status
                else:
                    messages.success(request, _("问责记录已保存。"))
                    return redirect("ledger:accountability_detail", pk=record.pk)
    return render(
        request, "ledger/accountability_form.html", {"form": form, "divisions": form.division_options()}, status=status
    )


@login_required
@require_GET
def accountability_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = selectors.get_accountability(request.user, pk)
    if record is None:
        raise Http404(_("找不到该问责记录，或您无权查看。"))
    return render(request, "ledger/accountability_detail.html", {"record": record})
