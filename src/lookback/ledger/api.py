"""The ledger's API: the same selectors and services as the pages, so the same scope and the same rules
(maker-checker, required reasons, optimistic locking: send the `version` you read; 409 if it is stale)."""

from datetime import date, datetime
from typing import Any

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError, ValidationError
from ninja.files import UploadedFile
from ninja.pagination import paginate

from lookback.accounts.models import User
from lookback.api.pagination import BoundedPageNumberPagination
from lookback.api.schemas import NO_NUL, ErrorOut
from lookback.campaigns.selectors import get_campaign
from lookback.divisions.models import Division
from lookback.ledger import selectors, services
from lookback.ledger.models import (
    Band,
    Evidence,
    Problem,
    ProblemTransition,
    ReportState,
    Severity,
    Source,
    State,
    TownshipReport,
)
from lookback.ledger.services import LedgerError
from lookback.registry.models import Member

router = Router()
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


def _fail(exc: LedgerError) -> HttpError:
    return HttpError(exc.status, exc.message)


def _problem(request: HttpRequest, problem_id: int) -> Problem:
    problem = selectors.get_problem(request.user, problem_id)
    if problem is None:
        raise HttpError(404, _("找不到该问题，或它不在您的管辖范围内。"))
    return problem


def _no_repeats(request: HttpRequest) -> None:
    """A filter given twice is an error, not "the last one wins" (django-ninja's default)."""
    repeated = sorted({name for name in request.GET if len(request.GET.getlist(name)) > 1})
    if repeated:
        # Raised as a validation error so the 422 has the documented shape (detail + errors per field).
        raise ValidationError(
            [{"loc": ("query", name), "msg": _("参数只能出现一次"), "type": "repeated"} for name in repeated]
        )


def _username(user: Any) -> str | None:
    return user.username if user is not None else None


# --- schemas -----------------------------------------------------------------------------------------


class ProblemFilterIn(Schema):
    campaign: str | None = Field(None, pattern=NO_NUL, max_length=30, description="回头看活动代码；默认为当前活动")
    state: State | None = Field(None, description="整改状态")
    dimension: int | None = Field(None, ge=1, le=6, description="维度 1–6")
    source: Source | None = Field(None, description="问题来源")
    band: Band | None = Field(None, description="整改时限分档（相对今天）")
    severity: Severity | None = Field(None, description="严重程度")
    division: str | None = Field(None, pattern=r"^\d{2,12}$", description="行政区划代码或其前缀")
    responsible: str | None = Field(None, pattern=NO_NUL, max_length=50, description="责任人姓名")
    q: str | None = Field(None, pattern=NO_NUL, max_length=40, description="问题描述、户编号、户主或问题编号")


class HouseholdRefOut(Schema):
    id: int
    household_no: str
    head_name: str


class ProblemOut(Schema):
    id: int
    campaign: str
    source: str
    source_label: str
    dimension: int
    dimension_label: str
    category: str
    description: str
    severity: str
    division_code: str
    place: str
    household: HouseholdRefOut | None
    member_id: int | None
    found_on: date
    found_level: str
    rule_code: str
    state: str
    state_label: str
    band: str | None
    version: int
    measures: str
    responsible_unit: str
    responsible_person: str
    responsible_user: str | None
    deadline: date | None
    on_the_spot: bool
    fixed_in_data: bool
    rectified_by: str | None
    rectified_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    return_count: int

    @staticmethod
    def resolve_campaign(obj: Problem) -> str:
        return obj.campaign.code

    @staticmethod
    def resolve_source_label(obj: Problem) -> str:
        return obj.get_source_display()

    @staticmethod
    def resolve_dimension_label(obj: Problem) -> str:
        return obj.get_dimension_display()

    @staticmethod
    def resolve_place(obj: Problem) -> str:
        return obj.division.full_name()

    @staticmethod
    def resolve_found_level(obj: Problem) -> str:
        return obj.get_found_level_display()

    @staticmethod
    def resolve_state_label(obj: Problem) -> str:
        return obj.get_state_display()

    @staticmethod
    def resolve_band(obj: Problem) -> str | None:
        return obj.band()

    @staticmethod
    def resolve_responsible_user(obj: Problem) -> str | None:
        return _username(obj.responsible_user)

    @staticmethod
    def resolve_rectified_by(obj: Problem) -> str | None:
        return _username(obj.rectified_by)

    @staticmethod
    def resolve_closed_by(obj: Problem) -> str | None:
        return _username(obj.closed_by)


class EvidenceOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    note: str
    uploaded_by: str | None
    uploaded_at: datetime
    download: str

    @staticmethod
    def resolve_name(obj: Evidence) -> str:
        return obj.original_name

    @staticmethod
    def resolve_uploaded_by(obj: Evidence) -> str | None:
        return _username(obj.uploaded_by)

    @staticmethod
    def resolve_download(obj: Evidence) -> str:
        return reverse("api-1.0.0:download_evidence", kwargs={"evidence_id": obj.pk})


class TransitionOut(Schema):
    action: str
    action_label: str
    from_state: str
    to_state: str
    actor: str | None
    actor_level: str
    at: datetime
    note: str
    changes: dict

    @staticmethod
    def resolve_action_label(obj: ProblemTransition) -> str:
        return obj.get_action_display()

    @staticmethod
    def resolve_actor(obj: ProblemTransition) -> str | None:
        return _username(obj.actor)

    @staticmethod
    def resolve_actor_level(obj: ProblemTransition) -> str:
        return obj.get_actor_level_display()


class ProblemDetailOut(ProblemOut):
    evidence: list[EvidenceOut]
    timeline: list[TransitionOut]

    @staticmethod
    def resolve_evidence(obj: Problem) -> list[Evidence]:
        return selectors.evidence_of(obj)

    @staticmethod
    def resolve_timeline(obj: Problem) -> list[ProblemTransition]:
        return selectors.timeline(obj)


class ProblemCreateIn(Schema):
    source: Source = Field(..., description="问题来源（不能是规则比对）")
    dimension: int = Field(..., ge=1, le=6)
    description: str = Field(..., min_length=1, pattern=NO_NUL, max_length=2000)
    household_no: str | None = Field(None, pattern=NO_NUL, max_length=40, description="户编号；给出时地点随户")
    member_id: int | None = Field(None, ge=1, le=2**62)
    division_code: str | None = Field(None, pattern=r"^\d{12}$", description="无户时：问题所在的村、乡镇或县")
    category: str = Field("", pattern=NO_NUL, max_length=100)
    severity: Severity = Severity.NORMAL
    found_on: date | None = None
    measures: str = Field("", pattern=NO_NUL, max_length=2000)
    responsible_unit: str = Field("", pattern=NO_NUL, max_length=100)
    responsible_person: str = Field("", pattern=NO_NUL, max_length=50)
    responsible_username: str | None = Field(None, pattern=NO_NUL, max_length=150, description="责任人账号（用户名）")
    deadline: date | None = None


class PlanIn(Schema):
    version: int = Field(..., ge=1, le=2**31, description="读取时的版本号")
    measures: str = Field("", pattern=NO_NUL, max_length=2000)
    responsible_unit: str = Field("", pattern=NO_NUL, max_length=100)
    responsible_person: str = Field("", pattern=NO_NUL, max_length=50)
    responsible_username: str | None = Field(None, pattern=NO_NUL, max_length=150)
    deadline: date | None = None
    note: str = Field("", pattern=NO_NUL, max_length=500)


class VersionIn(Schema):
    version: int = Field(..., ge=1, le=2**31, description="读取时的版本号")
    note: str = Field("", pattern=NO_NUL, max_length=2000)


class ReturnIn(Schema):
    version: int = Field(..., ge=1, le=2**31, description="读取时的版本号")
    reason: str = Field(..., pattern=NO_NUL, max_length=2000, description="退回原因（必填）")


class NoteIn(Schema):
    note: str = Field(..., min_length=1, pattern=NO_NUL, max_length=2000)


class NoteOut(Schema):
    id: int
    at: datetime
    note: str


class ReportOut(Schema):
    id: int | None
    campaign: str
    township_code: str
    township: str
    county: str
    state: str
    state_label: str
    first_submitted_at: datetime | None
    submitted_at: datetime | None
    is_late: bool
    docx_sha256: str
    xlsx_sha256: str
    return_reason: str


def _responsible_user(request: HttpRequest, username: str | None) -> User | None:
    if not username:
        return None
    user = selectors.assignable_users(request.user).filter(username=username).first()
    if user is None:
        raise HttpError(400, _("责任人账号“%(u)s”不存在，或不在您的管辖范围内。") % {"u": username})
    return user


# --- problems ----------------------------------------------------------------------------------------


@router.get("/problems", response=list[ProblemOut], summary="问题台帐（与页面相同的筛选条件）")
@paginate(BoundedPageNumberPagination, page_size=50)
def list_problems(request: HttpRequest, filters: Query[ProblemFilterIn]):
    _no_repeats(request)
    campaign = get_campaign(filters.campaign) if filters.campaign else get_campaign()
    query = selectors.ProblemFilters(
        campaign=campaign.pk if campaign else None,
        state=filters.state or "",
        dimension=filters.dimension,
        source=filters.source or "",
        band=filters.band or "",
        severity=filters.severity or "",
        division=filters.division or "",
        responsible=filters.responsible or "",
        q=filters.q or "",
    )
    problems = selectors.filter_problems(request.user, query).select_related("rectified_by", "closed_by")
    if filters.campaign and campaign is None:
        return problems.none()
    return problems.order_by("id")


@router.get(
    "/problems/{int:problem_id}",
    response={200: ProblemDetailOut, **ERRORS},
    summary="一个问题：方案、佐证材料与处理记录",
)
def get_problem(request: HttpRequest, problem_id: int):
    return _problem(request, problem_id)


@router.post("/problems", response={201: ProblemDetailOut, **ERRORS}, summary="登记问题")
def create_problem(request: HttpRequest, payload: ProblemCreateIn):
    household = None
    division = None
    member = None
    if payload.household_no:
        household = selectors.household_by_number(request.user, payload.household_no)
        if household is None:
            raise HttpError(400, _("户编号“%(n)s”不存在，或不在您的管辖范围内。") % {"n": payload.household_no})
        if payload.member_id:
            member = Member.objects.filter(pk=payload.member_id, household=household).first()
            if member is None:
                raise HttpError(400, _("所选家庭成员不属于该户。"))
    elif payload.division_code:
        division = Division.objects.filter(code=payload.division_code).first()
        if division is None:
            raise HttpError(400, _("行政区划代码“%(c)s”不存在。") % {"c": payload.division_code})
    else:
        division = getattr(request.user, "scope", None)
    try:
        problem = services.create_problem(
            user=request.user,
            source=payload.source,
            dimension=payload.dimension,
            description=payload.description,
            household=household,
            member=member,
            division=division,
            category=payload.category,
            severity=payload.severity,
            found_on=payload.found_on,
            measures=payload.measures,
            responsible_unit=payload.responsible_unit,
            responsible_person=payload.responsible_person,
            responsible_user=_responsible_user(request, payload.responsible_username),
            deadline=payload.deadline,
        )
    except LedgerError as exc:
        raise _fail(exc) from exc
    return Status(201, _problem(request, problem.pk))


@router.put("/problems/{int:problem_id}/plan", response={200: ProblemDetailOut, **ERRORS}, summary="填写或修改整改方案")
def update_plan(request: HttpRequest, problem_id: int, payload: PlanIn):
    problem = _problem(request, problem_id)
    try:
        services.update_plan(
            user=request.user,
            problem=problem,
            version=payload.version,
            measures=payload.measures,
            responsible_unit=payload.responsible_unit,
            responsible_person=payload.responsible_person,
            responsible_user=_responsible_user(request, payload.responsible_username),
            deadline=payload.deadline,
            note=payload.note,
        )
    except LedgerError as exc:
        raise _fail(exc) from exc
    return _problem(request, problem_id)


@router.post(
    "/problems/{int:problem_id}/rectify",
    response={200: ProblemDetailOut, **ERRORS},
    summary="标记整改完成（整改中 → 待核验）",
)
def rectify_problem(request: HttpRequest, problem_id: int, payload: VersionIn):
    problem = _problem(request, problem_id)
    try:
        services.mark_rectified(user=request.user, problem=problem, version=payload.version, note=payload.note)
    except LedgerError as exc:
        raise _fail(exc) from exc
    return _problem(request, problem_id)


@router.post(
    "/problems/{int:problem_id}/return",
    response={200: ProblemDetailOut, **ERRORS},
    summary="退回整改（待核验 → 整改中，须填写原因）",
)
def return_problem(request: HttpRequest, problem_id: int, payload: ReturnIn):
    problem = _problem(request, problem_id)
    try:
        services.return_problem(user=request.user, problem=problem, version=payload.version, reason=payload.reason)
    except LedgerError as exc:
        raise _fail(exc) from exc
    return _problem(request, problem_id)


@router.post(
    "/problems/{int:problem_id}/sign-off",
    response={200: ProblemDetailOut, **ERRORS},
    summary="核验销号（待核验 → 已销号，须由他人、同级或上级办理）",
)
def sign_off_problem(request: HttpRequest, problem_id: int, payload: VersionIn):
    problem = _problem(request, problem_id)
    try:
        services.sign_off(user=request.user, problem=problem, version=payload.version, note=payload.note)
    except LedgerError as exc:
        raise _fail(exc) from exc
    return _problem(request, problem_id)


@router.post("/problems/{int:problem_id}/notes", response={201: NoteOut, **ERRORS}, summary="记录整改进展")
def add_note(request: HttpRequest, problem_id: int, payload: NoteIn):
    problem = _problem(request, problem_id)
    try:
        entry = services.add_note(user=request.user, problem=problem, note=payload.note)
    except LedgerError as exc:
        raise _fail(exc) from exc
    return Status(201, entry)


@router.post(
    "/problems/{int:problem_id}/evidence",
    response={201: EvidenceOut, **ERRORS},
    summary="上传佐证材料（照片、PDF、Excel、Word，≤20 MB）",
)
def upload_evidence(request: HttpRequest, problem_id: int, file: File[UploadedFile], note: Form[str] = ""):
    problem = _problem(request, problem_id)
    try:
        evidence = services.add_evidence(user=request.user, problem=problem, upload=file, note=note[:200])
    except LedgerError as exc:
        raise _fail(exc) from exc
    return Status(201, evidence)


@router.get(
    "/evidence/{int:evidence_id}",
    response={200: None, 404: ErrorOut},
    summary="下载佐证材料",
    url_name="download_evidence",
)
def download_evidence(request: HttpRequest, evidence_id: int):
    evidence = selectors.get_evidence(request.user, evidence_id)
    if evidence is None:
        raise HttpError(404, _("找不到该文件，或它不在您的管辖范围内。"))
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise HttpError(404, _("文件已不在存储中，请联系管理员。")) from exc
    response = FileResponse(
        handle, as_attachment=True, filename=evidence.original_name, content_type=evidence.content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- township reports --------------------------------------------------------------------------------


def _report_row(campaign: Any, township: Division, report: TownshipReport | None) -> dict[str, Any]:
    return {
        "id": report.pk if report else None,
        "campaign": campaign.code,
        "township_code": township.code,
        "township": township.name,
        "county": township.parent.name if township.parent_id else "",
        "state": report.state if report else "",
        "state_label": str(ReportState(report.state).label) if report else _("未开始"),
        "first_submitted_at": report.first_submitted_at if report else None,
        "submitted_at": report.submitted_at if report else None,
        "is_late": bool(report and report.is_late),
        "docx_sha256": report.docx_sha256 if report else "",
        "xlsx_sha256": report.xlsx_sha256 if report else "",
        "return_reason": report.return_reason if report else "",
    }


@router.get(
    "/reports", response={200: list[ReportOut], 404: ErrorOut}, summary="乡镇自查报告报送情况（按期、逾期、未报送）"
)
def list_reports(request: HttpRequest, campaign: str | None = Query(None, max_length=30, pattern=NO_NUL)):
    _no_repeats(request)
    found = get_campaign(campaign) if campaign else get_campaign()
    if found is None:
        raise HttpError(404, _("找不到该回头看活动。"))
    return [
        _report_row(found, row["township"], row["report"]) for row in selectors.report_overview(request.user, found)
    ]


@router.get("/reports/{int:report_id}", response={200: ReportOut, 404: ErrorOut}, summary="一份乡镇自查报告的状态")
def get_report(request: HttpRequest, report_id: int):
    report = selectors.get_report(request.user, report_id)
    if report is None:
        raise HttpError(404, _("找不到该报告，或它不在您的管辖范围内。"))
    return _report_row(report.campaign, report.township, report)
