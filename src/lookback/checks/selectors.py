"""Reading findings, runs and waivers. Every function takes the user and stays inside their scope."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr

from lookback.campaigns.models import Campaign
from lookback.checks.catalogue import DIMENSIONS, Rule, all_rules, get_rule
from lookback.checks.models import APPROVER_ROLE, CheckRun, Finding, Waiver
from lookback.divisions.models import Division


@dataclass(frozen=True)
class FindingFilters:
    """The findings list's filters, shared by the page, the export and the API."""

    rule: str = ""
    dimension: int | None = None
    topic: str = ""
    division: str = ""  # a division-code prefix inside the user's scope
    status: str = Finding.Status.OPEN  # "" = every status
    household: int | None = None


def findings_for_user(user: Any, campaign: Campaign | None) -> QuerySet[Finding]:
    if campaign is None:
        return Finding.objects.none()
    return Finding.objects.in_scope(user).filter(campaign=campaign)


def filter_findings(user: Any, campaign: Campaign | None, filters: FindingFilters) -> QuerySet[Finding]:
    qs = findings_for_user(user, campaign)
    if filters.rule:
        qs = qs.filter(rule_code=filters.rule)
    if filters.dimension:
        qs = qs.filter(dimension=filters.dimension)
    if filters.topic:
        qs = qs.filter(topic=filters.topic)
    if filters.division:
        qs = qs.filter(division_code__startswith=filters.division)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.household:
        qs = qs.filter(household_id=filters.household)
    return qs


def get_finding(user: Any, pk: int) -> Finding | None:
    return (
        Finding.objects.in_scope(user)
        .select_related("campaign", "household", "member", "household__village", "household__village__parent")
        .filter(pk=pk)
        .first()
    )


def rule_counts(user: Any, campaign: Campaign | None) -> dict[str, dict[str, int]]:
    """{rule code: {status: count}} in the user's scope."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = findings_for_user(user, campaign).order_by().values("rule_code", "status").annotate(n=Count("id"))
    for row in rows:
        counts[row["rule_code"]][row["status"]] = row["n"]
    return counts


@dataclass
class RuleRow:
    rule: Rule
    open: int
    waived: int
    fixed: int
    params: list = field(default_factory=list)  # (Param, current value)


def catalogue(user: Any, campaign: Campaign | None) -> list[tuple[int, str, str, list[RuleRow]]]:
    """The rules grouped by dimension, with the user's current counts."""
    counts = rule_counts(user, campaign)
    groups: dict[int, list[RuleRow]] = defaultdict(list)
    for rule in all_rules():
        c = counts.get(rule.code, {})
        groups[rule.dimension].append(
            RuleRow(
                rule, c.get(Finding.Status.OPEN, 0), c.get(Finding.Status.WAIVED, 0), c.get(Finding.Status.FIXED, 0)
            )
        )
    return [(d, DIMENSIONS[d][0], str(DIMENSIONS[d][1]), groups[d]) for d in sorted(groups)]


@dataclass
class PlaceCount:
    code: str
    prefix: str
    name: str
    open: int
    waived: int
    fixed: int


def rule_breakdown(user: Any, campaign: Campaign | None, code: str) -> dict[str, list[PlaceCount]]:
    """Current counts of one rule per county and per township inside the user's scope."""
    qs = findings_for_user(user, campaign).filter(rule_code=code).order_by()
    result: dict[str, list[PlaceCount]] = {}
    for level, length in (("county", 6), ("township", 9)):
        rows = qs.annotate(prefix=Substr("division_code", 1, length)).values("prefix", "status").annotate(n=Count("id"))
        per: dict[str, dict[str, int]] = defaultdict(dict)
        for row in rows:
            per[row["prefix"]][row["status"]] = row["n"]
        codes = {prefix: prefix.ljust(12, "0") for prefix in per}
        names = dict(Division.objects.filter(code__in=codes.values()).values_list("code", "name"))
        result[level] = [
            PlaceCount(
                code=codes[prefix],
                prefix=prefix,
                name=names.get(codes[prefix], prefix),
                open=c.get(Finding.Status.OPEN, 0),
                waived=c.get(Finding.Status.WAIVED, 0),
                fixed=c.get(Finding.Status.FIXED, 0),
            )
            for prefix, c in sorted(per.items())
        ]
    return result


def findings_for_household(user: Any, campaign: Campaign | None, household_id: int) -> QuerySet[Finding]:
    return findings_for_user(user, campaign).filter(household_id=household_id).exclude(status=Finding.Status.FIXED)


# --- runs ------------------------------------------------------------------------------------------


def _run_visibility(user: Any) -> Q | None:
    """Runs over the user's scope, over a place inside it, or over a place containing it."""
    prefix = getattr(user, "scope_prefix", None)
    if prefix is None or not getattr(user, "is_authenticated", False):
        return None
    if prefix == "":
        return Q()
    return Q(scope_prefix__startswith=prefix) | Q(scope_prefix__in=[prefix[:n] for n in range(len(prefix))])


def runs_for_user(user: Any) -> QuerySet[CheckRun]:
    condition = _run_visibility(user)
    if condition is None:
        return CheckRun.objects.none()
    return CheckRun.objects.filter(condition).select_related("campaign", "started_by")


def get_run(user: Any, pk: int) -> CheckRun | None:
    return runs_for_user(user).prefetch_related("stats").filter(pk=pk).first()


def latest_run(user: Any, campaign: Campaign | None) -> CheckRun | None:
    if campaign is None:
        return None
    return runs_for_user(user).filter(campaign=campaign).order_by("-created_at", "-id").first()


# --- waivers ---------------------------------------------------------------------------------------


def waivers_for_user(user: Any) -> QuerySet[Waiver]:
    return Waiver.objects.in_scope(user).select_related("finding", "requested_by", "decided_by")


def waivers_to_decide(user: Any) -> QuerySet[Waiver]:
    """Pending waivers this user approves: asked by the level just below theirs, inside their scope."""
    asked_by = [asker for asker, approver in APPROVER_ROLE.items() if approver == getattr(user, "role", None)]
    if not asked_by:
        return Waiver.objects.none()
    return waivers_for_user(user).filter(status=Waiver.Status.PENDING, requested_role__in=asked_by)


def rule_of(code: str) -> Rule | None:
    return get_rule(code)
