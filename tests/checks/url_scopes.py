"""The checks app's URL patterns for the scope walk (`tests/test_url_scoping.py`).

Findings, waivers and runs are built on the walk's households and divisions (inside and just outside
each role's scope). Running checks is closed to the roles without the `run_checks` capability.
"""

from __future__ import annotations

import itertools

from django.core.files.base import ContentFile
from django.utils import timezone

from lookback.accounts.roles import CAPABILITIES, RUN_CHECKS, Role
from lookback.campaigns.models import Campaign
from lookback.checks.models import CheckRun, Finding, Waiver
from lookback.registry.models import Household
from tests import factories as f
from tests.scoping_registry import Case, ScopeWorld, Target, register

PDF = b"%PDF-1.4\n%%EOF\n"
_seq = itertools.count(1)


def _finding(household: Household | None) -> Finding | None:
    if household is None:
        return None
    now = timezone.now()
    return Finding.objects.create(
        campaign=Campaign.objects.get(code="fz2018"),
        rule_code="R3-11",
        topic="member_count_mismatch",
        dimension=3,
        subject_kind="household",
        subject_key=f"{household.pk}-{next(_seq)}",  # every role's call gets its own finding
        household=household,
        household_no=household.household_no,
        division_code=household.division_code,
        detail="家庭人口数为 2，在册成员 1 人",
        opened_on=timezone.localdate(),
        created_at=now,
        updated_at=now,
    )


def _waiver(household: Household | None, evidence: bool = False) -> Waiver | None:
    finding = _finding(household)
    if finding is None:
        return None
    requester = f.make_user(Role.TOWNSHIP, f.SONGKOU)
    waiver = Waiver(
        finding=finding,
        reason="走查",
        evidence_text="文号",
        fingerprint=finding.detail,
        requested_by=requester,
        requested_role=Role.TOWNSHIP,
        division_code=finding.division_code,
    )
    if evidence:
        waiver.evidence_file.save("walk.pdf", ContentFile(PDF), save=False)
    waiver.save()
    return waiver


def _pk(obj, name: str = "pk") -> Target | None:
    return Target(kwargs={name: obj.pk}) if obj is not None else None


@register("checks:rule_detail")
def _rule_detail(sw: ScopeWorld, role: str) -> Case:
    return Case(inside=Target(kwargs={"code": "R3-11"}))


@register("checks:finding_export")
def _finding_export(sw: ScopeWorld, role: str) -> Case:
    _finding(sw.inside(role))
    _finding(sw.outside(role))
    return Case(inside=Target(query={"format": "csv"}))


@register("checks:finding_detail")
def _finding_detail(sw: ScopeWorld, role: str) -> Case:
    return Case(inside=_pk(_finding(sw.inside(role))), outside=_pk(_finding(sw.outside(role))))


@register("checks:waiver_decide")
def _waiver_decide(sw: ScopeWorld, role: str) -> Case:
    inside, outside = _waiver(sw.inside(role)), _waiver(sw.outside(role))
    data = {"decision": "reject", "note": "理由不足"}
    return Case(
        inside=Target(kwargs={"pk": inside.pk}, method="post", data=data),
        outside=Target(kwargs={"pk": outside.pk}, method="post", data=data) if outside else None,
    )


@register("checks:waiver_evidence")
def _waiver_evidence(sw: ScopeWorld, role: str) -> Case:
    return Case(
        inside=_pk(_waiver(sw.inside(role), evidence=True)),
        outside=_pk(_waiver(sw.outside(role), evidence=True)),
    )


@register("checks:run_start")
def _run_start(sw: ScopeWorld, role: str) -> Case:
    allowed = RUN_CHECKS in CAPABILITIES.get(role, frozenset())
    data = {"campaign": "fz2018"}
    return Case(inside=Target(method="post", data=data), denied=not allowed)


def _runs(sw: ScopeWorld, role: str) -> tuple[CheckRun, CheckRun | None]:
    campaign = Campaign.objects.get(code="fz2018")
    inside = CheckRun.objects.create(campaign=campaign, scope_prefix=sw.user(role).scope_prefix or "")
    division = sw.division_outside(role)
    outside = CheckRun.objects.create(campaign=campaign, scope_prefix=division.prefix) if division else None
    return inside, outside


@register("checks:run_detail")
def _run_detail(sw: ScopeWorld, role: str) -> Case:
    inside, outside = _runs(sw, role)
    return Case(inside=_pk(inside), outside=_pk(outside))


@register("checks:run_progress")
def _run_progress(sw: ScopeWorld, role: str) -> Case:
    inside, outside = _runs(sw, role)
    return Case(inside=_pk(inside), outside=_pk(outside))


@register("api-1.0.0:finding")
def _api_finding(sw: ScopeWorld, role: str) -> Case:
    return Case(
        inside=_pk(_finding(sw.inside(role)), "finding_id"), outside=_pk(_finding(sw.outside(role)), "finding_id")
    )


@register("api-1.0.0:run")
def _api_run(sw: ScopeWorld, role: str) -> Case:
    inside, outside = _runs(sw, role)
    return Case(inside=_pk(inside, "run_id"), outside=_pk(outside, "run_id"))
