"""Pages: the rule catalogue, a rule's counts by place, findings (filter, export, detail, waiver), runs."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lookback.accounts.roles import RUN_CHECKS, VIEW_PII
from lookback.campaigns.selectors import get_campaign
from lookback.checks import exports, selectors, services
from lookback.checks.catalogue import get_rule
from lookback.checks.forms import ExportForm, FindingFilterForm, WaiverDecisionForm, WaiverRequestForm
from lookback.checks.models import APPROVER_ROLE, Finding, Waiver

PAGE_SIZE = 50


def _campaign(request: HttpRequest):
    return get_campaign(request.GET.get("campaign") or None)


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    campaign = _campaign(request)
    context = {
        "campaign": campaign,
        "groups": selectors.catalogue(request.user, campaign),
        "run": selectors.latest_run(request.user, campaign),
        "can_run": request.user.can(RUN_CHECKS),
    }
    return render(request, "checks/catalogue.html", context)


@login_required
def rule_detail(request: HttpRequest, code: str) -> HttpResponse:
    rule = get_rule(code)
    if rule is None:
        raise Http404(_("没有该规则。"))
    campaign = _campaign(request)
    context = {
        "campaign": campaign,
        "rule": rule,
        "params": rule.param_texts(campaign),
        "breakdown": selectors.rule_breakdown(request.user, campaign, rule.code),
    }
    return render(request, "checks/rule_detail.html", context)


def _filtered(request: HttpRequest):
    form = FindingFilterForm(request.GET or None, user=request.user)
    campaign = _campaign(request)
    if form.is_bound and not form.is_valid():
        return form, campaign, Finding.objects.none(), 400
    return form, campaign, selectors.filter_findings(request.user, campaign, form.to_filters()), 200


@login_required
def finding_list(request: HttpRequest) -> HttpResponse:
    form, campaign, findings, status = _filtered(request)
    findings = findings.select_related("household", "member").order_by("rule_code", "division_code", "id")
    page = Paginator(findings, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "campaign": campaign,
        "page": page,
        "query": query.urlencode(),
        "show_pii": request.user.can(VIEW_PII),
        "formats": exports.FORMATS,
    }
    return render(request, "checks/finding_list.html", context, status=status)


@login_required
def finding_export(request: HttpRequest) -> HttpResponse:
    chosen = ExportForm(request.GET)
    if not chosen.is_valid():
        return HttpResponse(
            _("导出格式只能是 jsonl、csv 或 xlsx。"), status=400, content_type="text/plain; charset=utf-8"
        )
    form, campaign, findings, status = _filtered(request)
    if status != 200:
        return HttpResponse(_("筛选条件有误，未导出。"), status=400, content_type="text/plain; charset=utf-8")
    fmt = chosen.cleaned_data["format"]
    items = exports.rows(findings, show_pii=request.user.can(VIEW_PII))
    name = f"findings-{timezone.localdate():%Y%m%d}.{fmt}"
    if fmt == "xlsx":
        # xlsxwriter needs a seekable file; a temporary one keeps memory flat for big exports.
        handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        exports.write_xlsx(items, handle)
        handle.seek(0)
        return FileResponse(handle, as_attachment=True, filename=name, content_type=exports.CONTENT_TYPES[fmt])
    lines = exports.iter_jsonl(items) if fmt == "jsonl" else exports.iter_csv(items)
    response = StreamingHttpResponse(lines, content_type=exports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = selectors.get_finding(request.user, pk)
    if finding is None:
        raise Http404(_("找不到该问题线索，或它不在您的管辖范围内。"))
    waiver_form = WaiverRequestForm()
    status = 200
    if request.method == "POST":
        waiver_form = WaiverRequestForm(request.POST, request.FILES)
        if waiver_form.is_valid():
            try:
                services.request_waiver(
                    user=request.user,
                    finding=finding,
                    reason=waiver_form.cleaned_data["reason"],
                    evidence_text=waiver_form.cleaned_data["evidence_text"],
                    evidence_file=waiver_form.cleaned_data.get("evidence_file"),
                )
            except services.ChecksError as exc:
                waiver_form.add_error(None, str(exc))
            else:
                messages.success(request, _("已提交豁免申请，等待上一级审批。"))
                return redirect("checks:finding_detail", pk=finding.pk)
        status = 400
    waivers = list(finding.waivers.select_related("requested_by", "decided_by").order_by("-requested_at"))
    for waiver in waivers:
        waiver.decidable = services.can_decide(request.user, waiver)
    context = {
        "finding": finding,
        "rule": finding.rule,
        "waivers": waivers,
        "waiver_form": waiver_form,
        "can_request": request.user.role in APPROVER_ROLE
        and finding.status == Finding.Status.OPEN
        and not any(w.status == Waiver.Status.PENDING for w in waivers),
        "decision_form": WaiverDecisionForm(),
        "show_pii": request.user.can(VIEW_PII),
    }
    return render(request, "checks/finding_detail.html", context, status=status)


@login_required
@require_POST
def waiver_decide(request: HttpRequest, pk: int) -> HttpResponse:
    waiver = selectors.waivers_for_user(request.user).filter(pk=pk).first()
    if waiver is None:
        raise Http404(_("找不到该豁免申请，或它不在您的管辖范围内。"))
    form = WaiverDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择批准或驳回。"))
    else:
        try:
            services.decide_waiver(
                user=request.user,
                waiver=waiver,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except services.ChecksError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已审批。"))
    return redirect("checks:finding_detail", pk=waiver.finding_id)


@login_required
def waiver_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    waiver = selectors.waivers_for_user(request.user).filter(pk=pk).first()
    if waiver is None or not waiver.evidence_file:
        raise Http404(_("找不到该佐证材料。"))
    try:
        handle = waiver.evidence_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("佐证材料文件已不存在。")) from exc
    return FileResponse(handle, as_attachment=True, filename=waiver.evidence_file.name.rsplit("/", 1)[-1])


@login_required
def waiver_list(request: HttpRequest) -> HttpResponse:
    waivers = selectors.waivers_for_user(request.user).order_by("-requested_at")
    page = Paginator(waivers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "to_decide": selectors.waivers_to_decide(request.user)[:200],
        "page": page,
        "query": "",
    }
    return render(request, "checks/waiver_list.html", context)


@login_required
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    if not request.user.can(RUN_CHECKS):
        raise PermissionDenied(_("您没有运行规则检查的权限。"))
    campaign = get_campaign(request.POST.get("campaign") or None)
    if campaign is None:
        messages.error(request, _("没有可用的回头看活动。"))
        return redirect("checks:catalogue")
    try:
        run = services.start_run(user=request.user, campaign=campaign, source="web")
    except services.ChecksError as exc:
        messages.error(request, str(exc))
        return redirect("checks:catalogue")
    messages.info(request, _("已开始运行检查。"))
    return redirect("checks:run_detail", pk=run.pk)


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.runs_for_user(request.user).order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "checks/run_list.html", {"page": page, "query": ""})


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.get_run(request.user, pk)
    if run is None:
        raise Http404(_("找不到该运行记录。"))
    return render(request, "checks/run_detail.html", {"run": run, "stats": run.stats.all()})


@login_required
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: the progress bar, polled until the run ends; then the page reloads to show the results."""
    run = selectors.get_run(request.user, pk)
    if run is None:
        raise Http404(_("找不到该运行记录。"))
    response = render(request, "checks/_run_progress.html", {"run": run})
    if not run.is_active and request.GET.get("reload"):
        response["HX-Refresh"] = "true"
    return response
