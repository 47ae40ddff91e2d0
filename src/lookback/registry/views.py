from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from lookback.accounts.roles import VIEW_PII
from lookback.campaigns.selectors import get_campaign
from lookback.divisions.selectors import children_in_scope, get_division_in_scope
from lookback.registry.archive_sheets import write_archive_sheet
from lookback.registry.forms import ArchiveCheckForm, ArchiveSheetUploadForm, HouseholdFilterForm
from lookback.registry.models import Household
from lookback.registry.selectors import (
    HouseholdFilters,
    archive_checks_for_household,
    dept_matches_for_household,
    filter_households,
    get_household,
    household_history,
    households_by_child_division,
    households_for_user,
    latest_archive_checks,
    registry_summary,
    required_archive_items,
)
from lookback.registry.services import (
    ArchiveSheetRejected,
    NotAllowed,
    RegistryError,
    can_record_archive_check,
    record_archive_check,
    record_archive_sheet,
)

PAGE_SIZE = 50
SHOWN_ISSUES = 200  # of a rejected sheet's errors; the count says how many there are in all
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "summary": registry_summary(user),
        "campaign": get_campaign(),
        "breakdown": households_by_child_division(user),
    }
    if user.is_helper:
        context["my_households"] = households_for_user(user).select_related("village")[:200]
    return render(request, "registry/home.html", context)


@login_required
def household_list(request: HttpRequest) -> HttpResponse:
    form = HouseholdFilterForm(request.GET or None, user=request.user)
    status = 200
    if form.is_bound and not form.is_valid():
        filters = HouseholdFilters()
        status = 400
        households = filter_households(request.user, filters).none()
    else:
        filters = form.to_filters() if form.is_bound else HouseholdFilters()
        households = filter_households(request.user, filters)
    paginator = Paginator(households.order_by("division_code", "household_no"), PAGE_SIZE)
    page = paginator.get_page(form.cleaned_data.get("page") if status == 200 and form.is_bound else 1)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "divisions": form.division_options() if not form.errors else form_division_fallback(request),
        "show_pii": request.user.can(VIEW_PII),
        "can_record_archive_check": can_record_archive_check(request.user),
        # The sheet is of the households shown, so it carries the filters (unless they are wrong).
        "sheet_query": query.urlencode() if status == 200 else "",
    }
    return render(request, "registry/household_list.html", context, status=status)


def form_division_fallback(request: HttpRequest) -> dict:
    return HouseholdFilterForm(user=request.user).division_options()


@login_required
def division_options(request: HttpRequest) -> HttpResponse:
    """htmx: the <option>s of the next select when a county or township is chosen."""
    parent = request.GET.get("parent", "")
    if parent and get_division_in_scope(request.user, parent) is None:
        # The selects only offer divisions in scope; anything else is a forged or stale request.
        raise Http404(_("所选地区不存在或不在您的管辖范围内。"))
    options = children_in_scope(request.user, parent) if parent else []
    return render(request, "registry/_division_options.html", {"options": options})


def _household_or_404(request: HttpRequest, pk: int) -> Household:
    household = get_household(request.user, pk)
    if household is None:
        raise Http404(_("找不到该户，或它不在您的管辖范围内。"))
    return household


def _household_page(
    request: HttpRequest,
    household: Household,
    *,
    archive_form: ArchiveCheckForm | None = None,
    status: int = 200,
    saved: int | None = None,
) -> HttpResponse:
    members = list(household.members.all())
    matches = dept_matches_for_household(household)
    for member in members:
        member.dept_matches = matches.get(member.id_number, [])
    campaign = get_campaign()
    items = required_archive_items(campaign)
    checks = archive_checks_for_household(request.user, household, items)
    can_record = can_record_archive_check(request.user)
    context = {
        "household": household,
        "members": members,
        "history": household_history(household),
        "show_pii": request.user.can(VIEW_PII),
        "campaign": campaign,
        "archive_items": items,
        "archive_checks": checks,
        "latest_archive_check": checks[0] if checks else None,
        "archive_saved": bool(checks) and checks[0].pk == saved,
        "can_record_archive_check": can_record,
        "archive_form": archive_form or (ArchiveCheckForm(items=items) if can_record else None),
        "today": timezone.localdate(),
    }
    return render(request, "registry/household_detail.html", context, status=status)


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    saved = request.GET.get("saved", "")
    return _household_page(request, _household_or_404(request, pk), saved=int(saved) if saved.isdigit() else None)


@login_required
@require_POST
def archive_check_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a 一户一档 check from the household page; errors re-show the page with the form as typed."""
    household = _household_or_404(request, pk)
    if not can_record_archive_check(request.user):
        raise PermissionDenied(_("您的角色不能登记一户一档核查。"))
    items = required_archive_items(get_campaign())
    form = ArchiveCheckForm(request.POST, items=items)
    if not form.is_valid():
        return _household_page(request, household, archive_form=form, status=400)
    data = form.cleaned_data
    try:
        check = record_archive_check(
            user=request.user,
            household=household,
            checked_on=data["checked_on"],
            present_items=data["present_items"],
            note=data.get("note") or "",
        )
    except RegistryError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _household_page(request, household, archive_form=form, status=exc.status)
    # The result shows in place (the page opens at the section, which names the saved check), not as a
    # message at the top of a long page where nobody would see it.
    url = reverse("registry:household_detail", kwargs={"pk": household.pk})
    return redirect(f"{url}?saved={check.pk}#archive")


def _archive_editor(request: HttpRequest) -> None:
    if not can_record_archive_check(request.user):
        raise PermissionDenied(_("您的角色不能登记一户一档核查。"))


@login_required
def archive_sheet_download(request: HttpRequest) -> HttpResponse:
    """The 一户一档核查表 of the households the list shows (its filters carried in the query string)."""
    _archive_editor(request)
    form = HouseholdFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        # The link comes from the list page with filters it has checked: a bad one is stale or forged.
        raise Http404(_("筛选条件有误，或所选地区不在您的管辖范围内。"))
    filters = form.to_filters() if form.is_bound else HouseholdFilters()
    households = filter_households(request.user, filters).order_by("division_code", "household_no")
    content = write_archive_sheet(
        households.iterator(chunk_size=2000),
        latest_archive_checks(request.user, households),
        required_archive_items(get_campaign()),
        exported_by=request.user.display_name,
    )
    response = HttpResponse(content, content_type=XLSX)
    name = _("一户一档核查表") + f"-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def archive_sheet_upload(request: HttpRequest) -> HttpResponse:
    """Upload a filled-in 一户一档核查表: all rows recorded or, with any bad row, none and the list of errors."""
    _archive_editor(request)
    context: dict = {"items": required_archive_items(get_campaign())}
    if request.method == "GET":
        context["form"] = ArchiveSheetUploadForm()
        return render(request, "registry/archive_sheet_upload.html", context)
    form = ArchiveSheetUploadForm(request.POST, request.FILES)
    context["form"] = form
    if not form.is_valid():
        return render(request, "registry/archive_sheet_upload.html", context, status=400)
    uploaded = form.cleaned_data["file"]
    with tempfile.TemporaryDirectory(prefix="archive-sheet-") as directory:
        # The readers take a path (calamine reads files); the suffix tells them xlsx from csv.
        path = Path(directory) / ("upload" + Path(uploaded.name).suffix.lower())
        with path.open("wb") as fh:
            for chunk in uploaded.chunks():
                fh.write(chunk)
        try:
            context["outcome"] = record_archive_sheet(user=request.user, path=path)
        except ArchiveSheetRejected as exc:
            context.update(rejected=exc.message, issues=exc.issues[:SHOWN_ISSUES], issue_count=len(exc.issues))
            context["file_name"] = uploaded.name
            return render(request, "registry/archive_sheet_upload.html", context, status=400)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
    context["file_name"] = uploaded.name
    context["form"] = ArchiveSheetUploadForm()
    return render(request, "registry/archive_sheet_upload.html", context)
