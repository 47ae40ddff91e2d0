"""Error views that know the API: a client of /api/ gets JSON, a person gets the Chinese page."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("找不到该记录，或它不在您的管辖范围内。")}, status=404)
    return defaults.page_not_found(request, exception)
