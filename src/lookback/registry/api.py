"""Read endpoints for households: the household list's filters, scoped and masked like the pages.

No `from __future__ import annotations` here: django-ninja reads the annotations at import time, and
string annotations leave `Query[...]` unresolved (a 500 on every list request).
"""

from datetime import date
from decimal import Decimal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from lookback.accounts.roles import VIEW_PII
from lookback.api.pagination import BoundedPageNumberPagination
from lookback.api.schemas import NO_NUL, ErrorOut
from lookback.core.masking import mask_id_number, mask_phone
from lookback.divisions.models import Division
from lookback.registry.models import Household, Member
from lookback.registry.selectors import HouseholdFilters, filter_households, get_household

router = Router()


def _show_pii(context: dict) -> bool:
    return context["request"].user.can(VIEW_PII)


class HouseholdFilterIn(Schema):
    division: str | None = Field(None, pattern=r"^\d{2,12}$", description="行政区划代码（12 位）或其前缀")
    attribute: str | None = Field(None, max_length=20, pattern=NO_NUL, description="贫困户属性")
    exit_year: int | None = Field(None, ge=1990, le=2100, description="脱贫年度")
    cause: str | None = Field(None, max_length=20, pattern=NO_NUL, description="主要致贫原因")
    q: str | None = Field(None, max_length=40, pattern=NO_NUL, description="姓名、拼音首字母、户编号或证件号码")


def _division_prefix(code: str) -> str:
    """A full 12-digit code names a place at any level (`350125101000` is 嵩口镇): use that place's prefix,
    as the page's selects do. Anything shorter is taken as a prefix already."""
    if len(code) == 12:
        division = Division.objects.filter(code=code).first()
        if division is not None:
            return division.prefix
    return code


class HouseholdOut(Schema):
    id: int
    household_no: str
    division_code: str
    village: str
    township: str
    county: str
    head_name: str
    head_id_number: str
    size: int
    attribute: str
    exit_status: str
    exit_year: int | None
    main_cause: str
    income_per_capita: Decimal | None
    phone: str

    @staticmethod
    def resolve_village(obj: Household) -> str:
        return obj.village.name

    @staticmethod
    def resolve_township(obj: Household) -> str:
        return obj.village.parent.name if obj.village.parent_id else ""

    @staticmethod
    def resolve_county(obj: Household) -> str:
        township = obj.village.parent
        return township.parent.name if township and township.parent_id else ""

    @staticmethod
    def resolve_head_id_number(obj: Household, context: dict) -> str:
        return obj.head_id_number if _show_pii(context) else mask_id_number(obj.head_id_number)

    @staticmethod
    def resolve_phone(obj: Household, context: dict) -> str:
        return obj.phone if _show_pii(context) else mask_phone(obj.phone)


class MemberOut(Schema):
    id: int
    member_no: str | None
    name: str
    sex: str
    id_number: str
    relation: str
    education: str
    school_status: str
    health: str
    labour_skill: str
    work_status: str
    has_basic_medical: bool | None
    has_serious_illness: bool | None
    has_stacked_medical: bool | None
    is_dibao: bool | None
    is_tekun: bool | None
    status: str
    phone: str

    @staticmethod
    def resolve_id_number(obj: Member, context: dict) -> str:
        return obj.id_number if _show_pii(context) else mask_id_number(obj.id_number)

    @staticmethod
    def resolve_phone(obj: Member, context: dict) -> str:
        return obj.phone if _show_pii(context) else mask_phone(obj.phone)


class HelperOut(Schema):
    name: str
    work_unit: str
    is_first: bool


class MeasureOut(Schema):
    measure_type: str
    content: str
    amount: Decimal | None
    responsible_person: str
    start_date: date | None
    end_date: date | None
    status: str


class HouseholdDetailOut(HouseholdOut):
    members: list[MemberOut]
    helpers: list[HelperOut]
    measures: list[MeasureOut]

    @staticmethod
    def resolve_members(obj: Household) -> list[Member]:
        return list(obj.members.all())

    @staticmethod
    def resolve_helpers(obj: Household) -> list[dict]:
        return [
            {"name": a.helper.name, "work_unit": a.helper.work_unit, "is_first": a.is_first}
            for a in obj.assignments.all()
        ]

    @staticmethod
    def resolve_measures(obj: Household) -> list:
        return list(obj.measures.all())


@router.get("/", response=list[HouseholdOut], summary="脱贫户列表（与页面相同的筛选条件）")
@paginate(BoundedPageNumberPagination, page_size=50)
def list_households(request: HttpRequest, filters: Query[HouseholdFilterIn]):
    return filter_households(
        request.user,
        HouseholdFilters(
            division=_division_prefix(filters.division or ""),
            attribute=filters.attribute or "",
            exit_year=filters.exit_year,
            cause=filters.cause or "",
            q=filters.q or "",
        ),
    ).order_by("division_code", "household_no")


@router.get("/{household_id}", response={200: HouseholdDetailOut, 404: ErrorOut}, summary="一户的详情与家庭成员")
def get_household_detail(request: HttpRequest, household_id: int = Path(..., ge=1, le=2**63 - 1)):
    # No `int:` converter: `/api/households/abc` or `-1` is then a 422 in JSON, not Django's HTML 404.
    household = get_household(request.user, household_id)
    if household is None:
        raise HttpError(404, _("找不到该户，或它不在您的管辖范围内。"))
    return household
