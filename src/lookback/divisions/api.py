from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from lookback.api.pagination import BoundedPageNumberPagination
from lookback.api.schemas import ErrorOut
from lookback.divisions.models import Division
from lookback.divisions.selectors import divisions_for_user

router = Router()


class DivisionOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None

    @staticmethod
    def resolve_parent_code(obj: Division) -> str | None:
        return obj.parent.code if obj.parent_id else None


@router.get("/", response=list[DivisionOut], summary="行政区划列表（管辖范围内）")
@paginate(BoundedPageNumberPagination, page_size=200)
def list_divisions(
    request: HttpRequest,
    level: Division.Level | None = None,
    parent: str | None = Query(None, pattern=r"^\d{12}$", description="上级的 12 位行政区划代码"),
):
    qs = divisions_for_user(request.user).select_related("parent")
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent)
    return qs.order_by("code")


@router.get("/{code}", response={200: DivisionOut, 404: ErrorOut}, summary="一个行政区划")
def get_division(request: HttpRequest, code: str):
    division = None
    if len(code) == 12:
        division = divisions_for_user(request.user).select_related("parent").filter(code=code).first()
    if division is None:
        raise HttpError(404, _("找不到该行政区划，或它不在您的管辖范围内。"))
    return division
