"""Reading the ledger. Every function takes the user and returns only rows in the user's scope.

Overdue bands are computed against today (`timezone.localdate()`), not the campaign's reference date:
deadlines are live work, and a 2018 campaign's problems that are still open today are overdue today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Case, CharField, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from lookback.accounts.models import User
from lookback.campaigns.models import Campaign
from lookback.divisions.models import Division
from lookback.ledger import permissions as perms
from lookback.ledger.models import (
    Accountability,
    Action,
    Band,
    Dimension,
    Evidence,
    Notification,
    Problem,
    ProblemTransition,
    ReportState,
    SelfCheckAnswer,
    SelfCheckItem,
    State,
    TownshipReport,
    UnitLevel,
)

LIVE = (State.OPEN, State.IN_PROGRESS, State.AWAITING)


@dataclass(frozen=True)
class ProblemFilters:
    """The ledger list's filters, shared by the page, the export and the API."""

    campaign: int | None = None
    state: str = ""
    dimension: int | None = None
    source: str = ""
    band: str = ""
    division: str = ""  # a division-code prefix inside the user's scope
    responsible: str = ""  # responsible person's name (or part of it)
    severity: str = ""
    q: str = ""  # description, 户编号 or 户主


def problems_for_user(user: Any) -> QuerySet[Problem]:
    return Problem.objects.in_scope(user)


def band_condition(band: str, today: date) -> Q:
    """The filter for one overdue band; bands apply to unfinished problems only."""
    live = Q(state__in=LIVE)
    if band == Band.OVERDUE:
        return live & Q(deadline__lt=today)
    if band == Band.DUE_10:
        return live & Q(deadline__gte=today, deadline__lte=today + timedelta(days=10))
    if band == Band.DUE_20:
        return live & Q(deadline__gt=today + timedelta(days=10), deadline__lte=today + timedelta(days=20))
    if band == Band.LATER:
        return live & Q(deadline__gt=today + timedelta(days=20))
    if band == Band.NONE:
        return live & Q(deadline__isnull=True)
    return Q()


def with_band(qs: QuerySet[Problem], today: date) -> QuerySet[Problem]:
    whens = [When(band_condition(b, today), then=Value(b.value)) for b in Band]
    return qs.annotate(band_code=Case(*whens, default=Value(""), output_field=CharField()))


def filter_problems(user: Any, filters: ProblemFilters, today: date | None = None) -> QuerySet[Problem]:
    today = today or timezone.localdate()
    qs = problems_for_user(user)
    if filters.campaign:
        qs = qs.filter(campaign_id=filters.campaign)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.dimension:
        qs = qs.filter(dimension=filters.dimension)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    if filters.band:
        qs = qs.filter(band_condition(filters.band, today))
    if filters.division:
        qs = qs.filter(division_code__startswith=filters.division)
    responsible = filters.responsible.strip()
    if responsible:
        qs = qs.filter(
            Q(responsible_person__contains=responsible)
            | Q(responsible_user__username=responsible)
            | Q(responsible_user__last_name__contains=responsible)
        )
    q = filters.q.strip()
    if q:
        condition = Q(description__contains=q) | Q(category__contains=q) | Q(household__head_name__contains=q)
        if q.isdigit() or q.upper().startswith("H"):
            condition |= Q(household__household_no__startswith=q)
        if q.lstrip("#").isdigit():
            condition |= Q(pk=int(q.lstrip("#")))
        qs = qs.filter(condition)
    return with_band(qs, today).select_related(
        "division", "division__parent", "household", "member", "responsible_user", "campaign"
    )


def get_problem(user: Any, pk: int) -> Problem | None:
    return (
        problems_for_user(user)
        .select_related(
            "division",
            "division__parent",
            "division__parent__parent",
            "household",
            "member",
            "found_by",
            "responsible_user",
            "rectified_by",
            "closed_by",
            "campaign",
        )
        .filter(pk=pk)
        .first()
    )


def timeline(problem: Problem) -> list[ProblemTransition]:
    """The problem's history, oldest first; each entry's `change_rows` names the changed fields in Chinese."""
    entries = list(problem.transitions.select_related("actor").order_by("at", "id"))
    for entry in entries:
        entry.change_rows = [
            (str(Problem._meta.get_field(name).verbose_name), old, new)
            for name, (old, new) in (entry.changes or {}).items()
            if name in {f.name for f in Problem._meta.get_fields()}
        ]
    return entries


def evidence_of(problem: Problem) -> list[Evidence]:
    return list(problem.evidence.select_related("uploaded_by").order_by("uploaded_at", "id"))


def get_evidence(user: Any, pk: int) -> Evidence | None:
    """One evidence file, only when its problem is in the user's scope (the download view's guard)."""
    return Evidence.objects.in_scope(user).select_related("problem").filter(pk=pk).first()


def last_return(problem: Problem) -> ProblemTransition | None:
    return problem.transitions.filter(action=Action.RETURN).order_by("-at", "-id").first()


def ledger_summary(user: Any, filters: ProblemFilters, today: date | None = None) -> dict[str, Any]:
    """Counts by state and by band of the filtered list (two grouped queries)."""
    today = today or timezone.localdate()
    qs = filter_problems(user, filters, today).order_by()
    states = dict(qs.values_list("state").annotate(n=Count("id")))
    bands = dict(qs.filter(state__in=LIVE).values_list("band_code").annotate(n=Count("id")))
    return {
        "states": [(s, s.label, states.get(s.value, 0)) for s in State],
        "bands": [(b, b.label, bands.get(b.value, 0)) for b in Band],
        "total": sum(states.values()),
    }


def summary_by_child_division(user: Any, filters: ProblemFilters, today: date | None = None) -> list[dict[str, Any]]:
    """The filtered ledger counted per division one level below the user's scope (city → counties,
    county → townships, township → villages): one grouped query."""
    from django.db.models.functions import Substr

    from lookback.divisions.models import PREFIX_LENGTH

    scope = getattr(user, "scope", None)
    level = scope.level if scope else "province"
    child_level = {"province": "county", "city": "county", "county": "township", "township": "village"}.get(level)
    if child_level is None or getattr(user, "is_helper", False):
        return []
    today = today or timezone.localdate()
    length = PREFIX_LENGTH[child_level]
    counts = {s.value: Count("id", filter=Q(state=s.value)) for s in State}
    rows = (
        filter_problems(user, filters, today)
        .order_by()
        .annotate(child=Substr("division_code", 1, length))
        .values("child")
        .annotate(total=Count("id"), overdue=Count("id", filter=band_condition(Band.OVERDUE, today)), **counts)
        .order_by("child")
    )
    children = {
        d.prefix: d for d in Division.objects.filter(level=child_level, code__startswith=scope.prefix if scope else "")
    }
    result = []
    for row in rows:
        division = children.get(row["child"])
        result.append(
            {
                "division": division,
                "name": division.name if division else row["child"],
                "level": child_level,
                "total": row["total"],
                "overdue": row["overdue"],
                "states": [row[s.value] for s in State],
            }
        )
    return result


def assignable_users(user: Any) -> QuerySet[User]:
    """Accounts a problem can be assigned to by this user: active workers inside the user's scope."""
    prefix = getattr(user, "scope_prefix", None)
    if prefix is None:
        return User.objects.none()
    qs = User.objects.filter(is_active=True, role__in=perms.WORK_ROLES).select_related("scope")
    if prefix:
        qs = qs.filter(scope__code__startswith=prefix)
    return qs.order_by("scope__code", "username")


def household_by_number(user: Any, number: str) -> Any:
    """The household with this 户编号 inside the user's scope (with its village and township), or None."""
    from lookback.registry.models import Household

    if not number:
        return None
    households = Household.objects.in_scope(user).select_related("village", "village__parent")
    return households.filter(household_no=number).first()


def household_members(user: Any, household: Any) -> list[Any]:
    """The members of a household the user may see, 户主 first, for the entry form's member choice."""
    from lookback.registry.models import Member

    members = Member.objects.in_scope(user).filter(household=household)
    head_first = Case(When(relation="户主", then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(members.annotate(head_first=head_first).order_by("head_first", "id"))


def villages_in_scope(user: Any) -> QuerySet[Division]:
    prefix = getattr(user, "scope_prefix", None)
    if prefix is None:
        return Division.objects.none()
    return Division.objects.filter(level="village", code__startswith=prefix).order_by("code")


# --- digest and notifications ----------------------------------------------------------------------


def digest(user: Any, today: date | None = None) -> dict[str, Any]:
    """The daily digest: problems assigned to me, due within 10 days, returned to me."""
    today = today or timezone.localdate()
    mine = problems_for_user(user).filter(state__in=LIVE)
    assigned = mine.filter(responsible_user=user)
    due_scope = assigned if not perms.can_bulk(user) else mine
    due_soon = due_scope.filter(deadline__lte=today + timedelta(days=10)).exclude(state=State.AWAITING)
    returned_ids = ProblemTransition.objects.filter(problem=OuterRef("pk"), action=Action.RETURN)
    returned = (
        mine.filter(state=State.IN_PROGRESS, return_count__gt=0)
        .filter(Q(rectified_by=user) | Q(responsible_user=user))
        .filter(Exists(returned_ids))
    )
    awaiting_me = mine.filter(state=State.AWAITING).exclude(rectified_by=user) if perms.can_work(user) else mine.none()
    related = ("division", "household", "responsible_user")
    return {
        "assigned": with_band(assigned, today).select_related(*related).order_by("deadline", "id")[:100],
        "due_soon": with_band(due_soon, today).select_related(*related).order_by("deadline", "id")[:100],
        "returned": with_band(returned, today).select_related(*related).order_by("-updated_at")[:100],
        "awaiting": with_band(awaiting_me, today).select_related(*related).order_by("rectified_at")[:100],
        "notifications": Notification.objects.filter(user=user).select_related("problem")[:50],
        "unread": unread_count(user),
    }


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- township reports --------------------------------------------------------------------------------


def reports_for_user(user: Any) -> QuerySet[TownshipReport]:
    return TownshipReport.objects.in_scope(user).select_related("township", "township__parent", "campaign")


def get_report(user: Any, pk: int) -> TownshipReport | None:
    return reports_for_user(user).select_related("submitted_by", "reviewed_by").filter(pk=pk).first()


def townships_in_scope(user: Any) -> QuerySet[Division]:
    prefix = getattr(user, "scope_prefix", None)
    if prefix is None:
        return Division.objects.none()
    # A village user's prefix is longer than a township code's prefix: they see no township.
    return Division.objects.filter(level="township", code__startswith=prefix).select_related("parent")


def report_overview(user: Any, campaign: Campaign) -> list[dict[str, Any]]:
    """Every township in scope with its report status for the campaign: the county's view of who has
    submitted, on time or late."""
    reports = {r.township_id: r for r in reports_for_user(user).filter(campaign=campaign)}
    rows = []
    for township in townships_in_scope(user).order_by("code"):
        report = reports.get(township.pk)
        rows.append({"township": township, "report": report})
    return rows


def report_counts(campaign: Campaign, township: Division, today: date | None = None) -> dict[str, Any]:
    """The figures a township report states, from the ledger (not scoped by user: the report is the
    township's own, and the caller has checked access to it)."""
    today = today or timezone.localdate()
    qs = Problem.objects.filter(campaign=campaign, division_code__startswith=township.prefix)
    by_dimension = {row["dimension"]: row for row in _dimension_rows(qs)}
    dimensions = []
    for dimension in Dimension:
        row = by_dimension.get(dimension.value, {})
        dimensions.append(
            {
                "dimension": dimension.value,
                "label": str(dimension.label),
                "total": row.get("total", 0),
                "closed": row.get("closed", 0),
                "in_progress": row.get("total", 0) - row.get("closed", 0),
            }
        )
    total = sum(d["total"] for d in dimensions)
    closed = sum(d["closed"] for d in dimensions)
    states = dict(qs.order_by().values_list("state").annotate(n=Count("id")))
    overdue = qs.filter(band_condition(Band.OVERDUE, today)).count()
    on_the_spot = qs.filter(on_the_spot=True).count()
    from lookback.registry.models import Household, Member

    households = Household.objects.filter(division_code__startswith=township.prefix)
    return {
        "total": total,
        "closed": closed,
        "open": total - closed,
        "closed_rate": round(closed * 100 / total, 1) if total else 0.0,
        "overdue": overdue,
        "on_the_spot": on_the_spot,
        "states": {str(s.label): states.get(s.value, 0) for s in State},
        "dimensions": dimensions,
        "households": households.count(),
        "members": Member.objects.filter(household__division_code__startswith=township.prefix).count(),
        "villages": Division.objects.filter(level="village", parent=township).count(),
    }


def _dimension_rows(qs: QuerySet[Problem]) -> list[dict[str, Any]]:
    return list(
        qs.order_by().values("dimension").annotate(total=Count("id"), closed=Count("id", filter=Q(state=State.CLOSED)))
    )


# --- self-check ----------------------------------------------------------------------------------


def self_check_unit(user: Any) -> Division | None:
    """The unit whose self-check this user answers: their own township or county."""
    if not perms.can_self_check(user):
        return None
    return getattr(user, "scope", None)


def self_check_items(campaign: Campaign, unit: Division) -> list[SelfCheckItem]:
    level = UnitLevel.TOWNSHIP if unit.level == "township" else UnitLevel.COUNTY
    return list(SelfCheckItem.objects.filter(campaign=campaign, unit_level=level, is_active=True))


def self_check_answers(user: Any, campaign: Campaign, unit: Division) -> dict[int, SelfCheckAnswer]:
    answers = SelfCheckAnswer.objects.in_scope(user).filter(item__campaign=campaign, unit=unit)
    return {a.item_id: a for a in answers.select_related("problem")}


# --- accountability ----------------------------------------------------------------------------


def accountability_for_user(user: Any) -> QuerySet[Accountability]:
    if not perms.can_read_accountability(user):
        return Accountability.objects.none()
    return Accountability.objects.in_scope(user).select_related("division", "campaign").prefetch_related("problems")


def get_accountability(user: Any, pk: int) -> Accountability | None:
    return accountability_for_user(user).filter(pk=pk).first()


def accountability_suggestions(user: Any, campaign: Campaign) -> dict[str, Any]:
    """Where accountability may be due (seed 四(四)): the current findings of the catalogue rules
    `rectification_overdue` (R1-01) and `report_late` (R1-02) in the user's scope — open ones; a waived
    finding was judged not to call for it. Each overdue unit comes with the ids of its problems overdue
    today by more than the campaign's days, to link the accountability record to; `run` is the latest
    rule run that judged these rules (the suggestions are as of that run)."""
    empty: dict[str, Any] = {
        "overdue": [],
        "late_reports": [],
        "missing_reports": [],
        "missing_count": 0,
        "days": 0,
        "run": None,
        "available": False,
    }
    if not perms.can_read_accountability(user) or not apps.is_installed("lookback.checks"):
        return empty
    from lookback.checks.models import CheckRun, Finding, RuleRunStat
    from lookback.ledger.check_rules import NOT_SUBMITTED, PROCEDURE_RULES, RECTIFICATION_OVERDUE, REPORT_LATE, unit_of

    days = int(campaign.parameter("accountability_overdue_days", 15))
    findings = list(
        Finding.objects.in_scope(user)
        .filter(campaign=campaign, rule_code__in=PROCEDURE_RULES, status=Finding.Status.OPEN)
        .order_by("division_code")
    )
    places = _division_names({finding.division_code for finding in findings})
    divisions = {
        d.code: d
        for d in Division.objects.filter(code__in={x.division_code for x in findings}).select_related("parent")
    }
    today = timezone.localdate()
    overdue_ids: dict[str, list[int]] = {}
    units = {f.division_code for f in findings if f.rule_code == RECTIFICATION_OVERDUE}
    if units:
        rows = (
            problems_for_user(user)
            .filter(
                campaign=campaign, state__in=[State.OPEN, State.IN_PROGRESS], deadline__lt=today - timedelta(days=days)
            )
            .exclude(source="rule", rule_code__in=PROCEDURE_RULES)
            .order_by("deadline", "id")
            .values_list("division_code", "id")
        )
        for code, pk in rows[:5000]:
            if unit_of(code) in units:
                overdue_ids.setdefault(unit_of(code), []).append(pk)
    rows_out: dict[str, list[dict[str, Any]]] = {RECTIFICATION_OVERDUE: [], REPORT_LATE: []}
    for finding in findings:
        division = divisions.get(finding.division_code)
        rows_out[finding.rule_code].append(
            {
                "finding": finding,
                "place": places.get(finding.division_code, finding.division_code),
                "unit": division.name if division else "",
                "list_query": _place_query(division),
                "problem_ids": overdue_ids.get(finding.division_code, [])[:50],
            }
        )
    run = (
        CheckRun.objects.filter(
            campaign=campaign,
            status=CheckRun.Status.DONE,
            stats__rule_code__in=PROCEDURE_RULES,
            stats__status=RuleRunStat.Status.OK,
        )
        .order_by("-finished_at", "-id")
        .first()
    )
    # Townships that have not reported at all are many at first: listed by county, names only.
    missing: dict[str, list[str]] = {}
    late_reports = []
    for row in rows_out[REPORT_LATE]:
        if row["finding"].detail.startswith(NOT_SUBMITTED):
            division = divisions.get(row["finding"].division_code)
            county = division.parent.name if division and division.parent else ""
            missing.setdefault(county, []).append(row["unit"] or row["place"])
        else:
            late_reports.append(row)
    return {
        "overdue": rows_out[RECTIFICATION_OVERDUE],
        "late_reports": late_reports,
        "missing_reports": sorted(missing.items()),
        "missing_count": sum(len(names) for names in missing.values()),
        "days": days,
        "run": run,
        "available": True,
        "rules": PROCEDURE_RULES,
    }


def _place_query(division: Division | None) -> str:
    """The ledger list's place filter (county → township → village selects) for one division."""
    from urllib.parse import urlencode

    if division is None or division.level not in ("county", "township", "village"):
        return ""
    code = division.code
    params = {"county": code[:6] + "000000"}
    if division.level in ("township", "village"):
        params["township"] = code[:9] + "000"
    if division.level == "village":
        params["village"] = code
    return urlencode(params)


def _division_names(codes: set[str]) -> dict[str, str]:
    return {d.code: d.full_name() for d in Division.objects.filter(code__in=codes).select_related("parent__parent")}


def report_state_label(state: str) -> str:
    return str(ReportState(state).label) if state in ReportState.values else ""
