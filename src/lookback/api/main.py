"""The HTTP API, assembled from each app's `api.py` router."""

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from lookback.api.auth import AUTH
from lookback.checks.api import router as checks_router
from lookback.divisions.api import router as divisions_router
from lookback.registry.api import router as registry_router

api = NinjaAPI(
    title="回头看 Lookback API",
    version="1.0.0",
    description=_(
        "稳定脱贫“回头看”工作平台的接口。使用页面登录的会话，或在个人中心生成的令牌（Authorization: Bearer …）。"
    ),
    auth=AUTH,
    urls_namespace="api-1.0.0",
)
api.add_router("/divisions", divisions_router, tags=["行政区划"])
api.add_router("/households", registry_router, tags=["脱贫户"])
api.add_router("/checks", checks_router, tags=["规则检查"])


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = []
    for error in exc.errors:
        location = ".".join(str(part) for part in error.get("loc", []) if part not in ("query", "path", "body"))
        details.append({"field": location, "message": _("参数“%(field)s”的值无效") % {"field": location}})
    return api.create_response(request, {"detail": _("请求参数有误"), "errors": details}, status=422)


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": _("未登录或令牌无效")}, status=401)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
