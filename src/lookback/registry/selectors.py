"""Reading the registry. Every function takes the user and returns only rows in the user's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Substr

from lookback.campaigns.models import Campaign
from lookback.campaigns.selectors import get_campaign
from lookback.divisions.models import PREFIX_LENGTH, Division
from lookback.registry.models import (
    ARCHIVE_ITEMS_DEFAULT,
    ArchiveCheck,
    Assignment,
    DeptListEntry,
    Household,
    ImportBatch,
    Measure,
    Member,
    Visit,
)


@dataclass(frozen=True)
class HouseholdFilters:
    """The household list's filters, shared by the page and the API so they can never drift apart."""

    division: str = ""  # a division code prefix (any level) inside the user's scope
    attribute: str = ""
    exit_year: int | None = None
    cause: str = ""
    q: str = ""


def households_for_user(user: Any) -> QuerySet[Household]:
    return Household.objects.in_scope(user)


def filter_households(user: Any, filters: HouseholdFilters) -> QuerySet[Household]:
    qs = households_for_user(user)
    if filters.division:
        qs = qs.filter(division_code__startswith=filters.division)
    if filters.attribute:
        qs = qs.filter(attribute=filters.attribute)
    if filters.exit_year is not None:
        qs = qs.filter(exit_year=filters.exit_year)
    if filters.cause:
        qs = qs.filter(main_cause=filters.cause)
    q = filters.q.strip()
    if q:
        qs = qs.filter(_search_condition(q))
    return qs.select_related("village", "village__parent", "village__parent__parent")


def _search_condition(q: str) -> Q:
    """Name, pinyin initials (`wjh` → 王建华), 户编号 or ID number, of the head or any member."""
    if q.isascii() and q.isalpha():
        initials = q.lower()
        member_ids = Member.objects.filter(name_initials__startswith=initials).values("household_id")
        return Q(head_name_initials__startswith=initials) | Q(pk__in=member_ids)
    if any(ch.isdigit() for ch in q):
        number = q.upper()
        member_ids = Member.objects.filter(Q(id_number__startswith=number) | Q(member_no=number)).values("household_id")
        return Q(household_no__startswith=number) | Q(head_id_number__startswith=number) | Q(pk__in=member_ids)
    member_ids = Member.objects.filter(name__contains=q).values("household_id")
    return Q(head_name__contains=q) | Q(pk__in=member_ids)


def get_household(user: Any, pk: int) -> Household | None:
    """One household with what its page shows, or None when it does not exist or is out of scope."""
    return (
        households_for_user(user)
        .select_related("village", "village__parent", "village__parent__parent")
        .prefetch_related(
            Prefetch("members", queryset=Member.objects.order_by("id")),
            Prefetch("assignments", queryset=Assignment.objects.select_related("helper").order_by("-is_first", "id")),
            Prefetch("measures", queryset=Measure.objects.order_by("start_date", "id")),
            Prefetch("visits", queryset=Visit.objects.order_by("-visited_at")),
        )
        .filter(pk=pk)
        .first()
    )


def dept_matches_for_household(household: Household) -> dict[str, list[DeptListEntry]]:
    """Department-list entries matched to each member by ID number (member id_number → entries)."""
    id_numbers = [m.id_number for m in household.members.all() if m.id_number]
    matches: dict[str, list[DeptListEntry]] = {}
    for entry in DeptListEntry.objects.filter(id_number__in=id_numbers).order_by("kind"):
        matches.setdefault(entry.id_number, []).append(entry)
    return matches


def household_history(household: Household, limit: int = 50) -> list[Any]:
    """The household's own changes and its members', newest first, each with `changes`: a list of
    (field label, old, new) against the previous version of the same record."""
    own = list(household.history.select_related("history_user").order_by("-history_date")[: limit + 1])
    members = list(
        Member.history.filter(household_id=household.pk)
        .select_related("history_user")
        .order_by("-history_date")[: limit * 2]
    )
    everything = sorted(own + members, key=lambda h: (h.history_date, h.history_id), reverse=True)
    # The previous version of each record is usually fetched already (the lists reach one step further
    # back than `limit`); looking it up here saves one query per entry.
    previous: dict[tuple[type, int], Any] = {}
    seen: dict[tuple[type, int], Any] = {}
    for record in reversed(everything):
        key = (type(record), record.id)
        previous[(type(record), record.history_id)] = seen.get(key)
        seen[key] = record
    entries = everything[:limit]
    for entry in entries:
        entry.changes = _changes(entry, previous.get((type(entry), entry.history_id)))
    return entries


def _changes(entry: Any, previous: Any = None) -> list[tuple[str, Any, Any]]:
    if entry.history_type == "+":
        return []
    if previous is None:
        previous = entry.prev_record  # older than what was fetched
    if previous is None:
        return []
    delta = entry.diff_against(previous)
    model = entry.instance_type
    return [(str(model._meta.get_field(c.field).verbose_name), c.old, c.new) for c in delta.changes]


def required_archive_items(campaign: Campaign | None = None) -> list[str]:
    """The items a household archive must hold: the campaign's `archive_items` (the default campaign's
    when none is given), else the built-in list. Rule R3-28 reads the same parameter with the same default."""
    campaign = campaign or get_campaign()
    items = campaign.parameter("archive_items", None) if campaign else None
    if not isinstance(items, list) or not items:
        items = list(ARCHIVE_ITEMS_DEFAULT)
    return [str(item) for item in items]


def archive_checks_for_household(user: Any, household: Household, required: list[str]) -> list[ArchiveCheck]:
    """The household's 一户一档 checks, newest first, each with `missing`: the items of `required` it did
    not find (worked out against the list as it is now, as the rule does)."""
    checks = list(
        ArchiveCheck.objects.in_scope(user)
        .filter(household=household)
        .select_related("checked_by")
        .order_by("-checked_on", "-id")
    )
    for check in checks:
        check.missing = check.missing_items(required)
    return checks


def latest_archive_checks(user: Any, households: QuerySet[Household]) -> dict[int, ArchiveCheck]:
    """The latest 一户一档 check of each of `households` that has one (household id → check), in scope."""
    latest: dict[int, ArchiveCheck] = {}
    checks = (
        ArchiveCheck.objects.in_scope(user)
        .filter(household__in=households.values("pk"))
        .order_by("household_id", "-checked_on", "-id")
        .only("household_id", "checked_on", "checker_name", "present_items", "note")
    )
    for check in checks.iterator(chunk_size=2000):
        latest.setdefault(check.household_id, check)
    return latest


def households_by_number(user: Any, numbers: list[str]) -> dict[str, Household]:
    """The households in the user's scope with these 户编号 (户编号 → household); others are left out,
    so an unknown number and one outside the scope look the same to the user."""
    found: dict[str, Household] = {}
    for start in range(0, len(numbers), 500):  # stays under SQLite's bound-parameter limit
        for household in households_for_user(user).filter(household_no__in=numbers[start : start + 500]):
            found[household.household_no] = household
    return found


def latest_archive_checks_on(user: Any, pairs: list[tuple[int, date]]) -> dict[tuple[int, date], ArchiveCheck]:
    """For each (household id, date), the latest check of that household on that date, when there is one."""
    found: dict[tuple[int, date], ArchiveCheck] = {}
    wanted = set(pairs)
    household_ids = sorted({pk for pk, _ in wanted})
    for start in range(0, len(household_ids), 500):
        checks = (
            ArchiveCheck.objects.in_scope(user)
            .filter(household_id__in=household_ids[start : start + 500])
            .order_by("household_id", "checked_on", "-id")
        )
        for check in checks:
            key = (check.household_id, check.checked_on)
            if key in wanted:
                found.setdefault(key, check)
    return found


def registry_summary(user: Any) -> dict[str, int]:
    """Counts for the home page."""
    households = households_for_user(user)
    agg = households.aggregate(total=Count("id"))
    return {
        "households": agg["total"],
        "members": Member.objects.in_scope(user).count(),
        "helpers_assigned": Assignment.objects.in_scope(user).values("helper_id").distinct().count(),
        "visits": Visit.objects.in_scope(user).count(),
    }


def households_by_child_division(user: Any) -> list[dict[str, Any]]:
    """Household and member counts per division one level below the user's scope (city → counties,
    county → townships, township → villages), for the home page. One grouped query each."""
    scope = getattr(user, "scope", None)
    level = scope.level if scope else "province"
    child_level = {"province": "county", "city": "county", "county": "township", "township": "village"}.get(level)
    if child_level is None or getattr(user, "is_helper", False):
        return []
    length = PREFIX_LENGTH[child_level]
    households = (
        households_for_user(user)
        .annotate(child=Substr("division_code", 1, length))
        .values("child")
        .annotate(households=Count("id"))
    )
    members = (
        Member.objects.in_scope(user)
        .annotate(child=Substr("household__division_code", 1, length))
        .values("child")
        .annotate(members=Count("id"))
    )
    member_counts = {row["child"]: row["members"] for row in members}
    names = {
        d.prefix: d for d in Division.objects.filter(level=child_level, code__startswith=scope.prefix if scope else "")
    }
    rows = []
    for row in households.order_by("child"):
        division = names.get(row["child"])
        rows.append(
            {
                "division": division,
                "name": division.name if division else row["child"],
                "households": row["households"],
                "members": member_counts.get(row["child"], 0),
            }
        )
    return rows


def import_batches_for_user(user: Any) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.in_scope(user)
