"""The HTTP API, assembled from each app's `api.py` router."""

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from lookback.api.auth import AUTH
from lookback.api.schemas import ErrorOut, FieldErrorOut, ValidationErrorOut
from lookback.checks.api import router as checks_router
from lookback.divisions.api import router as divisions_router
from lookback.ledger.api import router as ledger_router
from lookback.registry.api import router as registry_router


class LookbackAPI(NinjaAPI):
    """Documents the errors every operation can answer, so that clients (and schemathesis) know them:
    401 without a valid login or token, 422 for bad parameters. Later apps' operations get them too."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> dict:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorOut, FieldErrorOut, ValidationErrorOut):
            components.setdefault(model.__name__, model.model_json_schema(ref_template="#/components/schemas/{model}"))
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if operation.get("security"):
                    responses.setdefault("401", _error_response(_("未登录或令牌无效"), "ErrorOut"))
                if operation.get("parameters") or operation.get("requestBody"):
                    responses.setdefault("422", _error_response(_("请求参数有误"), "ValidationErrorOut"))
        return schema


def _error_response(description: str, name: str) -> dict:
    return {
        "description": str(description),
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


api = LookbackAPI(
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
api.add_router("/ledger", ledger_router, tags=["问题台帐"])
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


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": _("找不到该记录，或它不在您的管辖范围内。")}, status=404)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
