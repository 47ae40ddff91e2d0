"""The checks API: the rule catalogue, findings (the list's filters, scoped and masked like the pages),
and starting / following rule runs.

No `from __future__ import annotations`: django-ninja reads the annotations at import time.
"""

import json
from datetime import date, datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate

from lookback.accounts.roles import RUN_CHECKS, VIEW_PII
from lookback.api.schemas import ErrorOut, ValidationErrorOut
from lookback.campaigns.selectors import get_campaign
from lookback.checks import selectors, services
from lookback.checks.catalogue import all_rules, get_rule
from lookback.checks.models import CheckRun, Finding
from lookback.core.masking import mask_id_number

router = Router()


class ParamOut(Schema):
    name: str
    label: str
    value: object


class RuleOut(Schema):
    code: str
    topic: str
    dimension: int
    clause: str
    severity: str
    subject: str
    title: str
    explanation: str
    parameters: list[ParamOut]
    requires_lists: list[str]
    open: int


class FindingFilterIn(Schema):
    campaign: str | None = Field(None, max_length=30, description="活动代码，默认为默认活动")
    rule: str | None = Field(None, pattern=r"^R\d-\d{2}$", description="规则代码")
    dimension: int | None = Field(None, ge=1, le=6)
    topic: str | None = Field(None, max_length=40)
    division: str | None = Field(None, pattern=r"^\d{2,12}$", description="行政区划代码前缀")
    status: str | None = Field(None, pattern=r"^(open|waived|fixed|all)$", description="默认 open")


class FindingOut(Schema):
    id: int
    rule: str
    topic: str
    dimension: int
    clause: str
    title: str
    severity: str
    household_no: str | None
    member_no: str | None
    id_number: str | None
    division_code: str
    detail: str
    status: str
    opened_on: date
    fixed_on: date | None

    @staticmethod
    def resolve_rule(obj: Finding) -> str:
        return obj.rule_code

    @staticmethod
    def resolve_clause(obj: Finding) -> str:
        rule = get_rule(obj.rule_code)
        return rule.clause if rule else ""

    @staticmethod
    def resolve_title(obj: Finding) -> str:
        rule = get_rule(obj.rule_code)
        return str(rule.title) if rule else ""

    @staticmethod
    def resolve_severity(obj: Finding) -> str:
        rule = get_rule(obj.rule_code)
        return rule.severity if rule else ""

    @staticmethod
    def resolve_household_no(obj: Finding) -> str | None:
        return obj.household_no or None

    @staticmethod
    def resolve_member_no(obj: Finding) -> str | None:
        return obj.member.member_no if obj.member_id else None

    @staticmethod
    def resolve_id_number(obj: Finding, context: dict) -> str | None:
        if not obj.member_id:
            return None
        number = obj.member.id_number
        return number if context["request"].user.can(VIEW_PII) else mask_id_number(number)


class RunIn(Schema):
    campaign: str | None = Field(None, max_length=30)
    rules: list[str] = Field(default_factory=list, max_length=100)


class RuleStatOut(Schema):
    rule_code: str
    status: str
    seconds: float
    found: int
    opened: int
    fixed: int
    message: str


class RunOut(Schema):
    id: int
    campaign: str
    status: str
    progress: int
    scope_prefix: str
    created_at: datetime
    finished_at: datetime | None
    found: int
    opened: int
    fixed: int
    error: str
    stats: list[RuleStatOut]


def _run_out(run: CheckRun) -> RunOut:
    return RunOut(
        id=run.pk,
        campaign=run.campaign.code,
        status=run.status,
        progress=run.progress,
        scope_prefix=run.scope_prefix,
        created_at=run.created_at,
        finished_at=run.finished_at,
        found=run.found,
        opened=run.opened,
        fixed=run.fixed,
        error=run.error,
        stats=[RuleStatOut.from_orm(s) for s in run.stats.all()],
    )


def _campaign(code: str | None):
    campaign = get_campaign(code or None)
    if campaign is None:
        raise HttpError(404, _("没有该回头看活动。"))
    return campaign


@router.get("/rules", response={200: list[RuleOut], 404: ErrorOut}, summary="规则目录（含当前范围内的待处理数）")
def rules(request: HttpRequest, campaign: str | None = None):
    c = _campaign(campaign)
    counts = selectors.rule_counts(request.user, c)
    return [
        RuleOut(
            code=r.code,
            topic=r.topic,
            dimension=r.dimension,
            clause=r.clause,
            severity=r.severity,
            subject=r.subject,
            title=str(r.title),
            explanation=str(r.explanation),
            parameters=[ParamOut(name=p.name, label=str(p.label), value=v) for p, v in r.param_values(c)],
            requires_lists=list(r.requires_lists),
            open=counts.get(r.code, {}).get(Finding.Status.OPEN, 0),
        )
        for r in all_rules()
    ]


# An unknown campaign answers 404; documented here because the paginated response schema is a list.
_UNKNOWN_CAMPAIGN = {"responses": {404: {"description": "没有该回头看活动"}}}


@router.get(
    "/findings", response=list[FindingOut], summary="问题线索列表（按管辖范围）", openapi_extra=_UNKNOWN_CAMPAIGN
)
@paginate(PageNumberPagination)
def findings(request: HttpRequest, filters: Query[FindingFilterIn]):
    c = _campaign(filters.campaign)
    status = filters.status or Finding.Status.OPEN
    qs = selectors.filter_findings(
        request.user,
        c,
        selectors.FindingFilters(
            rule=filters.rule or "",
            dimension=filters.dimension,
            topic=filters.topic or "",
            division=filters.division or "",
            status="" if status == "all" else status,
        ),
    ).select_related("member")
    return qs.order_by("rule_code", "division_code", "id")


@router.get("/findings/{finding_id}", response={200: FindingOut, 404: ErrorOut}, summary="一条问题线索")
def finding(request: HttpRequest, finding_id: int):
    f = selectors.get_finding(request.user, finding_id)
    if f is None:
        return Status(404, {"detail": _("找不到该问题线索，或它不在您的管辖范围内。")})
    return f


class RunListOut(Schema):
    id: int
    campaign: str
    status: str
    progress: int
    scope_prefix: str
    created_at: datetime
    finished_at: datetime | None
    found: int
    opened: int
    fixed: int

    @staticmethod
    def resolve_campaign(obj: CheckRun) -> str:
        return obj.campaign.code


@router.get("/runs", response=list[RunListOut], summary="运行记录（管辖范围内外的上级或下级范围）")
@paginate(PageNumberPagination)
def runs(request: HttpRequest):
    return selectors.runs_for_user(request.user).order_by("-created_at", "-id")


@router.post(
    "/runs",
    response={202: RunOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut},
    summary="在后台运行规则检查",
)
def start(request: HttpRequest, payload: RunIn):
    # ninja's Schema reads attributes, so a JSON array body would pass as "all defaults": refuse it.
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        message = _("请求体必须是 JSON 对象")
        return Status(422, {"detail": message, "errors": [{"field": "body", "message": message}]})
    c = _campaign(payload.campaign)
    try:
        run = services.start_run(user=request.user, campaign=c, rule_codes=payload.rules or None, source="api")
    except services.ChecksError as exc:
        status = 403 if not request.user.can(RUN_CHECKS) else 400
        return Status(status, {"detail": str(exc)})
    return Status(202, _run_out(selectors.get_run(request.user, run.pk) or run))


@router.get("/runs/{run_id}", response={200: RunOut, 404: ErrorOut}, summary="运行记录与进度")
def run(request: HttpRequest, run_id: int):
    r = selectors.get_run(request.user, run_id)
    if r is None:
        return Status(404, {"detail": _("找不到该运行记录。")})
    return _run_out(r)
