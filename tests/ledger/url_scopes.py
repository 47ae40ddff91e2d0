"""The ledger's URL patterns for the scope walk (`tests/test_url_scoping.py`).

Problems, evidence and reports are built directly on the walk's households (inside and just outside each
role's scope). Actions are POSTs that succeed (302) for the roles that work problems and are refused
(403, or 404 out of scope) for the others. The API's JSON writes cannot be sent by the walk (it posts
forms); they are covered per role by tests/ledger/test_api.py and the schemathesis run in tests/api.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lookback.accounts.roles import Role
from lookback.campaigns.models import Campaign
from lookback.divisions.models import Division
from lookback.ledger.models import Accountability, Evidence, Level, Problem, ReportState, State, TownshipReport
from lookback.registry.models import Household
from tests import factories as f
from tests.ledger.helpers import png_bytes
from tests.scoping_registry import Case, ScopeWorld, Target, register

WORKERS = {Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.CITY}
CREATORS = WORKERS | {Role.HELPER, Role.REVIEWER}
REPORT_READERS = {Role.TOWNSHIP, Role.COUNTY, Role.CITY, Role.REVIEWER, Role.SUPERVISOR, Role.ADMIN}
ACCOUNTABILITY_READERS = {Role.CITY, Role.SUPERVISOR, Role.ADMIN}


def _campaign() -> Campaign:
    return Campaign.objects.get(code="fz2018")


def _maker() -> Any:
    """Someone who is none of the walk's users marks problems rectified, so that every worker may verify."""
    from lookback.accounts.models import User

    return User.objects.filter(username="walk-maker").first() or f.make_user(
        Role.VILLAGE, f.SONGKOU_VILLAGE, "walk-maker"
    )


def _problem(household: Household | None, state: str = State.IN_PROGRESS) -> Problem | None:
    if household is None:
        return None
    problem = Problem.objects.create(
        campaign=_campaign(),
        source="self_check",
        dimension=2,
        description="走查用问题",
        division=household.village,
        division_code=household.division_code,
        household=household,
        measures="补办",
        responsible_unit="镇政府",
        responsible_person="陈",
        deadline=timezone.localdate() + timedelta(days=10),
        state=state,
    )
    evidence = Evidence(
        problem=problem, original_name="照片.png", content_type="image/png", size=len(png_bytes()), sha256="0" * 64
    )
    evidence.file.save("walk.png", ContentFile(png_bytes()), save=False)
    evidence.save()
    if state == State.AWAITING:
        Problem.objects.filter(pk=problem.pk).update(
            rectified_by=_maker(), rectified_level=Level.VILLAGE, rectified_at=timezone.now()
        )
    return problem


def _pk(obj: Any) -> dict[str, Any]:
    return {"pk": obj.pk}


def _problem_case(sw: ScopeWorld, role: str, *, state: str, method: str, data: Any, allowed: set[str]) -> Case:
    inside = _problem(sw.inside(role), state)
    outside = _problem(sw.outside(role), state)
    return Case(
        inside=Target(kwargs=_pk(inside), method=method, data=data(inside) if callable(data) else data),
        outside=outside and Target(kwargs=_pk(outside), method=method, data=data(outside) if callable(data) else data),
        denied=role not in allowed,
    )


@register("ledger:problem_detail")
def _detail(sw: ScopeWorld, role: str) -> Case:
    return _problem_case(sw, role, state=State.OPEN, method="get", data={}, allowed=set(Role.values))


@register("ledger:plan")
def _plan(sw: ScopeWorld, role: str) -> Case:
    def data(problem: Problem) -> dict[str, Any]:
        return {
            "version": problem.version,
            "measures": "新措施",
            "responsible_unit": "镇政府",
            "responsible_person": "陈",
            "deadline": problem.deadline.isoformat(),
        }

    return _problem_case(sw, role, state=State.IN_PROGRESS, method="post", data=data, allowed=WORKERS)


@register("ledger:evidence_upload")
def _evidence_upload(sw: ScopeWorld, role: str) -> Case:
    def data(problem: Problem) -> dict[str, Any]:
        return {"file": SimpleUploadedFile("现场.png", png_bytes(), content_type="image/png")}

    return _problem_case(sw, role, state=State.IN_PROGRESS, method="post", data=data, allowed=WORKERS)


@register("ledger:rectify")
def _rectify(sw: ScopeWorld, role: str) -> Case:
    return _problem_case(
        sw, role, state=State.IN_PROGRESS, method="post", data=lambda p: {"version": p.version}, allowed=WORKERS
    )


@register("ledger:return")
def _return(sw: ScopeWorld, role: str) -> Case:
    return _problem_case(
        sw,
        role,
        state=State.AWAITING,
        method="post",
        data=lambda p: {"version": p.version, "reason": "照片不清楚"},
        allowed=WORKERS,
    )


@register("ledger:sign_off")
def _sign_off(sw: ScopeWorld, role: str) -> Case:
    return _problem_case(
        sw, role, state=State.AWAITING, method="post", data=lambda p: {"version": p.version}, allowed=WORKERS
    )


@register("ledger:note")
def _note(sw: ScopeWorld, role: str) -> Case:
    return _problem_case(sw, role, state=State.OPEN, method="post", data={"note": "已联系"}, allowed=CREATORS)


def _evidence_case(sw: ScopeWorld, role: str, *, method: str, allowed: set[str]) -> Case:
    inside = _problem(sw.inside(role))
    outside = _problem(sw.outside(role))
    return Case(
        inside=Target(kwargs=_pk(inside.evidence.get()), method=method),
        outside=outside and Target(kwargs=_pk(outside.evidence.get()), method=method),
        denied=role not in allowed,
    )


@register("ledger:evidence_download")
def _evidence_download(sw: ScopeWorld, role: str) -> Case:
    return _evidence_case(sw, role, method="get", allowed=set(Role.values))


@register("ledger:evidence_delete")
def _evidence_delete(sw: ScopeWorld, role: str) -> Case:
    return _evidence_case(sw, role, method="post", allowed=WORKERS)


@register("ledger:problem_create")
def _create(sw: ScopeWorld, role: str) -> Case:
    return Case(denied=role not in CREATORS)


@register("ledger:upload")
def _upload(sw: ScopeWorld, role: str) -> Case:
    return Case(denied=role not in CREATORS)


@register("ledger:household_lookup")
def _lookup(sw: ScopeWorld, role: str) -> Case:
    # An unknown or foreign 户编号 answers "not found" (200, no data); tests/ledger/test_pages.py checks it.
    return Case(inside=Target(query={"household_no": sw.inside(role).household_no}))


# --- township reports ----------------------------------------------------------------------------


def _report(township: Division | None, state: str = ReportState.DRAFT) -> TownshipReport | None:
    if township is None:
        return None
    report, _created = TownshipReport.objects.get_or_create(
        campaign=_campaign(), township=township, defaults={"division_code": township.code, "state": state}
    )
    # Each role's case is resolved just before its requests: put the shared report in the state it needs.
    submitted = timezone.now() if state != ReportState.DRAFT else None
    TownshipReport.objects.filter(pk=report.pk).update(state=state, first_submitted_at=submitted)
    report.refresh_from_db()
    return report


def _township_of(household: Household | None) -> Division | None:
    return household.village.parent if household is not None else None


def _outside_township(sw: ScopeWorld, role: str) -> Division | None:
    """A township outside the role's scope (the helper's and the village's: another township)."""
    if role in (Role.HELPER, Role.VILLAGE):
        return _township_of(sw.world.yongtai_other)
    return _township_of(sw.outside(role))


@register("ledger:report_detail")
def _report_detail(sw: ScopeWorld, role: str) -> Case:
    inside = _report(_township_of(sw.inside(role)))
    outside = _report(_outside_township(sw, role))
    return Case(
        inside=Target(kwargs=_pk(inside)),
        outside=outside and Target(kwargs=_pk(outside)),
        denied=role not in REPORT_READERS,
    )


@register("ledger:report_file")
def _report_file(sw: ScopeWorld, role: str) -> Case:
    inside = _report(_township_of(sw.inside(role)))
    outside = _report(_outside_township(sw, role))
    return Case(
        inside=Target(kwargs={"pk": inside.pk, "kind": "xlsx"}),
        outside=outside and Target(kwargs={"pk": outside.pk, "kind": "xlsx"}),
        denied=role not in REPORT_READERS,
    )


@register("ledger:report_action")
def _report_action(sw: ScopeWorld, role: str) -> Case:
    # The township officer saves their draft; the county and the city accept a submitted report.
    reviewer = role in (Role.COUNTY, Role.CITY)
    state = ReportState.SUBMITTED if reviewer else ReportState.DRAFT
    action = "accept" if reviewer else "save"
    inside = _report(_township_of(sw.inside(role)), state)
    outside = _report(_outside_township(sw, role), state)

    def target(report: TownshipReport) -> Target:
        data = {"version": report.version, "basic_situation": "基本情况", "rectification_summary": "", "next_steps": ""}
        return Target(kwargs={"pk": report.pk, "action": action}, method="post", data=data)

    return Case(
        inside=target(inside),
        outside=outside and target(outside),
        denied=role not in {Role.TOWNSHIP, Role.COUNTY, Role.CITY},
    )


@register("ledger:report_start")
def _report_start(sw: ScopeWorld, role: str) -> Case:
    return Case(inside=Target(method="post", data={"campaign": "fz2018"}), denied=role != Role.TOWNSHIP)


@register("ledger:self_check")
def _self_check(sw: ScopeWorld, role: str) -> Case:
    return Case(denied=role not in (Role.TOWNSHIP, Role.COUNTY))


# --- accountability ------------------------------------------------------------------------------


def _accountability(division: Division | None) -> Accountability | None:
    if division is None:
        return None
    return Accountability.objects.create(
        campaign=_campaign(),
        kind="interview",
        person_name="陈晓东",
        unit="镇政府",
        division=division,
        division_code=division.code,
        reason="整改超期",
        decided_by="市扶贫办",
        decided_on=timezone.localdate(),
    )


@register("ledger:accountability_list")
def _accountability_list(sw: ScopeWorld, role: str) -> Case:
    return Case(denied=role not in ACCOUNTABILITY_READERS)


@register("ledger:accountability_create")
def _accountability_create(sw: ScopeWorld, role: str) -> Case:
    return Case(denied=role != Role.CITY)


@register("ledger:accountability_detail")
def _accountability_detail(sw: ScopeWorld, role: str) -> Case:
    inside = _accountability(_township_of(sw.inside(role)))
    outside = _accountability(_outside_township(sw, role))
    return Case(
        inside=Target(kwargs=_pk(inside)),
        outside=outside and Target(kwargs=_pk(outside)),
        denied=role not in ACCOUNTABILITY_READERS,
    )


# --- the API ---------------------------------------------------------------------------------------


@register("api-1.0.0:get_problem")
def _api_problem(sw: ScopeWorld, role: str) -> Case:
    inside = _problem(sw.inside(role))
    outside = _problem(sw.outside(role))
    return Case(
        inside=Target(kwargs={"problem_id": inside.pk}),
        outside=outside and Target(kwargs={"problem_id": outside.pk}),
    )


@register("api-1.0.0:download_evidence")
def _api_evidence(sw: ScopeWorld, role: str) -> Case:
    inside = _problem(sw.inside(role))
    outside = _problem(sw.outside(role))
    return Case(
        inside=Target(kwargs={"evidence_id": inside.evidence.get().pk}),
        outside=outside and Target(kwargs={"evidence_id": outside.evidence.get().pk}),
    )


@register("api-1.0.0:get_report")
def _api_report(sw: ScopeWorld, role: str) -> Case:
    inside = _report(_township_of(sw.inside(role)))
    outside = _report(_outside_township(sw, role))
    return Case(
        inside=Target(kwargs={"report_id": inside.pk}),
        outside=outside and Target(kwargs={"report_id": outside.pk}),
        denied=role not in REPORT_READERS,
    )


def _json_write(sw: ScopeWorld, role: str) -> Case:
    # JSON bodies and PUT: not sendable by the walk; see the module docstring.
    return Case(inside=None)


for _name in (
    "api-1.0.0:update_plan",
    "api-1.0.0:rectify_problem",
    "api-1.0.0:return_problem",
    "api-1.0.0:sign_off_problem",
    "api-1.0.0:add_note",
    "api-1.0.0:upload_evidence",
):
    register(_name)(_json_write)
