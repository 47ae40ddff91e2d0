from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

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
@paginate(PageNumberPagination, page_size=200)
def list_divisions(request: HttpRequest, level: Division.Level | None = None, parent: str | None = None):
    qs = divisions_for_user(request.user).select_related("parent")
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent)
    return qs.order_by("code")


@router.get("/{code}", response={200: DivisionOut, 404: ErrorOut}, summary="一个行政区划")
def get_division(request: HttpRequest, code: str):
    return get_object_or_404(divisions_for_user(request.user).select_related("parent"), code=code)
