from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from lookback.accounts.roles import VIEW_PII
from lookback.campaigns.selectors import get_campaign
from lookback.divisions.selectors import children_in_scope, get_division_in_scope
from lookback.registry.forms import HouseholdFilterForm
from lookback.registry.selectors import (
    HouseholdFilters,
    dept_matches_for_household,
    filter_households,
    get_household,
    household_history,
    households_by_child_division,
    households_for_user,
    registry_summary,
)

PAGE_SIZE = 50


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


@login_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = get_household(request.user, pk)
    if household is None:
        raise Http404(_("找不到该户，或它不在您的管辖范围内。"))
    members = list(household.members.all())
    matches = dept_matches_for_household(household)
    for member in members:
        member.dept_matches = matches.get(member.id_number, [])
    context = {
        "household": household,
        "members": members,
        "history": household_history(household),
        "show_pii": request.user.can(VIEW_PII),
    }
    return render(request, "registry/household_detail.html", context)
